"""The embedded KV store as a Ray actor: same contract, shared by every process."""
from __future__ import annotations

import pytest
import ray

from actors.kv import ActorKV
from tests.factories.kv import check_kv_contract

pytestmark = pytest.mark.ray


async def test_the_kv_actor_keeps_the_contract(ray_session):
    from actors.registry import kv_store

    await check_kv_contract(ActorKV(kv_store()))


def test_two_processes_see_the_same_store(ray_session):
    from actors.registry import kv_store

    @ray.remote(num_cpus=0)
    def write_from_a_worker(key):
        import asyncio

        from actors.kv import ActorKV
        from actors.registry import kv_store

        return asyncio.run(ActorKV(kv_store()).set(key, b"from-worker"))

    assert ray.get(write_from_a_worker.remote("shared:key")) is True
    assert ray.get(kv_store().get.remote("shared:key")) == b"from-worker"
