"""Everything one process needs to run services: settings, database, KV, blob store, the
typed clients, the local service objects and (in the full topology) handles to the remote
ones. The registry is handed in by the roof; the kit never imports it."""
from __future__ import annotations

import logging
from typing import Any

from ray import serve

from actors import registry as actors
from actors.kv import ActorKV
from actors.relay import DirectBus, EventRelay, RedisStreamBus
from deployments.kit.auth import Authenticator
from deployments.kit.clients import Client, UnknownCall, invoke_handle, invoke_local
from deployments.kit.context import Principal
from deployments.kit.events import dispatch_event, subscriptions
from deployments.kit.spec import ServiceSpec, TTLCache, has_permission
from p2p.events import Envelope
from p2p.settings import Settings, get_settings
from storage.blobs import LocalBlobStore
from storage.db import Database
from storage.kv import KV, MemoryKV, RedisKV

log = logging.getLogger("p2p.runtime")
COMPACT_APP = "platform"


def app_name(key: str, topology: str) -> str:
    """The Serve application that runs service `key`."""
    return COMPACT_APP if topology == "compact" else key


def make_kv(redis_url: str | None, *, under_ray: bool) -> KV:
    """Redis when configured; else the cluster-wide KV actor under Ray, a dict without."""
    if redis_url:
        return RedisKV(redis_url)
    return ActorKV(actors.kv_store()) if under_ray else MemoryKV()


class Runtime:
    def __init__(self, registry: dict[str, ServiceSpec], local: list[str], *, settings: Settings | None = None,
                 kv: KV | None = None, under_ray: bool = False, db: Database | None = None,
                 topology: str = "full"):
        self.settings = settings or get_settings()
        self.topology = topology
        self.registry = registry
        self.under_ray = under_ray
        self.db = db or Database(self.settings.effective_database_url)
        self.kv = kv or make_kv(self.settings.redis_url, under_ray=under_ray)
        self._clients: dict[str, Client] = {}
        check_clients(registry)
        self.services = {key: registry[key].service(self) for key in local}
        self._handles: dict[str, Any] = {}
        self._perm_cache = TTLCache(self.settings.permission_cache_s)
        self._reference = TTLCache(600.0)
        self._started = False
        self.blobs = LocalBlobStore(self.settings.data_dir / "blobs")
        self.auth = Authenticator(self.kv, self.invoke)

    async def startup(self) -> None:
        if self._started:
            return
        self._started = True
        for svc in self.services.values():
            await svc.startup()

    async def shutdown(self) -> None:
        await self.db.dispose()
        await self.kv.close()

    def client(self, key: str) -> Client:
        if key not in self._clients:
            if key not in self.registry:
                raise UnknownCall(f"no service {key!r} in the registry")
            self._clients[key] = Client(key, self.registry[key].internals, self.invoke)
        return self._clients[key]

    def relay(self) -> EventRelay:
        """An outbox relay delivering to the subscribers through this runtime."""
        subs = subscriptions(self.registry)
        bus: Any = (RedisStreamBus(self.settings.redis_url, subs, self.deliver_event) if self.settings.redis_url
                    else DirectBus(subs, self.deliver_event))
        return EventRelay(self.db, bus)

    def handle(self, key: str) -> Any:
        if key not in self._handles:
            self._handles[key] = serve.get_app_handle(app_name(key, self.topology))
        return self._handles[key]

    async def deliver_event(self, key: str, envelope: Envelope) -> None:
        """Hand a domain event to the subscribing service `key`, wherever it runs."""
        if key in self.services:
            await dispatch_event(self.services[key], envelope)
        else:
            status, value = await self.handle(key).handle_event.remote(key, envelope)
            if status == "err":
                raise value

    async def invoke(self, key: str, method: str, args: tuple = (), kwargs: dict | None = None) -> Any:
        """Call `@internal` `method` of service `key`, local or remote."""
        if key in self.services:
            return await invoke_local(self.services[key], method, args, kwargs or {})
        return await invoke_handle(self.handle(key), "call", key, method, args, kwargs or {})

    async def forward_op(self, key: str, method: str, ctx: Any, kwargs: dict) -> Any:
        """Run operation `method` of service `key` for the edge, which already authenticated
        the request and checked the operation's permission."""
        if key in self.services:
            return await getattr(self.services[key], method)(ctx, **kwargs)
        return await invoke_handle(self.handle(key), "call_op", key, method, (ctx,), kwargs)

    async def reference(self, key: str, method: str, *args: Any) -> Any:
        """A call for reference data that changes rarely (a place by id), cached for ten
        minutes in this process. Errors are not cached."""
        cache_key = (key, method, args)
        value = self._reference.get(cache_key)
        if value is None:
            value = await self.invoke(key, method, args)
            self._reference.put(cache_key, value)
        return value

    async def permissions(self, principal: Principal) -> frozenset[str]:
        """Effective permissions (from the Authorization Service, cached briefly), narrowed
        to the API key's scopes when the caller used one."""
        if principal.kind == "system":
            return frozenset({"*"})
        perms = self._perm_cache.get(principal.user_id)
        if perms is None:
            perms = frozenset(await self.invoke("authz", "effective_permissions", (principal.user_id,)))
            self._perm_cache.put(principal.user_id, perms)
        if principal.scopes is not None:
            perms = frozenset(s for s in principal.scopes if has_permission(perms, s))
        return perms

    def forget_permissions(self, user_id: Any) -> None:
        self._perm_cache.drop(user_id)


def check_clients(registry: dict[str, ServiceSpec]) -> None:
    """Every declared client names a registered service, and every method of a Protocol
    client is an `@internal` of it: a wrong call fails at startup, not on a user's request."""
    for spec in registry.values():
        for attr, uses in spec.clients.items():
            if uses.key not in registry:
                raise UnknownCall(f"{spec.key}.{attr} uses {uses.key!r}, which is not in the registry")
            if uses.iface is registry[uses.key].service:
                continue
            missing = set(uses.methods()) - set(registry[uses.key].internals)
            if missing:
                raise UnknownCall(f"{spec.key}.{attr}: {sorted(missing)} are not @internal methods of {uses.key}")
