"""The outbox relay: moves committed domain events, in commit order, to the services that
subscribe to them. At least once: an event is marked relayed only after every subscriber
took it, and subscribers drop duplicates by event id.

Two buses behind one interface: Redis Streams with one consumer group per subscribing
service when Redis is configured, direct delivery otherwise. `EventRelay` is plain Python
(tests drive it in-process); `EventRelayActor` runs it as a detached Ray actor."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable

from sqlalchemy import select, update

from p2p.events import Envelope
from storage.db import Database, utcnow
from storage.models.events import OutboxEvent

log = logging.getLogger("p2p.relay")
Deliver = Callable[[str, Envelope], Awaitable[None]]
STREAM = "p2p:events"


class DirectBus:
    """Deliver to each subscriber in turn; a failure stops the batch so order holds."""

    def __init__(self, subs: dict[str, list[str]], deliver: Deliver):
        self.subs, self.deliver = subs, deliver

    async def publish(self, event: Envelope) -> None:
        for key in self.subs.get(event.topic, []):
            await self.deliver(key, event)

    async def consume_once(self) -> int:
        return 0

    async def close(self) -> None:
        return None


class RedisStreamBus:
    """XADD every event to one stream; each subscribing service reads it through its own
    consumer group, acknowledging after the handler committed. Unacknowledged entries
    (a crash mid-delivery) are read again first."""

    def __init__(self, url: str, subs: dict[str, list[str]], deliver: Deliver, *, stream: str = STREAM):
        import redis.asyncio as redis  # optional: only when P2P_REDIS_URL is set

        self.r = redis.from_url(url)
        self.subs, self.deliver, self.stream = subs, deliver, stream
        self.groups = sorted({k for keys in subs.values() for k in keys})
        self._ready = False

    async def _ensure_groups(self) -> None:
        if self._ready:
            return
        from redis.exceptions import ResponseError  # optional, as above

        for group in self.groups:
            try:
                await self.r.xgroup_create(self.stream, group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._ready = True

    async def publish(self, event: Envelope) -> None:
        await self._ensure_groups()
        await self.r.xadd(self.stream, {"event": event.model_dump_json()}, maxlen=100_000, approximate=True)

    async def consume_once(self) -> int:
        from redis.exceptions import ResponseError  # optional, as above

        await self._ensure_groups()
        handled = 0
        for group in self.groups:
            for start in ("0", ">"):  # own pending entries first, then new ones
                try:
                    batches: Any = await self.r.xreadgroup(group, "relay", {self.stream: start}, count=100)
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    # the stream is gone (Redis restarted without persistence, or flushed):
                    # make the groups again; the outbox keeps what was not relayed yet
                    self._ready = False
                    return handled
                for _stream, entries in batches or []:
                    for entry_id, fields in entries:
                        event = Envelope.model_validate(json.loads(fields[b"event"]))
                        if group in self.subs.get(event.topic, []):
                            await self.deliver(group, event)  # raises: entry stays pending, retried
                            handled += 1
                        await self.r.xack(self.stream, group, entry_id)
        return handled

    async def close(self) -> None:
        await self.r.aclose()


class EventRelay:
    def __init__(self, db: Database, bus, *, batch: int = 100):
        self.db, self.bus, self.batch = db, bus, batch

    async def pump_once(self) -> int:
        """Relay one batch of unrelayed events in commit order; returns how many."""
        async with self.db.reader() as session:
            rows = list((await session.scalars(
                select(OutboxEvent).where(OutboxEvent.relayed_at.is_(None)).order_by(OutboxEvent.seq)
                .limit(self.batch))).all())
        done = 0
        for row in rows:
            try:
                await self.bus.publish(Envelope.model_validate(row))
            except Exception:
                log.warning("delivery failed; will retry", extra={"event_id": str(row.id), "topic": row.topic},
                            exc_info=True)
                break
            async with self.db.writer() as session, session.begin():
                await session.execute(update(OutboxEvent).where(OutboxEvent.seq == row.seq)
                                      .values(relayed_at=utcnow()))
            done += 1
        return done

    async def drain(self, rounds: int = 50) -> int:
        """Relay and consume until nothing is left (tests, shutdown)."""
        total = 0
        for _ in range(rounds):
            n = await self.pump_once() + await self.bus.consume_once()
            total += n
            if n == 0:
                break
        return total

    async def run(self, poll_s: float, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                n = await self.pump_once() + await self.bus.consume_once()
            except Exception:
                log.exception("relay round failed")
                n = 0
            if n == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=poll_s)
                except asyncio.TimeoutError:
                    pass


class EventRelayActor:
    """The relay as a detached actor: one per cluster, restarted by Ray if it dies. `build`
    (a picklable function of the roof's) wires the relay to the services it delivers to."""

    def __init__(self, build: Callable[[], tuple[EventRelay, float]]):
        self.relay, self.poll_s = build()
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def start(self) -> bool:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.relay.run(self.poll_s, self.stop))
        return True

    async def drain(self) -> int:
        return await self.relay.drain()

    async def shutdown(self) -> None:
        self.stop.set()
