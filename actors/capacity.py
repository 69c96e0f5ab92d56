"""Trip-capacity shards: every hold, confirm, release and expiry of a trip's capacity runs
in the one shard that owns the trip (`shard_of`: crc32 of the trip id, stable across
processes and restarts), serialised per trip by an asyncio lock.

Durability and guards, in this order, inside every mutating call:
1. the change commits to the database (counters on `trip_capacity` by a conditional UPDATE
   whose WHERE re-checks the capacity, the hold row's status by a conditional UPDATE on
   its current status, and the outbox event, all in one transaction);
2. only then is the in-memory view updated and the call answered.
The view is a cache: loaded per trip on first use, rebuilt at (re)start, reloaded whenever
the database disagrees with it. CHECK constraints on `trip_capacity` stop an oversell even
by a second writer that bypasses the shard.

Idempotency: a hold is keyed by (booking id, trip id); a retried hold returns the existing
one (or `capacity.hold_mismatch` if the amounts differ); confirm and release of a hold in
the target state answer its state again.

Expiry: a hold carries `expires_at`. A background task in each shard expires due holds
every `capacity_sweep_s`, and a hold call expires the trip's due holds first. Expiry and
confirm both move the hold row out of `held` by a conditional UPDATE, so when they race
exactly one wins and the capacity is released (or booked) exactly once.

`TripCapacity` is plain Python; `actors.registry.trip_capacity_shard` makes it a Ray actor.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from p2p.errors import Conflict, NotFound, Unprocessable
from p2p.events import DomainEvent
from p2p.settings import get_settings
from storage.db import Database, utcnow
from storage.models.trips import CapacityHold, LegCapacity
from storage.uow import UnitOfWork

log = logging.getLogger("p2p.capacity")
DIMS = ("g", "cm3", "items")
ACTIVE = ("held", "confirmed")


async def _remaining(uow, trip_id, leg_ids) -> list[Any]:
    """What each leg has left after this transaction's change, for the event: subscribers
    (the route planner) take absolute values, so a redelivered event does no harm."""
    rows = await uow.all(select(LegCapacity).where(LegCapacity.trip_id == trip_id,
                                                   LegCapacity.leg_id.in_(list(leg_ids))))
    return [{"leg_id": str(r.leg_id), **{f"remaining_{d}": getattr(r, f"capacity_{d}") - getattr(r, f"held_{d}")
                                         - getattr(r, f"booked_{d}") for d in DIMS}} for r in rows]


class LegFree(BaseModel):
    """What one leg has left after a change."""

    leg_id: uuid.UUID
    remaining_g: int
    remaining_cm3: int
    remaining_items: int


class CapacityEvent(DomainEvent):
    """A hold changed. `remaining` is each held leg's free capacity after the change
    (absolute values, so a redelivered event does no harm)."""

    trip_id: uuid.UUID
    booking_id: uuid.UUID
    leg_ids: list[uuid.UUID]
    weight_g: int
    volume_cm3: int
    items: int
    status: str = "held"
    reason: str | None = None
    remaining: list[LegFree] = []


class CapacityHeld(CapacityEvent):
    topic: ClassVar[str] = "capacity.held"


class CapacityConfirmed(CapacityEvent):
    topic: ClassVar[str] = "capacity.confirmed"


class CapacityReleased(CapacityEvent):
    topic: ClassVar[str] = "capacity.released"


class CapacityHoldExpired(CapacityEvent):
    topic: ClassVar[str] = "capacity.hold_expired"


class TripCapacityChanged(DomainEvent):
    topic: ClassVar[str] = "trip.capacity_changed"
    trip_id: uuid.UUID
    capacity_g: int
    capacity_cm3: int
    capacity_items: int
    remaining: list[LegFree] = []


CAPACITY_EVENTS = (CapacityHeld, CapacityConfirmed, CapacityReleased, CapacityHoldExpired, TripCapacityChanged)


def shard_of(trip_id: uuid.UUID | str, shards: int) -> int:
    """The shard owning `trip_id`: stable across processes (unlike `hash()`)."""
    return zlib.crc32(str(uuid.UUID(str(trip_id))).encode()) % shards


class TripFull(Conflict):
    """A leg of the trip has not enough free weight, volume or item slots for the hold."""
    code = "trip.full"


class TripNotBookable(Conflict):
    """The trip is not published, was cancelled, or the hold names legs it does not have."""
    code = "trip.not_bookable"


class CapacityBelowCommitted(Conflict):
    """The new capacity is below what is already held and booked on a leg."""
    code = "trip.capacity_below_committed"


class HoldNotFound(NotFound):
    """No hold of this booking on this trip."""
    code = "capacity.hold_not_found"


class HoldExpired(Conflict):
    """The hold passed its TTL before it was confirmed; its capacity was released."""
    code = "capacity.hold_expired"


class HoldReleased(Conflict):
    """The hold was released (booking cancelled or declined, trip cancelled)."""
    code = "capacity.hold_released"


class HoldMismatch(Conflict):
    """A hold for this booking exists with other amounts or legs (an id reused)."""
    code = "capacity.hold_mismatch"


class HoldInvalid(Unprocessable):
    """Amounts must be positive and at least one leg named."""
    code = "capacity.invalid_hold"


class HoldOut(BaseModel):
    booking_id: uuid.UUID
    trip_id: uuid.UUID
    leg_ids: list[uuid.UUID]
    weight_g: int
    volume_cm3: int
    items: int
    status: str
    expires_at: datetime


class LegRemaining(BaseModel):
    leg_id: uuid.UUID
    capacity_g: int
    capacity_cm3: int
    capacity_items: int
    held_g: int
    held_cm3: int
    held_items: int
    booked_g: int
    booked_cm3: int
    booked_items: int
    remaining_g: int
    remaining_cm3: int
    remaining_items: int


class RemainingOut(BaseModel):
    trip_id: uuid.UUID
    open: bool
    legs: list[LegRemaining]


@dataclass
class _Leg:
    open: bool
    cap: list[int]
    held: list[int]
    booked: list[int]

    def fits(self, amount: tuple[int, ...]) -> bool:
        return all(h + b + a <= c for c, h, b, a in zip(self.cap, self.held, self.booked, amount))


@dataclass
class _Hold:
    leg_ids: tuple[uuid.UUID, ...]
    amount: tuple[int, int, int]
    status: str
    expires_at: datetime


@dataclass
class _Trip:
    legs: dict[uuid.UUID, _Leg] = field(default_factory=dict)
    holds: dict[uuid.UUID, _Hold] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return bool(self.legs) and all(leg.open for leg in self.legs.values())


class _Refused(Exception):
    def __init__(self, leg_id):
        self.leg_id = leg_id


def _leg_delta(cols: dict[str, int]):
    """VALUES for adding `cols` ({'held_g': +w, 'booked_g': -w, ...}) to a leg row."""
    return {name: getattr(LegCapacity, name) + delta for name, delta in cols.items()}


class TripCapacity:
    """One shard. Async methods; in-process it runs on the caller's loop, under Ray as an
    async actor (Ray runs its calls concurrently; the per-trip locks serialise them)."""

    def __init__(self, shard: int = 0, shards: int = 1, database_url: str | None = None, *,
                 sweep_s: float | None = None):
        settings = get_settings()
        if not 0 <= shard < shards:
            raise ValueError(f"shard {shard} outside 0..{shards - 1}")
        self.shard, self.shards = shard, shards
        self.db = Database(database_url or settings.effective_database_url)
        self.sweep_s = settings.capacity_sweep_s if sweep_s is None else sweep_s
        self._trips: dict[uuid.UUID, _Trip] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._sweeper: asyncio.Task | None = None
        self._ensure_sweeper()

    # -- lifecycle ---------------------------------------------------------------------
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
            await self.load()
        except Exception:
            log.warning("capacity shard %s: initial load failed", self.shard, exc_info=True)
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                await self.expire_due()
            except Exception:
                log.warning("capacity shard %s: sweep failed", self.shard, exc_info=True)

    async def ping(self) -> int:
        self._ensure_sweeper()
        return self.shard

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.db.dispose()

    def owns(self, trip_id: uuid.UUID) -> bool:
        return shard_of(trip_id, self.shards) == self.shard

    async def load(self) -> int:
        """Rebuild the view of every open trip of this shard from the database."""
        async with self.db.reader() as s:
            ids = (await s.scalars(select(LegCapacity.trip_id).where(LegCapacity.open).distinct())).all()
        mine = [t for t in ids if self.owns(t)]
        for trip_id in mine:
            async with self._locks[trip_id]:
                if trip_id not in self._trips:
                    await self._reload(trip_id)
        return len(mine)

    # -- the cache ---------------------------------------------------------------------
    async def _reload(self, trip_id: uuid.UUID) -> _Trip | None:
        async with self.db.reader() as s:
            legs = (await s.scalars(select(LegCapacity).where(LegCapacity.trip_id == trip_id))).all()
            holds = (await s.scalars(select(CapacityHold).where(
                CapacityHold.trip_id == trip_id, CapacityHold.status.in_(ACTIVE)))).all()
        if not legs:
            self._trips.pop(trip_id, None)
            return None
        view = _Trip(
            legs={r.leg_id: _Leg(r.open, [getattr(r, f"capacity_{d}") for d in DIMS],
                                 [getattr(r, f"held_{d}") for d in DIMS],
                                 [getattr(r, f"booked_{d}") for d in DIMS]) for r in legs},
            holds={h.booking_id: _Hold(tuple(uuid.UUID(x) for x in h.leg_ids),
                                       (h.weight_g, h.volume_cm3, h.items), h.status, h.expires_at)
                   for h in holds})
        self._trips[trip_id] = view
        return view

    async def _view(self, trip_id: uuid.UUID) -> _Trip | None:
        if not self.owns(trip_id):
            raise ValueError(f"trip {trip_id} belongs to shard {shard_of(trip_id, self.shards)}, not {self.shard}")
        self._ensure_sweeper()
        return self._trips.get(trip_id) or await self._reload(trip_id)

    @staticmethod
    def _out(trip_id, booking_id, h: _Hold) -> HoldOut:
        return HoldOut(booking_id=booking_id, trip_id=trip_id, leg_ids=list(h.leg_ids), weight_g=h.amount[0],
                       volume_cm3=h.amount[1], items=h.amount[2], status=h.status, expires_at=h.expires_at)

    @staticmethod
    def _apply(view: _Trip, h: _Hold, held: int, booked: int) -> None:
        for leg_id in h.leg_ids:
            leg = view.legs[leg_id]
            for i, a in enumerate(h.amount):
                leg.held[i] += held * a
                leg.booked[i] += booked * a

    # -- operations --------------------------------------------------------------------
    async def hold(self, trip_id, leg_ids, booking_id, weight_g: int, volume_cm3: int, items: int,
                   ttl_s: float) -> HoldOut:
        """Hold capacity on `leg_ids` of the trip for a booking, for `ttl_s` seconds."""
        trip_id, booking_id = uuid.UUID(str(trip_id)), uuid.UUID(str(booking_id))
        legs = tuple(dict.fromkeys(uuid.UUID(str(x)) for x in leg_ids))
        amount = (int(weight_g), int(volume_cm3), int(items))
        if not legs or min(amount) <= 0 or ttl_s <= 0:
            raise HoldInvalid("A hold needs at least one leg, positive amounts and a positive TTL.")
        async with self._locks[trip_id]:
            view = await self._view(trip_id)
            if view is None:
                raise TripNotBookable("The trip is not open for bookings.", trip_id=str(trip_id))
            if booking_id in view.holds:
                return self._replay(trip_id, booking_id, view.holds[booking_id], legs, amount)
            await self._expire_due_of(trip_id, view, utcnow())
            self._check_fits(trip_id, view, legs, amount)
            h = _Hold(legs, amount, "held", utcnow() + timedelta(seconds=ttl_s))
            try:
                await self._write_hold(trip_id, booking_id, h)
            except (_Refused, IntegrityError) as exc:
                # The database disagrees with the cache (a second writer, a replay after a
                # crash): believe the database.
                view = await self._reload(trip_id)
                existing = await self._stored_hold(trip_id, booking_id)
                if existing is not None:
                    return self._replay(trip_id, booking_id, existing, legs, amount)
                if view is None:
                    raise TripNotBookable("The trip is not open for bookings.", trip_id=str(trip_id)) from None
                self._check_fits(trip_id, view, legs, amount)
                raise TripFull("The trip has no room for this hold.", trip_id=str(trip_id),
                               leg_id=str(getattr(exc, "leg_id", legs[0]))) from None
            view.holds[booking_id] = h
            self._apply(view, h, held=1, booked=0)
            return self._out(trip_id, booking_id, h)

    def _check_fits(self, trip_id, view: _Trip, legs, amount) -> None:
        unknown = [str(x) for x in legs if x not in view.legs]
        if unknown or not view.open:
            raise TripNotBookable("The trip is not open for bookings on these legs.", trip_id=str(trip_id),
                                  unknown_legs=unknown)
        for leg_id in legs:
            leg = view.legs[leg_id]
            if not leg.fits(amount):
                raise TripFull("The trip has no room for this hold.", trip_id=str(trip_id), leg_id=str(leg_id),
                               remaining={f"remaining_{d}": c - h - b for d, c, h, b in
                                          zip(DIMS, leg.cap, leg.held, leg.booked)})

    def _replay(self, trip_id, booking_id, h: _Hold, legs, amount) -> HoldOut:
        if h.amount != amount or set(h.leg_ids) != set(legs):
            raise HoldMismatch("This booking holds the trip with other amounts or legs.",
                               booking_id=str(booking_id), trip_id=str(trip_id))
        return self._out(trip_id, booking_id, h)

    async def _stored_hold(self, trip_id, booking_id) -> _Hold | None:
        async with self.db.reader() as s:
            row = await s.get(CapacityHold, (booking_id, trip_id))
        if row is None:
            return None
        h = _Hold(tuple(uuid.UUID(x) for x in row.leg_ids), (row.weight_g, row.volume_cm3, row.items),
                  row.status, row.expires_at)
        if trip_id in self._trips:
            self._trips[trip_id].holds[booking_id] = h
        return h

    async def _write_hold(self, trip_id, booking_id, h: _Hold) -> None:
        w = dict(zip(DIMS, h.amount))
        async with UnitOfWork(self.db, source="trips") as uow:
            for leg_id in h.leg_ids:
                guard = [LegCapacity.trip_id == trip_id, LegCapacity.leg_id == leg_id, LegCapacity.open.is_(True)]
                guard += [getattr(LegCapacity, f"held_{d}") + getattr(LegCapacity, f"booked_{d}") + w[d]
                          <= getattr(LegCapacity, f"capacity_{d}") for d in DIMS]
                res = await uow.session.execute(
                    update(LegCapacity).where(*guard).values(**_leg_delta({f"held_{d}": w[d] for d in DIMS}))
                    .execution_options(synchronize_session=False))
                if res.rowcount != 1:  # type: ignore[attr-defined]
                    raise _Refused(leg_id)
            uow.add(CapacityHold(booking_id=booking_id, trip_id=trip_id, leg_ids=[str(x) for x in h.leg_ids],
                                 weight_g=h.amount[0], volume_cm3=h.amount[1], items=h.amount[2], status="held",
                                 expires_at=h.expires_at))
            uow.emit(self._event(CapacityHeld, trip_id, booking_id, h,
                                 remaining=await _remaining(uow, trip_id, h.leg_ids)), entity_id=trip_id)
            await uow.flush()

    @staticmethod
    def _event(cls: type[CapacityEvent], trip_id, booking_id, h: _Hold, **extra) -> CapacityEvent:
        return cls(trip_id=trip_id, booking_id=booking_id, leg_ids=list(h.leg_ids), weight_g=h.amount[0],
                   volume_cm3=h.amount[1], items=h.amount[2], **extra)

    async def _transition(self, trip_id, booking_id, h: _Hold, to: str, *, now: datetime,
                          topic: type[CapacityEvent], **extra) -> bool:
        """Move the hold from its current status to `to` and its amounts between the
        counters, in one transaction, only if the row is still in that status (and, from
        `held`, still before or after its expiry as the target needs)."""
        frm = h.status
        where = [CapacityHold.booking_id == booking_id, CapacityHold.trip_id == trip_id, CapacityHold.status == frm]
        if to == "confirmed":
            where.append(CapacityHold.expires_at > now)
        elif to == "expired":
            where.append(CapacityHold.expires_at <= now)
        counters: dict[str, int] = {}
        for d, a in zip(DIMS, h.amount):
            counters[f"{'held' if frm == 'held' else 'booked'}_{d}"] = -a
            if to == "confirmed":
                counters[f"booked_{d}"] = a
        async with UnitOfWork(self.db, source="trips") as uow:
            res = await uow.session.execute(update(CapacityHold).where(*where).values(status=to, updated_at=now)
                                            .execution_options(synchronize_session=False))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return False
            for leg_id in h.leg_ids:
                await uow.session.execute(
                    update(LegCapacity).where(LegCapacity.trip_id == trip_id, LegCapacity.leg_id == leg_id)
                    .values(**_leg_delta(counters)).execution_options(synchronize_session=False))
            uow.emit(self._event(topic, trip_id, booking_id, h, status=to, **extra,
                                 remaining=await _remaining(uow, trip_id, h.leg_ids)), entity_id=trip_id)
        return True

    async def _settle(self, trip_id, booking_id, view: _Trip, h: _Hold, to: str, topic: type[CapacityEvent],
                      **extra) -> bool:
        frm, now = h.status, utcnow()
        if not await self._transition(trip_id, booking_id, h, to, now=now, topic=topic, **extra):
            await self._reload(trip_id)
            return False
        h.status = to
        self._apply(view, h, held=-1 if frm == "held" else 0,
                    booked=(1 if to == "confirmed" else 0) - (1 if frm == "confirmed" else 0))
        if to in ("released", "expired"):
            view.holds.pop(booking_id, None)  # terminal: the database answers replays
        return True

    async def _find(self, trip_id, booking_id) -> tuple[_Trip | None, _Hold | None]:
        view = await self._view(trip_id)
        h = view.holds.get(booking_id) if view else None
        if h is None:
            h = await self._stored_hold(trip_id, booking_id)
        return view, h

    async def confirm(self, trip_id, booking_id) -> HoldOut:
        """Turn a live hold into booked capacity. Fails if it expired or was released."""
        trip_id, booking_id = uuid.UUID(str(trip_id)), uuid.UUID(str(booking_id))
        async with self._locks[trip_id]:
            for _ in range(2):
                view, h = await self._find(trip_id, booking_id)
                if h is None or view is None:
                    raise HoldNotFound("No hold of this booking on this trip.", booking_id=str(booking_id),
                                       trip_id=str(trip_id))
                if h.status == "held" and h.expires_at <= utcnow():
                    await self._settle(trip_id, booking_id, view, h, "expired", CapacityHoldExpired)
                    continue
                if h.status == "confirmed":
                    return self._out(trip_id, booking_id, h)
                if h.status == "expired":
                    raise HoldExpired("The hold expired before it was confirmed.", booking_id=str(booking_id))
                if h.status == "released":
                    raise HoldReleased("The hold was released.", booking_id=str(booking_id))
                if await self._settle(trip_id, booking_id, view, h, "confirmed", CapacityConfirmed):
                    return self._out(trip_id, booking_id, h)
            raise HoldExpired("The hold expired before it was confirmed.", booking_id=str(booking_id))

    async def release(self, trip_id, booking_id, reason: str = "released") -> HoldOut | None:
        """Give the capacity of a held or confirmed hold back; None if there is no hold."""
        trip_id, booking_id = uuid.UUID(str(trip_id)), uuid.UUID(str(booking_id))
        async with self._locks[trip_id]:
            for _ in range(3):
                view, h = await self._find(trip_id, booking_id)
                if h is None or h.status in ("released", "expired") or view is None:
                    return self._out(trip_id, booking_id, h) if h else None
                if await self._settle(trip_id, booking_id, view, h, "released", CapacityReleased,
                                      reason=reason):
                    return self._out(trip_id, booking_id, h)
            raise Conflict("The hold kept changing; retry.", booking_id=str(booking_id))

    async def remaining(self, trip_id) -> RemainingOut:
        trip_id = uuid.UUID(str(trip_id))
        async with self._locks[trip_id]:
            view = await self._view(trip_id)
        if view is None:
            return RemainingOut(trip_id=trip_id, open=False, legs=[])
        return RemainingOut(trip_id=trip_id, open=view.open, legs=[
            LegRemaining(leg_id=leg_id, **{f"capacity_{d}": c for d, c in zip(DIMS, leg.cap)},
                         **{f"held_{d}": x for d, x in zip(DIMS, leg.held)},
                         **{f"booked_{d}": x for d, x in zip(DIMS, leg.booked)},
                         **{f"remaining_{d}": c - h - b for d, c, h, b in zip(DIMS, leg.cap, leg.held, leg.booked)})
            for leg_id, leg in view.legs.items()])

    async def set_capacity(self, trip_id, weight_g: int, volume_cm3: int, items: int) -> RemainingOut | None:
        """Change what every leg offers; refused below what is held + booked on any leg.
        None if the trip has no capacity rows yet (a draft)."""
        trip_id = uuid.UUID(str(trip_id))
        new = dict(zip(DIMS, (int(weight_g), int(volume_cm3), int(items))))
        async with self._locks[trip_id]:
            view = await self._view(trip_id)
            if view is None:
                return None
            try:
                async with UnitOfWork(self.db, source="trips") as uow:
                    for leg_id in view.legs:
                        guard = [LegCapacity.trip_id == trip_id, LegCapacity.leg_id == leg_id]
                        guard += [getattr(LegCapacity, f"held_{d}") + getattr(LegCapacity, f"booked_{d}") <= new[d]
                                  for d in DIMS]
                        res = await uow.session.execute(
                            update(LegCapacity).where(*guard).values(**{f"capacity_{d}": new[d] for d in DIMS})
                            .execution_options(synchronize_session=False))
                        if res.rowcount != 1:  # type: ignore[attr-defined]
                            raise _Refused(leg_id)
                    uow.emit(TripCapacityChanged(trip_id=trip_id, **{f"capacity_{d}": new[d] for d in DIMS},
                                                 remaining=await _remaining(uow, trip_id, view.legs)),
                             entity_id=trip_id)
            except _Refused as exc:
                await self._reload(trip_id)
                raise CapacityBelowCommitted("Capacity cannot go below what is held and booked.",
                                             trip_id=str(trip_id), leg_id=str(exc.leg_id)) from None
            for leg in view.legs.values():
                leg.cap = [new[d] for d in DIMS]
        return await self.remaining(trip_id)

    async def close_trip(self, trip_id, reason: str = "trip_cancelled") -> list[uuid.UUID]:
        """Close the trip to new holds and release every live hold on it; returns the
        bookings whose holds were released (idempotent: a second call returns [])."""
        trip_id = uuid.UUID(str(trip_id))
        async with self._locks[trip_id]:
            await self._view(trip_id)  # checks ownership
            view = await self._reload(trip_id)  # every live hold, even one this cache missed
            if view is None:
                return []
            async with UnitOfWork(self.db, source="trips") as uow:
                await uow.session.execute(update(LegCapacity).where(LegCapacity.trip_id == trip_id)
                                          .values(open=False).execution_options(synchronize_session=False))
            for leg in view.legs.values():
                leg.open = False
            released = []
            for booking_id, h in list(view.holds.items()):
                if h.status in ACTIVE and await self._settle(trip_id, booking_id, view, h, "released",
                                                             CapacityReleased, reason=reason):
                    released.append(booking_id)
            return released

    async def _expire_due_of(self, trip_id, view: _Trip, now: datetime) -> int:
        n = 0
        for booking_id, h in list(view.holds.items()):
            if h.status == "held" and h.expires_at <= now:
                n += await self._settle(trip_id, booking_id, view, h, "expired", CapacityHoldExpired)
        return n

    async def expire_due(self, now: datetime | None = None) -> int:
        """Expire every due hold of this shard (found in the database, so holds written by
        an earlier incarnation or another writer expire too). Returns how many."""
        now = now or utcnow()
        async with self.db.reader() as s:
            due = (await s.execute(select(CapacityHold.booking_id, CapacityHold.trip_id).where(
                CapacityHold.status == "held", CapacityHold.expires_at <= now))).all()
        n = 0
        for booking_id, trip_id in due:
            if not self.owns(trip_id):
                continue
            async with self._locks[trip_id]:
                view, h = await self._find(trip_id, booking_id)
                if view is not None and h is not None and h.status == "held" and h.expires_at <= now:
                    if booking_id not in view.holds:
                        view.holds[booking_id] = h
                    n += await self._settle(trip_id, booking_id, view, h, "expired", CapacityHoldExpired)
        return n
