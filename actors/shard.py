"""The base of every actor that owns entities: trip capacity now, custody next.

An entity (a trip, a shipment) lives in exactly one shard (`shard_of`: crc32 of its id,
stable across processes and restarts). Inside its shard:

- its **view** is loaded from the database on first use (`load_view`) and rebuilt from it after a
  restart or a failed commit; the database stays the truth and keeps its own guards
  (conditional updates, CHECK constraints) as the last line of defence;
- every call is **decided in memory**, synchronously (nothing is awaited between reading the
  view and changing it), so the calls on one entity are serialised in arrival order;
- **group commit**: a call that changes something records its writes and events in a `Tx`;
  the writes of every call decided while the previous commit was in flight go to the
  database in one transaction (`persist`, multi-row statements), and only then are those
  calls answered. No call is acknowledged before its write committed;
- a **refusal** with nothing written answers at once, from memory, with no transaction; a
  refusal that wrote something on its way (a due hold expired first) answers once that is
  committed;
- a call that **changes nothing** (a replay, a read) answers once the entity's last write
  is durable: no answer shows an uncommitted write;
- **idempotency**: a call with a client key (`idem=`) that arrives while the same key is in
  flight gets the first call's answer; afterwards the entity's own rows answer replays
  (the subclass keys them by the client's id);
- a **failed commit** applies nothing: every view it touched is dropped and rebuilt from the
  database, and every call of that batch (and those decided on top of it) is decided again
  once on the rebuilt view; a call whose batch fails twice gets `ShardWriteFailed` (503).

A subclass defines the entity: `load_view(session, key)` builds a view (None: no such entity),
`persist(uow, writes)` writes a batch (raise `Stale` when a guard finds the database
disagreeing), and optionally `sweep()` (run every `sweep_s`). The base is plain Python,
tested without Ray; `actors/registry.py` makes a subclass an actor.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Generic, Hashable, TypeVar

from p2p.errors import ProblemError, Unavailable
from p2p.events import DomainEvent
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger("p2p.shard")
V = TypeVar("V")


def shard_of(entity_id: uuid.UUID | str, shards: int) -> int:
    """The shard owning `entity_id`: stable across processes (unlike `hash()`)."""
    return zlib.crc32(str(uuid.UUID(str(entity_id))).encode()) % shards


class Stale(Exception):
    """The database disagrees with a view: a guard of `persist` matched fewer rows."""


class ShardWriteFailed(Unavailable):
    """The shard could not commit this call's change, twice; nothing of it was applied."""
    code = "shard.write_failed"


class Tx:
    """What one call decided: writes for `persist` and events for the outbox."""

    __slots__ = ("writes", "events")

    def __init__(self) -> None:
        self.writes: list[Any] = []
        self.events: list[tuple[DomainEvent, Any]] = []

    def write(self, *writes: Any) -> None:
        self.writes.extend(writes)

    def emit(self, event: DomainEvent, entity_id: Any) -> None:
        self.events.append((event, entity_id))

    def __bool__(self) -> bool:
        return bool(self.writes or self.events)


Decide = Callable[[Any, Tx], Any]


@dataclass(eq=False)
class _Call:
    key: Hashable
    decide: Decide
    tx: Tx
    result: Any = None
    refusal: ProblemError | None = None
    failures: int = 0  # commits of this call that failed
    answer: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    committed_first_time: bool = False

    def finish(self) -> None:
        if not self.answer.done():
            if self.refusal is not None:
                self.answer.set_exception(self.refusal)
            else:
                self.answer.set_result(self.result)
        self.settled.set()

    def fail(self, exc: BaseException) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)
        self.settled.set()


