"""The outbox relay: committed events only, in order, at least once, on both buses."""
from __future__ import annotations

import uuid

import pytest

from actors.relay import DirectBus, EventRelay, RedisStreamBus
from p2p.events import DomainEvent
from storage.db import Database
from storage.uow import UnitOfWork
from tests.factories.common import REDIS_URL


class ThingHappened(DomainEvent):
    topic = "thing.happened"
    n: str


class Recorder:
    def __init__(self, fail_first: int = 0):
        self.seen: list[tuple[str, str]] = []
        self.fail_first = fail_first

    async def __call__(self, key, event):
        if self.fail_first:
            self.fail_first -= 1
            raise RuntimeError("subscriber down")
        self.seen.append((key, event.entity_id))


async def emit(db, *entity_ids, fail: bool = False):
    try:
        async with UnitOfWork(db, source="test") as uow:
            for e in entity_ids:
                uow.emit(ThingHappened(n=e), e)
            if fail:
                raise RuntimeError("rolled back")
    except RuntimeError:
        pass


@pytest.fixture()
async def db(database_url):
    d = Database(database_url)
    relay = EventRelay(d, DirectBus({}, Recorder()))
    await relay.drain()  # events left by other tests are not ours
    yield d
    await d.dispose()


async def test_only_committed_events_are_relayed_in_order(db):
    rec = Recorder()
    relay = EventRelay(db, DirectBus({"thing.happened": ["svc"]}, rec))
    ids = [uuid.uuid4().hex for _ in range(3)]
    await emit(db, *ids)
    await emit(db, "never", fail=True)
    assert await relay.drain() == 3
    assert rec.seen == [("svc", i) for i in ids]
    assert await relay.drain() == 0


async def test_a_failed_delivery_is_retried_and_keeps_the_order(db):
    rec = Recorder(fail_first=1)
    relay = EventRelay(db, DirectBus({"thing.happened": ["svc"]}, rec))
    ids = [uuid.uuid4().hex for _ in range(2)]
    await emit(db, *ids)
    assert await relay.pump_once() == 0 and rec.seen == []
    await relay.drain()
    assert rec.seen == [("svc", i) for i in ids]


@pytest.mark.skipif(not REDIS_URL, reason="P2P_TEST_REDIS_URL not set")
async def test_redis_streams_deliver_to_each_group_and_redeliver_after_a_crash(db):
    stream = f"p2p:test-events:{uuid.uuid4().hex}"
    rec = Recorder(fail_first=1)
    bus = RedisStreamBus(REDIS_URL, {"thing.happened": ["a", "b"]}, rec, stream=stream)
    relay = EventRelay(db, bus)
    ids = [uuid.uuid4().hex for _ in range(2)]
    await emit(db, *ids)
    try:
        await relay.pump_once()
        with pytest.raises(RuntimeError):
            await bus.consume_once()  # group a's first delivery fails: stays pending
        await relay.drain()
        assert [e for k, e in rec.seen if k == "a"] == ids
        assert [e for k, e in rec.seen if k == "b"] == ids
        assert await bus.consume_once() == 0
    finally:
        await bus.r.delete(stream)
        await bus.close()


@pytest.mark.skipif(not REDIS_URL, reason="P2P_TEST_REDIS_URL not set")
async def test_the_bus_makes_its_groups_again_when_the_stream_is_lost(db):
    stream = f"p2p:test-events:{uuid.uuid4().hex}"
    rec = Recorder()
    bus = RedisStreamBus(REDIS_URL, {"thing.happened": ["a"]}, rec, stream=stream)
    relay = EventRelay(db, bus)
    try:
        assert await bus.consume_once() == 0  # groups made
        await bus.r.delete(stream)  # as a Redis restart without persistence would
        assert await bus.consume_once() == 0  # NOGROUP: noticed, groups to be made again
        event_id = uuid.uuid4().hex
        await emit(db, event_id)
        await relay.drain()
        assert [e for k, e in rec.seen if k == "a"][-1:] == [event_id]
    finally:
        await bus.r.delete(stream)
        await bus.close()
