"""The embedded KV store when no Redis is configured: one named, detached actor per cluster."""
from __future__ import annotations

from storage.kv import KV, MemoryKV


class KVStore(MemoryKV):
    """Same semantics as MemoryKV; Ray serialises calls, so each operation is atomic."""


class ActorKV(KV):
    """Client of the cluster-wide KV actor (`actors.kv.KVStore`)."""

    def __init__(self, handle) -> None:
        self._a = handle  # from actors.registry.kv_store()

    async def get(self, key):
        return await self._a.get.remote(key)

    async def set(self, key, value, *, ttl=None, nx=False):
        return await self._a.set.remote(key, value, ttl=ttl, nx=nx)

    async def delete(self, key):
        return await self._a.delete.remote(key)

    async def incr(self, key, *, ttl):
        return await self._a.incr.remote(key, ttl=ttl)

    async def ttl(self, key):
        return await self._a.ttl.remote(key)