class Shard(Generic[V]):
    """One shard of entities keyed by UUID. Subclasses implement `load_view` and `persist`."""

    source: ClassVar[str] = "shard"  # the outbox source of its events
    remote_methods: ClassVar[frozenset[str]] = frozenset()  # what `call_many` may run

    def __init__(self, shard: int, shards: int, db: Database, *, batch_max: int = 512,
                 batch_wait_s: float = 0.0, sweep_s: float = 0.0):
        if not 0 <= shard < shards:
            raise ValueError(f"shard {shard} outside 0..{shards - 1}")
        self.shard, self.shards, self.db = shard, shards, db
        self.batch_max, self.batch_wait_s, self.sweep_s = batch_max, batch_wait_s, sweep_s
        self._views: dict[Hashable, V] = {}
        self._loading: dict[Hashable, asyncio.Future] = {}
        self._queue: list[_Call] = []
        self._last_write: dict[Hashable, _Call] = {}
        self._idem: dict[Hashable, asyncio.Future] = {}
        self._committer: asyncio.Task | None = None
        self._sweeper: asyncio.Task | None = None
        self.stats = {"batches": 0, "calls_committed": 0, "failed_batches": 0, "largest_batch": 0}

    # -- for subclasses ------------------------------------------------------------------
    async def load_view(self, session: Any, key: Any) -> V | None:
        raise NotImplementedError

    async def persist(self, uow: UnitOfWork, writes: list[Any]) -> None:
        raise NotImplementedError

    async def sweep(self) -> None:
        """Periodic work (expiry); runs every `sweep_s` seconds when that is positive."""

    async def warm(self) -> int:
        """Load views ahead of the first call (on start; lazy loading is always enough).
        Returns how many it loaded."""
        return 0

    # -- ownership and views ---------------------------------------------------------------
    def owns(self, entity_id: Any) -> bool:
        return shard_of(entity_id, self.shards) == self.shard

    async def view(self, key: Any) -> V | None:
        """The entity's view, loaded once however many calls ask at the same time."""
        if key in self._views:
            return self._views[key]
        if key in self._loading:
            await asyncio.shield(self._loading[key])
            return self._views.get(key)
        done = asyncio.get_running_loop().create_future()
        self._loading[key] = done
        try:
            async with self.db.reader() as session:
                loaded = await self.load_view(session, key)
            if loaded is not None:
                self._views[key] = loaded
            return loaded
        finally:
            del self._loading[key]
            done.set_result(None)

    def cached(self, key: Any) -> V | None:
        return self._views.get(key)

    def forget(self, key: Any) -> None:
        """Drop a view; the next call rebuilds it from the database."""
        self._views.pop(key, None)

    # -- the one way in --------------------------------------------------------------------
    async def run(self, key: Any, decide: Decide, *, idem: Hashable | None = None) -> Any:
        """Decide `decide(view, tx)` on the entity's view and answer once what it wrote is
        durable. `decide` changes the view only together with `tx.write(...)`, and raises a
        ProblemError to refuse."""
        if not self.owns(key):
            raise ValueError(f"{key} belongs to shard {shard_of(key, self.shards)}, not {self.shard}")
        self._ensure_sweeper()
        if idem is None:
            return await self._run(key, decide)
        if idem in self._idem:
            return await asyncio.shield(self._idem[idem])
        first = self._idem[idem] = asyncio.get_running_loop().create_future()
        try:
            result = await self._run(key, decide)
            first.set_result(result)
            return result
        except asyncio.CancelledError:
            first.cancel()
            raise
        except BaseException as exc:
            first.set_exception(exc)
            first.exception()  # retrieved: no warning when no duplicate was waiting
            raise
        finally:
            del self._idem[idem]

    async def _run(self, key: Any, decide: Decide) -> Any:
        for _ in range(3):
            call = await self._decide(key, decide)
            if call.tx:
                self._enqueue(call)
                return await call.answer
            before = self._last_write.get(key)
            if before is not None:
                await before.settled.wait()
                if not before.committed_first_time:
                    continue  # it read a write that failed: decide again on the rebuilt view
            return call.result
        raise ShardWriteFailed("The entity kept changing under this read; retry.", retry_after=1)

    async def _decide(self, key: Any, decide: Decide, call: _Call | None = None) -> _Call:
        view = await self.view(key)
        tx = Tx()
        call = call or _Call(key, decide, tx)
        call.tx, call.refusal = tx, None
        try:
            call.result = decide(view, tx)
        except ProblemError as exc:
            if not tx:
                raise
            call.refusal = exc  # it wrote on its way to the refusal: answer after the commit
        except BaseException:
            self.forget(key)  # it may have changed the view before failing
            raise
        return call

    def _enqueue(self, call: _Call) -> None:
        self._queue.append(call)
        self._last_write[call.key] = call
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit_forever())

    # -- group commit --------------------------------------------------------------------
    async def _commit_forever(self) -> None:
        while self._queue:
            if self.batch_wait_s > 0 and len(self._queue) < self.batch_max:
                await asyncio.sleep(self.batch_wait_s)
            batch, self._queue = self._queue[:self.batch_max], self._queue[self.batch_max:]
            try:
                async with UnitOfWork(self.db, source=self.source) as uow:
                    await self.persist(uow, [w for c in batch for w in c.tx.writes])
                    await uow.emit_many([e for c in batch for e in c.tx.events])
            except Exception as exc:  # a guard, a constraint, the connection: nothing applied
                self.stats["failed_batches"] += 1
                log.warning("shard %s: a batch of %s calls failed (%s: %s); rebuilding its views",
                            self.shard, len(batch), type(exc).__name__, exc)
                await self._recover(batch)
                continue
            self.stats["batches"] += 1
            self.stats["calls_committed"] += len(batch)
            self.stats["largest_batch"] = max(self.stats["largest_batch"], len(batch))
            for c in batch:
                c.committed_first_time = c.failures == 0
                c.finish()
                if self._last_write.get(c.key) is c:
                    del self._last_write[c.key]

    async def _recover(self, batch: list[_Call]) -> None:
        """Drop every view the failed batch touched, and decide its calls, and those decided
        on top of it, again on views rebuilt from the database."""
        redo, self._queue = batch + self._queue, []
        for c in batch:
            c.failures += 1
        for key in {c.key for c in redo}:
            self.forget(key)
        for c in redo:
            if c.failures >= 2:
                c.fail(ShardWriteFailed("The change could not be committed; nothing of it was applied. Retry.",
                                        retry_after=1))
                continue
            try:
                await self._decide(c.key, c.decide, c)
            except ProblemError as exc:
                c.fail(exc)
                continue
            except Exception as exc:
                c.fail(exc)
                continue
            if c.tx:
                self._enqueue(c)
            else:
                c.finish()  # the database already holds what it wanted (a replay)
        for c in redo:
            if c.settled.is_set() and self._last_write.get(c.key) is c:
                del self._last_write[c.key]

    async def call_many(self, calls: list[tuple[str, tuple, dict]]) -> list[tuple[bool, Any]]:
        """Several calls in one message (a client's coalesced calls, so an actor call costs
        one round trip for many): run concurrently, so they share group commits. Each
        answers `(True, value)` or `(False, error)`; errors are values, not raised, so one
        refusal costs no traceback across the process boundary."""
        async def one(method: str, args: tuple, kwargs: dict) -> tuple[bool, Any]:
            if method not in self.remote_methods:
                return False, ValueError(f"{type(self).__name__} has no remote method {method!r}")
            try:
                return True, await getattr(self, method)(*args, **kwargs)
            except ProblemError as exc:
                return False, exc
            except Exception as exc:  # a bug or the database: the caller raises it
                return False, exc

        return list(await asyncio.gather(*(one(*c) for c in calls)))

    async def flush(self) -> None:
        """Wait until every call decided so far is committed (or failed)."""
        while self._committer is not None and not self._committer.done():
            await asyncio.shield(self._committer)

    # -- lifecycle ---------------------------------------------------------------------------
    def _ensure_sweeper(self) -> None:
        if self.sweep_s <= 0 or (self._sweeper is not None and not self._sweeper.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # constructed outside a loop: started by the first call
        self._sweeper = loop.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        try:
            await self.warm()
        except Exception:
            log.warning("shard %s: warming failed", self.shard, exc_info=True)
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                await self.sweep()
            except Exception:
                log.warning("shard %s: sweep failed", self.shard, exc_info=True)

    async def ping(self) -> int:
        self._ensure_sweeper()
        return self.shard

    async def close(self) -> None:
        await self.flush()
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.db.dispose()
