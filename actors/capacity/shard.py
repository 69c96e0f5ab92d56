"""Trip-capacity shards: the capacity rules on the shard base (`actors/shard.py`, which
owns loading, serialisation, group commit and recovery).

A trip's view is its legs (capacity, held, booked in grams, cm3 and items) and every hold
on it, of any status (a trip has at most a few hundred; the terminal ones answer replays).
A hold is keyed by (booking id, trip id): a retried hold returns the existing one
(`capacity.hold_mismatch` if the amounts or legs differ); confirm and release of a hold
already in the target state answer its state again.

Expiry: a hold carries `expires_at`. Each shard's sweep expires due holds every
`capacity_sweep_s`, through the same batched path as every other call, and a hold or
confirm call on a trip expires that trip's due holds first.

Guards kept in the database, as the last line of defence against a second writer (a
split brain, a manual fix): counters move by one conditional UPDATE per batch whose WHERE
re-checks every leg's final amounts against its capacity, holds move by a conditional
UPDATE on their current status, and CHECK constraints on `trip_capacity` refuse an
oversell outright. When a guard matches fewer rows than the view expected, the batch is
rolled back and its calls decided again on views rebuilt from the database.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, Uuid, case, column, insert, select, update, values

from actors.capacity.errors import (
    CapacityBelowCommitted,
    HoldExpired,
    HoldInvalid,
    HoldMismatch,
    HoldNotFound,
    HoldReleased,
    TripFull,
    TripNotBookable,
)
from actors.capacity.events import (
    CapacityConfirmed,
    CapacityEvent,
    CapacityHeld,
    CapacityHoldExpired,
    CapacityReleased,
    LegFree,
    TripCapacityChanged,
)
from actors.capacity.schemas import HoldOut, LegRemaining, RemainingOut
from actors.shard import Shard, Stale, Tx
from p2p.settings import get_settings
from storage.db import Database, utcnow
from storage.models.trips import CapacityHold, LegCapacity

DIMS = ("g", "cm3", "items")
ACTIVE = ("held", "confirmed")
Amount = tuple[int, int, int]


@dataclass
class _Leg:
    open: bool
    cap: list[int]
    held: list[int]
    booked: list[int]

    def fits(self, amount: Amount) -> bool:
        return all(h + b + a <= c for c, h, b, a in zip(self.cap, self.held, self.booked, amount))

    def free(self, leg_id: uuid.UUID) -> LegFree:
        left = [c - h - b for c, h, b in zip(self.cap, self.held, self.booked)]
        return LegFree(leg_id=leg_id, remaining_g=left[0], remaining_cm3=left[1], remaining_items=left[2])


@dataclass
class _Hold:
    leg_ids: tuple[uuid.UUID, ...]
    amount: Amount
    status: str
    expires_at: datetime


@dataclass
class _Trip:
    legs: dict[uuid.UUID, _Leg] = field(default_factory=dict)
    holds: dict[uuid.UUID, _Hold] = field(default_factory=dict)
    next_expiry: datetime | None = None  # no held hold expires before this (may be early, never late)

    def __post_init__(self) -> None:
        self.next_expiry = min((h.expires_at for h in self.holds.values() if h.status == "held"), default=None)

    @property
    def open(self) -> bool:
        return bool(self.legs) and all(leg.open for leg in self.legs.values())


# -- the writes a decision records (persisted in batches by TripCapacity.persist) ---------
@dataclass(frozen=True)
class LegCounts:
    trip_id: uuid.UUID
    leg_id: uuid.UUID
    held: Amount
    booked: Amount


@dataclass(frozen=True)
class LegCapacitySet:
    trip_id: uuid.UUID
    leg_id: uuid.UUID
    capacity: Amount


@dataclass(frozen=True)
class TripClosed:
    trip_id: uuid.UUID


@dataclass(frozen=True)
class HoldMoved:
    """A hold row from `before` (None: new) to `after`."""

    trip_id: uuid.UUID
    booking_id: uuid.UUID
    before: str | None
    after: str
    leg_ids: tuple[uuid.UUID, ...]
    amount: Amount
    expires_at: datetime


def _uuid(x: Any) -> uuid.UUID:
    return x if isinstance(x, uuid.UUID) else uuid.UUID(str(x))


class TripCapacity(Shard[_Trip]):
    """One shard of trip capacity. Async methods; in-process it runs on the caller's loop,
    under Ray as an async actor (Ray runs its calls concurrently; the base serialises them
    per trip and commits them in batches)."""

    source = "trips"
    remote_methods = frozenset({"hold", "confirm", "release", "remaining", "set_capacity", "close_trip"})

    def __init__(self, shard: int = 0, shards: int = 1, database_url: str | None = None, *,
                 sweep_s: float | None = None, batch_max: int | None = None, batch_wait_s: float | None = None):
        settings = get_settings()
        super().__init__(shard, shards, Database(database_url or settings.effective_database_url),
                         batch_max=batch_max or settings.shard_batch_max,
                         batch_wait_s=settings.shard_batch_wait_s if batch_wait_s is None else batch_wait_s,
                         sweep_s=settings.capacity_sweep_s if sweep_s is None else sweep_s)
        self._ensure_sweeper()

    # -- the view ------------------------------------------------------------------------
    async def load_view(self, session, trip_id: uuid.UUID) -> _Trip | None:
        legs = (await session.scalars(select(LegCapacity).where(LegCapacity.trip_id == trip_id))).all()
        if not legs:
            return None
        holds = (await session.scalars(select(CapacityHold).where(CapacityHold.trip_id == trip_id))).all()
        return _Trip(
            legs={r.leg_id: _Leg(r.open, [getattr(r, f"capacity_{d}") for d in DIMS],
                                 [getattr(r, f"held_{d}") for d in DIMS],
                                 [getattr(r, f"booked_{d}") for d in DIMS]) for r in legs},
            holds={h.booking_id: _Hold(tuple(uuid.UUID(x) for x in h.leg_ids),
                                       (h.weight_g, h.volume_cm3, h.items), h.status, h.expires_at)
                   for h in holds})

    async def warm(self) -> int:
        """Load the view of every open trip of this shard (on start)."""
        async with self.db.reader() as s:
            ids = (await s.scalars(select(LegCapacity.trip_id).where(LegCapacity.open).distinct())).all()
        mine = [t for t in ids if self.owns(t)]
        await asyncio.gather(*(self.view(t) for t in mine))
        return len(mine)

    load = warm  # the name the registry and older callers use

    # -- decisions (synchronous: the base serialises them per trip) ------------------------
    def _move(self, tx: Tx, trip_id, view: _Trip, booking_id, h: _Hold, to: str, event: type[CapacityEvent],
              **extra: Any) -> None:
        """Move a hold (new when it is not in the view yet) to `to`, and its amounts between
        the counters, in the view and in the writes."""
        frm = h.status if booking_id in view.holds else None
        held = (1 if to == "held" else 0) - (1 if frm == "held" else 0)
        booked = (1 if to == "confirmed" else 0) - (1 if frm == "confirmed" else 0)
        for leg_id in h.leg_ids:
            leg = view.legs[leg_id]
            for i, a in enumerate(h.amount):
                leg.held[i] += held * a
                leg.booked[i] += booked * a
            tx.write(LegCounts(trip_id, leg_id, tuple(held * a for a in h.amount),  # type: ignore[arg-type]
                               tuple(booked * a for a in h.amount)))  # type: ignore[arg-type]
        h.status = to
        view.holds[booking_id] = h
        tx.write(HoldMoved(trip_id, booking_id, frm, to, h.leg_ids, h.amount, h.expires_at))
        tx.emit(event(trip_id=trip_id, booking_id=booking_id, leg_ids=list(h.leg_ids), weight_g=h.amount[0],
                      volume_cm3=h.amount[1], items=h.amount[2], status=to, **extra,
                      remaining=[view.legs[x].free(x) for x in h.leg_ids]), trip_id)

    def _expire_due(self, tx: Tx, trip_id, view: _Trip, now: datetime) -> int:
        if view.next_expiry is None or view.next_expiry > now:
            return 0  # nothing can be due: no scan of the trip's holds
        due = [(b, h) for b, h in view.holds.items() if h.status == "held" and h.expires_at <= now]
        for booking_id, h in due:
            self._move(tx, trip_id, view, booking_id, h, "expired", CapacityHoldExpired)
        view.next_expiry = min((h.expires_at for h in view.holds.values() if h.status == "held"), default=None)
        return len(due)

    @staticmethod
    def _out(trip_id, booking_id, h: _Hold) -> HoldOut:
        return HoldOut(booking_id=booking_id, trip_id=trip_id, leg_ids=list(h.leg_ids), weight_g=h.amount[0],
                       volume_cm3=h.amount[1], items=h.amount[2], status=h.status, expires_at=h.expires_at)

    @staticmethod
    def _check_fits(trip_id, view: _Trip, legs, amount: Amount) -> None:
        unknown = [str(x) for x in legs if x not in view.legs]
        if unknown or not view.open:
            raise TripNotBookable("The trip is not open for bookings on these legs.", trip_id=str(trip_id),
                                  unknown_legs=unknown)
        for leg_id in legs:
            leg = view.legs[leg_id]
            if not leg.fits(amount):
                free = leg.free(leg_id)
                raise TripFull("The trip has no room for this hold.", trip_id=str(trip_id), leg_id=str(leg_id),
                               remaining={f"remaining_{d}": getattr(free, f"remaining_{d}") for d in DIMS})

    # -- operations ----------------------------------------------------------------------
    async def hold(self, trip_id, leg_ids, booking_id, weight_g: int, volume_cm3: int, items: int,
                   ttl_s: float) -> HoldOut:
        """Hold capacity on `leg_ids` of the trip for a booking, for `ttl_s` seconds."""
        trip_id, booking_id = _uuid(trip_id), _uuid(booking_id)
        legs = tuple(dict.fromkeys(_uuid(x) for x in leg_ids))
        amount: Amount = (int(weight_g), int(volume_cm3), int(items))
        if not legs or min(amount) <= 0 or ttl_s <= 0:
            raise HoldInvalid("A hold needs at least one leg, positive amounts and a positive TTL.")

        def decide(view: _Trip | None, tx: Tx) -> HoldOut:
            if view is None:
                raise TripNotBookable("The trip is not open for bookings.", trip_id=str(trip_id))
            h = view.holds.get(booking_id)
            if h is not None:
                if h.amount != amount or set(h.leg_ids) != set(legs):
                    raise HoldMismatch("This booking holds the trip with other amounts or legs.",
                                       booking_id=str(booking_id), trip_id=str(trip_id))
                return self._out(trip_id, booking_id, h)
            now = utcnow()
            self._expire_due(tx, trip_id, view, now)
            self._check_fits(trip_id, view, legs, amount)
            h = _Hold(legs, amount, "held", now + timedelta(seconds=ttl_s))
            self._move(tx, trip_id, view, booking_id, h, "held", CapacityHeld)
            view.next_expiry = min(view.next_expiry or h.expires_at, h.expires_at)
            return self._out(trip_id, booking_id, h)

        return await self.run(trip_id, decide, idem=("hold", trip_id, booking_id))

    async def confirm(self, trip_id, booking_id) -> HoldOut:
        """Turn a live hold into booked capacity. Fails if it expired or was released."""
        trip_id, booking_id = _uuid(trip_id), _uuid(booking_id)

        def decide(view: _Trip | None, tx: Tx) -> HoldOut:
            h = view.holds.get(booking_id) if view else None
            if view is None or h is None:
                raise HoldNotFound("No hold of this booking on this trip.", booking_id=str(booking_id),
                                   trip_id=str(trip_id))
            self._expire_due(tx, trip_id, view, utcnow())
            if h.status == "expired":
                raise HoldExpired("The hold expired before it was confirmed.", booking_id=str(booking_id))
            if h.status == "released":
                raise HoldReleased("The hold was released.", booking_id=str(booking_id))
            if h.status == "held":
                self._move(tx, trip_id, view, booking_id, h, "confirmed", CapacityConfirmed)
            return self._out(trip_id, booking_id, h)

        return await self.run(trip_id, decide)

    async def release(self, trip_id, booking_id, reason: str = "released") -> HoldOut | None:
        """Give the capacity of a held or confirmed hold back; None if there is no hold."""
        trip_id, booking_id = _uuid(trip_id), _uuid(booking_id)

        def decide(view: _Trip | None, tx: Tx) -> HoldOut | None:
            h = view.holds.get(booking_id) if view else None
            if view is None or h is None:
                return None
            if h.status in ACTIVE:
                self._move(tx, trip_id, view, booking_id, h, "released", CapacityReleased, reason=reason)
            return self._out(trip_id, booking_id, h)

        return await self.run(trip_id, decide)

    async def remaining(self, trip_id) -> RemainingOut:
        trip_id = _uuid(trip_id)

        def decide(view: _Trip | None, tx: Tx) -> RemainingOut:
            if view is None:
                return RemainingOut(trip_id=trip_id, open=False, legs=[])
            return self._remaining(trip_id, view)

        return await self.run(trip_id, decide)

    @staticmethod
    def _remaining(trip_id, view: _Trip) -> RemainingOut:
        return RemainingOut(trip_id=trip_id, open=view.open, legs=[
            LegRemaining(leg_id=leg_id, **{f"capacity_{d}": c for d, c in zip(DIMS, leg.cap)},
                         **{f"held_{d}": x for d, x in zip(DIMS, leg.held)},
                         **{f"booked_{d}": x for d, x in zip(DIMS, leg.booked)},
                         **{f"remaining_{d}": c - h - b for d, c, h, b in zip(DIMS, leg.cap, leg.held, leg.booked)})
            for leg_id, leg in view.legs.items()])

    async def set_capacity(self, trip_id, weight_g: int, volume_cm3: int, items: int) -> RemainingOut | None:
        """Change what every leg offers; refused below what is held + booked on any leg.
        None if the trip has no capacity rows yet (a draft)."""
        trip_id = _uuid(trip_id)
        new: Amount = (int(weight_g), int(volume_cm3), int(items))

        def decide(view: _Trip | None, tx: Tx) -> RemainingOut | None:
            if view is None:
                return None
            for leg_id, leg in view.legs.items():
                if any(h + b > n for h, b, n in zip(leg.held, leg.booked, new)):
                    raise CapacityBelowCommitted("Capacity cannot go below what is held and booked.",
                                                 trip_id=str(trip_id), leg_id=str(leg_id))
            for leg_id, leg in view.legs.items():
                leg.cap = list(new)
                tx.write(LegCapacitySet(trip_id, leg_id, new))
            tx.emit(TripCapacityChanged(trip_id=trip_id, capacity_g=new[0], capacity_cm3=new[1], capacity_items=new[2],
                                        remaining=[leg.free(x) for x, leg in view.legs.items()]), trip_id)
            return self._remaining(trip_id, view)

        return await self.run(trip_id, decide)

    async def close_trip(self, trip_id, reason: str = "trip_cancelled") -> list[uuid.UUID]:
        """Close the trip to new holds and release every live hold on it; returns the
        bookings whose holds were released (idempotent: a second call returns [])."""
        trip_id = _uuid(trip_id)

        def decide(view: _Trip | None, tx: Tx) -> list[uuid.UUID]:
            if view is None:
                return []
            if any(leg.open for leg in view.legs.values()):
                for leg in view.legs.values():
                    leg.open = False
                tx.write(TripClosed(trip_id))
            live = [(b, h) for b, h in view.holds.items() if h.status in ACTIVE]
            for booking_id, h in live:
                self._move(tx, trip_id, view, booking_id, h, "released", CapacityReleased, reason=reason)
            return [b for b, _ in live]

        return await self.run(trip_id, decide)

    async def expire_due(self, now: datetime | None = None) -> int:
        """Expire every hold of this shard due at `now` (found in the database, so holds
        written by an earlier incarnation or another writer expire too), every trip's
        expiries in the same batched path as the other calls. Returns how many."""
        at = now or utcnow()
        async with self.db.reader() as s:
            due = (await s.execute(select(CapacityHold.trip_id).where(
                CapacityHold.status == "held", CapacityHold.expires_at <= at).distinct())).scalars().all()

        def decide(trip_id: uuid.UUID):
            return lambda view, tx: self._expire_due(tx, trip_id, view, at) if view is not None else 0

        counts = await asyncio.gather(*(self.run(t, decide(t)) for t in due if self.owns(t)))
        return sum(counts)

    async def sweep(self) -> None:
        await self.expire_due()

    # -- persistence: one batch, a handful of multi-row statements ----------------------------
    async def persist(self, uow, writes: list[Any]) -> None:
        counts: dict[tuple[uuid.UUID, uuid.UUID], list[int]] = {}
        caps: dict[tuple[uuid.UUID, uuid.UUID], Amount] = {}
        closed: set[uuid.UUID] = set()
        holds: dict[tuple[uuid.UUID, uuid.UUID], tuple[str | None, HoldMoved]] = {}
        for w in writes:
            if isinstance(w, LegCounts):
                acc = counts.setdefault((w.trip_id, w.leg_id), [0] * 6)
                for i, x in enumerate((*w.held, *w.booked)):
                    acc[i] += x
            elif isinstance(w, LegCapacitySet):
                caps[(w.trip_id, w.leg_id)] = w.capacity
            elif isinstance(w, TripClosed):
                closed.add(w.trip_id)
            elif isinstance(w, HoldMoved):
                first = holds.get((w.booking_id, w.trip_id))
                holds[(w.booking_id, w.trip_id)] = (first[0] if first else w.before, w)
        session, now = uow.session, utcnow()
        if closed:
            await session.execute(update(LegCapacity).where(LegCapacity.trip_id.in_(closed)).values(open=False)
                                  .execution_options(synchronize_session=False))
        await self._write_legs(session, counts, caps)
        new = [w for before, w in holds.values() if before is None]
        if new:
            await session.execute(insert(CapacityHold), [
                dict(booking_id=w.booking_id, trip_id=w.trip_id, leg_ids=[str(x) for x in w.leg_ids],
                     weight_g=w.amount[0], volume_cm3=w.amount[1], items=w.amount[2], status=w.after,
                     expires_at=w.expires_at, created_at=now, updated_at=now) for w in new])
        moved = [(before, w) for before, w in holds.values() if before is not None and before != w.after]
        if moved:
            await self._write_moves(session, moved, now)

    async def _write_moves(self, session, moved: list[tuple[str, HoldMoved]], now: datetime) -> None:
        """Every moved hold in one UPDATE, guarded on the status the view had."""
        rows = [(w.booking_id, w.trip_id, before, w.after) for before, w in moved]
        H = CapacityHold
        if self.db.sqlite:  # no column aliases on a VALUES list; statements cost no round trip here
            changed = 0
            for booking_id, trip_id, before, after in rows:
                res = await session.execute(update(H).where(H.booking_id == booking_id, H.trip_id == trip_id,
                                                            H.status == before).values(status=after, updated_at=now))
                changed += res.rowcount
        else:
            v = values(column("booking_id", Uuid), column("trip_id", Uuid), column("before", String),
                       column("after", String), name="moves").data(rows)
            res = await session.execute(
                update(H).where(H.booking_id == v.c.booking_id, H.trip_id == v.c.trip_id, H.status == v.c.before)
                .values(status=v.c.after, updated_at=now).execution_options(synchronize_session=False))
            changed = res.rowcount
        if changed != len(rows):
            raise Stale(f"{len(rows) - changed} of {len(rows)} holds were not in the status the view had")

    async def _write_legs(self, session, counts: dict, caps: dict) -> None:
        """Every leg's net change, guarded on the leg's final amounts: one
        UPDATE ... FROM (VALUES ...) on PostgreSQL, one UPDATE per leg on SQLite."""
        rows = [(t, leg, *counts.get((t, leg), [0] * 6), *caps.get((t, leg), (-1, -1, -1)))
                for t, leg in counts.keys() | caps.keys()]
        if not rows:
            return
        names = ["trip_id", "leg_id", *(f"{k}_{d}" for k in ("held", "booked", "cap") for d in DIMS)]
        if self.db.sqlite:  # no column aliases on a VALUES list; statements cost no round trip here
            changed = 0
            for row in rows:
                r = dict(zip(names, row))
                res = await session.execute(self._legs_update(lambda c, r=r: r[c]))
                changed += res.rowcount
        else:
            v = values(column("trip_id", Uuid), column("leg_id", Uuid), *(column(c, Integer) for c in names[2:]),
                       name="legs").data(rows)
            res = await session.execute(self._legs_update(lambda c: v.c[c]))
            changed = res.rowcount
        if changed != len(rows):
            raise Stale(f"{len(rows) - changed} of {len(rows)} legs refused the batch's change")

    @staticmethod
    def _legs_update(col: Any) -> Any:
        """UPDATE trip_capacity by (trip, leg) from `col(name)` (bound values or a VALUES
        list's columns): counters move by deltas, capacity is set unless -1, and the WHERE
        refuses a final amount below zero or above capacity."""
        L, guard, sets = LegCapacity, [], {}
        for d in DIMS:
            cap = case((col(f"cap_{d}") < 0, getattr(L, f"capacity_{d}")), else_=col(f"cap_{d}"))
            held = getattr(L, f"held_{d}") + col(f"held_{d}")
            booked = getattr(L, f"booked_{d}") + col(f"booked_{d}")
            guard += [held >= 0, booked >= 0, held + booked <= cap]
            sets.update({f"held_{d}": held, f"booked_{d}": booked, f"capacity_{d}": cap})
        return (update(L).where(L.trip_id == col("trip_id"), L.leg_id == col("leg_id"), *guard).values(**sets)
                .execution_options(synchronize_session=False))
