"""The behaviour every KV backend must have (memory, Redis, Ray actor)."""
from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.kv import KV


async def gone_within(kv: KV, key: str, seconds: float) -> bool:
    """Poll until `key` has no value, for at most `seconds`; True if it went."""
    deadline = time.monotonic() + seconds
    while await kv.get(key) is not None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def check_kv_contract(kv: KV) -> None:
    k = f"contract:{uuid.uuid4().hex}"
    assert await kv.get(k) is None
    assert await kv.set(k, b"v1") is True
    assert await kv.get(k) == b"v1"
    assert await kv.ttl(k) is None

    assert await kv.set(k, b"v2", nx=True) is False  # nx keeps the first value
    assert await kv.get(k) == b"v1"
    assert await kv.delete(k) is True and await kv.delete(k) is False
    assert await kv.set(k, b"v3", nx=True) is True

    short = k + ":ttl"
    await kv.set(short, b"x", ttl=0.3)
    assert 0 < await kv.ttl(short) <= 0.3
    assert await gone_within(kv, short, 0.45)  # the TTL lapses (by 0.45 s, as a fixed sleep checked)
    assert await kv.get(short) is None and await kv.ttl(short) is None

    counter = k + ":n"
    first = await kv.incr(counter, ttl=10)
    second = await kv.incr(counter, ttl=10)
    assert first[0] == 1 and second[0] == 2 and 0 < second[1] <= 10

    # concurrent nx: exactly one winner
    race = k + ":race"
    wins = await asyncio.gather(*[kv.set(race, str(i).encode(), nx=True, ttl=5) for i in range(20)])
    assert sum(wins) == 1
    counts = await asyncio.gather(*[kv.incr(k + ":c", ttl=5) for _ in range(25)])
    assert sorted(c for c, _ in counts) == list(range(1, 26))
