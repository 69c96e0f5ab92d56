"""The one place that names actors and finds or creates them (named, detached)."""
from __future__ import annotations

from typing import Callable

import ray

from actors.capacity import TripCapacity
from actors.custody.shard import CustodyShard
from actors.kv import KVStore
from actors.relay import EventRelayActor
from p2p.settings import get_settings

NAMESPACE = "p2p"


def _get_or_create(cls, name: str, **options):
    remote_cls = ray.remote(cls)
    return remote_cls.options(
        name=name, namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
        max_restarts=-1, max_task_retries=0, **options,
    ).remote()


def kv_store():
    return _get_or_create(KVStore, "p2p-kv", num_cpus=0)


def event_relay(build: Callable, env: dict[str, str] | None = None):
    """The cluster's one relay actor; `build` wires it (see EventRelayActor)."""
    opts = {"runtime_env": {"env_vars": env}} if env else {}
    return ray.remote(EventRelayActor).options(
        name="p2p-event-relay", namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
        max_restarts=-1, num_cpus=0, **opts,
    ).remote(build)


def kill_all() -> None:
    shards = [f"{CAPACITY_PREFIX}-{i}" for i in range(get_settings().capacity_shards)]
    shards += [f"{CUSTODY_PREFIX}-{i}" for i in range(get_settings().custody_shards)]
    for name in ("p2p-kv", "p2p-event-relay", *shards):
        try:
            ray.kill(ray.get_actor(name, namespace=NAMESPACE))
        except ValueError:
            pass


CAPACITY_PREFIX = "trip-capacity"


def trip_capacity_shard(i: int, *, shards: int | None = None, database_url: str | None = None,
                        prefix: str = CAPACITY_PREFIX):
    """Shard `i` of the trip-capacity actors (`trip-capacity-i`). The arguments only matter
    when this call creates it. Retried tasks are safe: every call is idempotent by booking id."""
    n = shards or get_settings().capacity_shards
    return ray.remote(TripCapacity).options(
        name=f"{prefix}-{i}", namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
        max_restarts=-1, max_task_retries=3, num_cpus=0, max_concurrency=200,
    ).remote(i, n, database_url)


CUSTODY_PREFIX = "custody"


def custody_shard(i: int, *, shards: int | None = None, database_url: str | None = None,
                  prefix: str = CUSTODY_PREFIX):
    """Shard `i` of the custody actors (`custody-i`). Retried tasks are safe: every call is
    idempotent (scans by scan id, photos by photo id, events by event id, open and deliver
    by shipment)."""
    n = shards or get_settings().custody_shards
    return ray.remote(CustodyShard).options(
        name=f"{prefix}-{i}", namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
        max_restarts=-1, max_task_retries=3, num_cpus=0, max_concurrency=200,
    ).remote(i, n, database_url)
