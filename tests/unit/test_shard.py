"""The shard base without Ray: group commit, answers only after the commit, refusals from
memory, reads that wait for the last write, recovery from a failed batch, idempotency."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, insert, select, update

from actors.shard import Shard, ShardWriteFailed, Stale, Tx, shard_of
from p2p.errors import Conflict
from storage.db import Database
from storage.models.events import OutboxEvent

counters = Table("toy_counters", MetaData(), Column("id", Uuid, primary_key=True), Column("n", Integer))


class Negative(Conflict):
    code = "toy.negative"


class Counters(Shard[dict]):
    """A toy entity: a counter that never goes below zero."""

    source = "toy"
    remote_methods = frozenset({"add"})

    def __init__(self, db: Database, **kw):
        super().__init__(0, 1, db, **kw)
        self.gate: asyncio.Event | None = None  # when set: persist waits for it
        self.fail_next = 0  # persist raises Stale this many times
        self.transactions = 0

    async def load_view(self, session, key):
        n = await session.scalar(select(counters.c.n).where(counters.c.id == key))
        return None if n is None else {"n": n}

    async def persist(self, uow, writes):
        self.transactions += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise Stale("injected")
        net: dict = {}
        for key, delta in writes:
            net[key] = net.get(key, 0) + delta
        for key, delta in net.items():
            await uow.session.execute(update(counters).where(counters.c.id == key).values(n=counters.c.n + delta))

    async def add(self, key, delta: int, idem=None) -> int:
        def decide(view, tx: Tx) -> int:
            if view["n"] + delta < 0:
                raise Negative("It would go below zero.")
            view["n"] += delta
            tx.write((key, delta))
            return view["n"]
        return await self.run(key, decide, idem=idem)

    async def read(self, key) -> int:
        return await self.run(key, lambda view, tx: view["n"])


@pytest.fixture()
async def db(tmp_path):
    d = Database(f"sqlite:///{tmp_path / 'toy.db'}")
    async with d.write_engine.begin() as conn:  # the two tables a shard writes: its own and the outbox
        await conn.run_sync(counters.create)
        await conn.run_sync(OutboxEvent.__table__.create)
    yield d
    await d.dispose()


async def new_counter(db, n=0) -> uuid.UUID:
    key = uuid.uuid4()
    async with db.write_engine.begin() as conn:
        await conn.execute(insert(counters).values(id=key, n=n))
    return key


async def stored(db, key) -> int:
    async with db.read_engine.connect() as conn:
        return await conn.scalar(select(counters.c.n).where(counters.c.id == key))


async def test_calls_decided_during_a_commit_share_the_next_transaction(db):
    shard, key = Counters(db), await new_counter(db)
    answers = await asyncio.gather(*(shard.add(key, 1) for _ in range(50)))
    assert sorted(answers) == list(range(1, 51)) and await stored(db, key) == 50
    assert shard.stats["calls_committed"] == 50 and shard.transactions < 10 and shard.stats["largest_batch"] > 10


async def test_no_call_is_answered_before_its_write_commits(db):
    shard, key = Counters(db), await new_counter(db)
    shard.gate = asyncio.Event()
    calls = [asyncio.ensure_future(shard.add(key, 1)) for _ in range(5)]
    read = asyncio.ensure_future(shard.read(key))
    await asyncio.sleep(0.05)
    assert not any(c.done() for c in calls) and not read.done()  # decided, not durable: no answer
    assert await stored(db, key) == 0
    shard.gate.set()
    assert sorted(await asyncio.gather(*calls)) == [1, 2, 3, 4, 5]
    assert await read == 5 and await stored(db, key) == 5


async def test_a_refusal_answers_at_once_from_memory(db):
    shard, key = Counters(db), await new_counter(db, n=1)
    await shard.read(key)
    shard.gate = asyncio.Event()
    pending = asyncio.ensure_future(shard.add(key, -1))  # decided: 0, commit held at the gate
    while shard.transactions == 0:
        await asyncio.sleep(0.01)
    before = shard.transactions
    with pytest.raises(Negative):
        await asyncio.wait_for(shard.add(key, -1), timeout=1)  # refused on the view, no transaction
    assert shard.transactions == before
    shard.gate.set()
    assert await pending == 0


async def test_a_failed_batch_is_rebuilt_and_its_calls_decided_again_once(db):
    shard, key = Counters(db), await new_counter(db)
    await shard.read(key)
    shard.fail_next = 1
    answers = await asyncio.gather(*(shard.add(key, 1) for _ in range(10)))
    assert sorted(answers) == list(range(1, 11)) and await stored(db, key) == 10
    assert shard.stats["failed_batches"] == 1


async def test_a_batch_that_fails_twice_answers_an_error_and_applies_nothing(db):
    shard, key = Counters(db), await new_counter(db, n=3)
    shard.fail_next = 2
    with pytest.raises(ShardWriteFailed) as err:
        await shard.add(key, 1)
    assert err.value.status == 503 and await stored(db, key) == 3
    assert await shard.read(key) == 3  # the view was rebuilt from the database


async def test_a_second_writer_behind_the_shards_back_is_seen_after_a_failed_batch(db):
    shard, key = Counters(db), await new_counter(db, n=5)
    await shard.read(key)
    async with db.write_engine.begin() as conn:  # someone else takes 5
        await conn.execute(update(counters).where(counters.c.id == key).values(n=0))
    shard.fail_next = 1  # the guard catches it: the batch fails and the view is rebuilt
    with pytest.raises(Negative):
        await shard.add(key, -1)  # decided again on the rebuilt view: refused
    assert await stored(db, key) == 0


async def test_concurrent_calls_with_one_client_key_write_once(db):
    shard, key = Counters(db), await new_counter(db)
    answers = await asyncio.gather(*(shard.add(key, 1, idem="booking-1") for _ in range(5)))
    assert answers == [1] * 5 and await stored(db, key) == 1


async def test_call_many_answers_values_and_errors_without_raising(db):
    shard, key = Counters(db), await new_counter(db)
    out = await shard.call_many([("add", (key, 2), {}), ("add", (key, -5), {}), ("drop_tables", (), {})])
    assert out[0] == (True, 2) and not out[1][0] and isinstance(out[1][1], Negative)
    assert not out[2][0] and isinstance(out[2][1], ValueError)


async def test_a_shard_refuses_an_entity_it_does_not_own(db):
    key = next(k for k in iter(uuid.uuid4, None) if shard_of(k, 2) == 1)
    shard = Shard(0, 2, db)
    with pytest.raises(ValueError):
        await shard.run(key, lambda view, tx: None)
