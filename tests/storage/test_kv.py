"""The KV contract on the in-process and Redis backends (the Ray actor: tests/ray)."""
from __future__ import annotations

import pytest

from storage.kv import MemoryKV, RedisKV
from tests.factories.common import REDIS_URL
from tests.factories.kv import check_kv_contract


async def test_memory_kv_keeps_the_contract():
    await check_kv_contract(MemoryKV())


@pytest.mark.skipif(not REDIS_URL, reason="P2P_TEST_REDIS_URL not set")
async def test_redis_kv_keeps_the_contract():
    kv = RedisKV(REDIS_URL)
    try:
        await check_kv_contract(kv)
    finally:
        await kv.close()
