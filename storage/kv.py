"""Key-value store with TTLs: idempotency records, token revocation, rate limits, caches.

One interface, three real backends: Redis (`P2P_REDIS_URL`), a Ray actor shared by the
whole cluster (the embedded default under Ray), and an in-process dictionary (tests and
the actor's own storage). All pass `tests/factories/kv.py:check_kv_contract`.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod


class KV(ABC):
    @abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    async def set(self, key: str, value: bytes, *, ttl: float | None = None, nx: bool = False) -> bool:
        """Store `value`; with `nx` only if the key is absent. True if stored."""

    @abstractmethod
    async def delete(self, key: str) -> bool: ...

    @abstractmethod
    async def incr(self, key: str, *, ttl: float) -> tuple[int, float]:
        """Add one; the first increment starts a window of `ttl` seconds. Returns (count, seconds left)."""

    @abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds left, None if the key is absent or has no expiry."""

    async def close(self) -> None:
        return None


class MemoryKV(KV):
    """A dictionary with expiry times; single-process (and the Ray KV actor's store)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        item = self._data.get(key)
        if item and item[1] is not None and item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item

    def _sweep(self) -> None:
        if len(self._data) > 10_000:
            for k in list(self._data):
                self._live(k)

    async def get(self, key):
        item = self._live(key)
        return item[0] if item else None

    async def set(self, key, value, *, ttl=None, nx=False):
        if nx and self._live(key):
            return False
        self._sweep()
        self._data[key] = (bytes(value), time.monotonic() + ttl if ttl else None)
        return True

    async def delete(self, key):
        return self._data.pop(key, None) is not None

    async def incr(self, key, *, ttl):
        item = self._live(key)
        if item is None:
            self._data[key] = (b"1", time.monotonic() + ttl)
            return 1, float(ttl)
        count = int(item[0]) + 1
        self._data[key] = (str(count).encode(), item[1])
        return count, max(0.0, (item[1] or 0) - time.monotonic())

    async def ttl(self, key):
        item = self._live(key)
        if not item or item[1] is None:
            return None
        return max(0.0, item[1] - time.monotonic())


class RedisKV(KV):
    def __init__(self, url: str, namespace: str = "p2p:kv:") -> None:
        import redis.asyncio as redis  # optional: only when P2P_REDIS_URL is set

        self._r = redis.from_url(url)
        self._ns = namespace

    async def get(self, key):
        return await self._r.get(self._ns + key)

    async def set(self, key, value, *, ttl=None, nx=False):
        px = int(ttl * 1000) if ttl else None
        return bool(await self._r.set(self._ns + key, value, px=px, nx=nx))

    async def delete(self, key):
        return bool(await self._r.delete(self._ns + key))

    async def incr(self, key, *, ttl):
        k = self._ns + key
        async with self._r.pipeline(transaction=True) as p:
            p.incr(k)
            p.pexpire(k, int(ttl * 1000), nx=True)
            p.pttl(k)
            count, _, pttl = await p.execute()
        return int(count), max(0.0, pttl / 1000)

    async def ttl(self, key):
        pttl = await self._r.pttl(self._ns + key)
        return None if pttl < 0 else pttl / 1000

    async def close(self):
        await self._r.aclose()
