"""Everything one process needs to run services: settings, database, KV, the typed calls,
the local service objects and (in the full topology) handles to the remote ones."""
from __future__ import annotations

import logging
from typing import Any

from deployments.kit.clients import Calls, invoke_handle, invoke_local
from deployments.kit.context import Principal
from deployments.kit.spec import ServiceSpec, TTLCache
from p2p.settings import Settings, get_settings
from storage.db import Database
from storage.kv import KV, make_kv

log = logging.getLogger("p2p.runtime")
COMPACT_APP = "platform"


def app_name(key: str, topology: str) -> str:
    """The Serve application that runs service `key`."""
    return COMPACT_APP if topology == "compact" else key


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
        self.calls = Calls(self)
        self.services = {key: registry[key].service(self) for key in local}
        self._handles: dict[str, Any] = {}
        self._perm_cache = TTLCache(self.settings.permission_cache_s)
        self._reference = TTLCache(600.0)
        self._started = False
        self._blobs = None
        from deployments.kit.auth import Authenticator

        self.auth = Authenticator(self)

    async def startup(self) -> None:
        if self._started:
            return
        self._started = True
        for svc in self.services.values():
            await svc.startup()

    async def shutdown(self) -> None:
        await self.db.dispose()
        await self.kv.close()

    @property
    def blobs(self):
        """The blob store (a local folder under data_dir), created on first use."""
        if self._blobs is None:
            from storage.blobs import LocalBlobStore

            self._blobs = LocalBlobStore(self.settings.data_dir / "blobs")
        return self._blobs

    def handle(self, key: str):
        if key not in self._handles:
            from ray import serve

            self._handles[key] = serve.get_app_handle(app_name(key, self.topology))
        return self._handles[key]

    async def deliver_event(self, key: str, event) -> None:
        """Hand a domain event to the subscribing service `key`, wherever it runs."""
        if key in self.services:
            from deployments.kit.events import dispatch_event

            await dispatch_event(self.services[key], event)
        else:
            status, value = await self.handle(key).handle_event.remote(key, event)
            if status == "err":
                raise value

    async def invoke(self, key: str, method: str, args=(), kwargs=None) -> Any:
        kwargs = kwargs or {}
        if key in self.services:
            return await invoke_local(self.services[key], method, args, kwargs)
        return await invoke_handle(self.handle(key), key, method, args, kwargs)

    async def reference(self, key: str, method: str, *args) -> Any:
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
            perms = frozenset(await self.calls.authz.effective_permissions(principal.user_id))
            self._perm_cache.put(principal.user_id, perms)
        if principal.scopes is not None:
            from deployments.kit.spec import has_permission

            perms = frozenset(s for s in principal.scopes if has_permission(perms, s))
        return perms

    def forget_permissions(self, user_id) -> None:
        self._perm_cache.drop(user_id)
