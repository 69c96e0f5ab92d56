"""Booking Service (spec 7.15): a sender books a whole itinerary, all legs or none.

What a pending booking holds:
- flight legs: weight, volume and item slots on the trip's legs, in the trip's capacity
  shard (`trips.hold`), with the booking's TTL;
- courier legs: one parcel and the weight on the provider's capacity for the day the leg
  starts (`couriers.hold_capacity`). That daily hold has no TTL of its own: it is released
  when the booking is cancelled, declined or expires through one of this service's calls;
  a booking closed by an event (a shard's expiry sweep, a cancelled trip) releases it on
  the next call on the booking.

Booking: pending -> confirmed (every leg's carrier accepted) -> completed; pending ->
expired (TTL) | declined | cancelled; confirmed -> cancelled. Cross-service calls happen
outside this service's transactions; event handlers change only this service's rows.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field
from sqlalchemy import select, update

from deployments.kit import Ctx, Page, Schema, Service, ServiceSpec, on, op
from deployments.kit.events import Event
from deployments.kit.schemas import Limit, decode_cursor, encode_cursor
from p2p.errors import Conflict, Forbidden, NotFound, ProblemError
from storage.db import utcnow
from storage.models.bookings import Booking, LegAssignment

Category = Literal["document", "parcel", "electronics", "fragile", "food", "medicine", "other"]
Status = Literal["pending", "confirmed", "completed", "expired", "declined", "cancelled"]


class BookingCreate(Schema):
    itinerary_id: uuid.UUID
    weight_g: int = Field(gt=0, le=50_000)
    volume_cm3: int = Field(gt=0, le=300_000)
    items: int = Field(gt=0, le=50)
    category: Category


class AssignmentOut(Schema):
    seq: int
    kind: Literal["flight", "courier"]
    trip_id: uuid.UUID | None = None
    trip_leg_id: uuid.UUID | None = None
    segment_id: uuid.UUID | None = None
    carrier_id: uuid.UUID | None = None
    status: Literal["requested", "accepted", "declined", "cancelled"]
    hold: Literal["held", "confirmed", "released"]


class BookingOut(Schema):
    id: uuid.UUID
    sender_id: uuid.UUID
    itinerary_id: uuid.UUID
    status: Status
    weight_g: int
    volume_cm3: int
    items: int
    category: Category
    expires_at: datetime
    confirmed_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str | None = None
    legs: list[AssignmentOut]
    version: int
    created_at: datetime


class BookingNotFound(NotFound):
    """No such booking, or one the caller is no party to."""
    code = "booking.not_found"


class CapacityUnavailable(Conflict):
    """A leg could not be held (full, cancelled trip, inactive segment); nothing is held."""
    code = "booking.capacity_unavailable"


class BookingNotPending(Conflict):
    """The booking is no longer waiting for its carriers."""
    code = "booking.not_pending"


class BookingExpired(Conflict):
    """The booking's holds passed their TTL before every carrier accepted."""
    code = "booking.expired"


class NotACarrier(Forbidden):
    """Only the carrier of a leg accepts or declines it; only the sender cancels."""
    code = "booking.not_carrier"


class Bookings(Service):
    @op("POST /bookings", status=201, perm="bookings:write")
    async def create(self, ctx: Ctx, body: BookingCreate) -> BookingOut:
        """Book one's own itinerary: hold capacity on every leg, all or nothing. If a leg
        cannot be held, the holds already taken are released and the answer is 409
        `booking.capacity_unavailable` naming the leg."""
        it = await self.calls.itineraries.owned(body.itinerary_id, ctx.user_id)
        booking_id = uuid.uuid4()
        ttl = self.settings.booking_hold_ttl_s
        await self.calls.itineraries.transition(it.id, booking_id, "requested")
        rows: list[LegAssignment] = []
        try:
            for leg in it.legs:
                rows.append(await self._hold_leg(booking_id, leg, body, ttl, it.legs))
        except ProblemError as exc:
            await self._release(booking_id, rows)
            await self.calls.itineraries.transition(it.id, booking_id, "planned")
            if exc.status >= 500:
                raise
            failed = it.legs[len(rows)]
            raise CapacityUnavailable(f"Leg {failed.seq} ({failed.kind}) cannot be held: {exc.message}",
                                      leg=failed.seq, kind=failed.kind, reason=exc.code) from None
        try:
            async with self.uow() as uow:
                b = uow.add(Booking(id=booking_id, sender_id=ctx.user_id, itinerary_id=it.id, status="pending",
                                    weight_g=body.weight_g, volume_cm3=body.volume_cm3, items=body.items,
                                    category=body.category, expires_at=utcnow() + timedelta(seconds=ttl)))
                await uow.flush()
                for row in rows:
                    uow.add(row)
                self._emit(uow, b, "booking.created")
                await uow.flush()
                return self._out(b, rows)
        except Exception:
            await self._release(booking_id, rows)
            await self.calls.itineraries.transition(it.id, booking_id, "planned")
            raise

    @op("GET /bookings", perm="bookings:read")
    async def mine(self, ctx: Ctx, status: Status | None = None, limit: Limit = 20,
                   cursor: str | None = None) -> Page[BookingOut]:
        """The caller's own bookings (as sender), oldest first."""
        async with self.uow(read=True) as uow:
            stmt = select(Booking).where(Booking.sender_id == ctx.user_id)
            if status:
                stmt = stmt.where(Booking.status == status)
            rows, nxt = await uow.page(stmt, Booking, limit=limit, after=decode_cursor(cursor) if cursor else None)
            items = [self._out(b, await self._legs(uow, b.id)) for b in rows]
        return Page(items=items, next_cursor=encode_cursor(nxt) if nxt else None)

    @op("GET /bookings/{id}", perm="bookings:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """A booking, for its sender and the carriers of its legs."""
        await self._catch_up(id)
        async with self.uow(read=True) as uow:
            b, legs = await self._party(uow, ctx, id)
            return self._out(b, legs)

    @op("PUT /bookings/{id}/confirm", perm="bookings:confirm")
    async def confirm(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """The caller accepts every leg of the booking it carries. When the last leg is
        accepted, the holds become booked capacity and the booking is confirmed."""
        if await self._catch_up(id) == "expired":
            raise BookingExpired("The booking expired before every carrier accepted.", id=str(id))
        async with self.uow() as uow:
            b, legs, mine = await self._carried(uow, ctx, id)
            if b.status != "pending":
                if b.status == "confirmed":
                    return self._out(b, legs)
                raise BookingNotPending(f"The booking is {b.status}.", id=str(id), status=b.status)
            for a in mine:
                a.status, a.decided_at = "accepted", utcnow()
            ready = all(a.status == "accepted" for a in legs)
            out = self._out(b, legs)
        return await self._finalize(id) if ready else out

    @op("PUT /bookings/{id}/decline", perm="bookings:confirm")
    async def decline(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """The carrier of a leg refuses it: the pending booking is declined and every hold
        released."""
        async with self.uow() as uow:
            b, legs, mine = await self._carried(uow, ctx, id)
            if b.status != "pending":
                raise BookingNotPending(f"The booking is {b.status}.", id=str(id), status=b.status)
            for a in mine:
                a.status, a.decided_at = "declined", utcnow()
            self._close(uow, b, "declined", "carrier_declined")
        return await self._after_close(id)

    @op("DELETE /bookings/{id}", perm="bookings:write")
    async def cancel(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """The sender cancels a pending or confirmed booking; its capacity is released.
        Cancelling twice answers the same."""
        await self._catch_up(id)
        async with self.uow() as uow:
            b, legs = await self._party(uow, ctx, id, lock=True)
            if b.sender_id != ctx.user_id:
                raise NotACarrier("Only the sender cancels a booking.", id=str(id))
            if b.status not in ("pending", "confirmed", "cancelled"):
                raise BookingNotPending(f"A {b.status} booking cannot be cancelled.", id=str(id), status=b.status)
            if b.status != "cancelled":
                self._close(uow, b, "cancelled", "user_request")
        return await self._after_close(id)

    # -- events --------------------------------------------------------------------------
    @on("capacity.hold_expired")
    async def on_hold_expired(self, uow, event: Event) -> None:
        """A flight hold passed its TTL: the pending booking expires (its other holds carry
        the same TTL and expire in their shards)."""
        b = await uow.get(Booking, uuid.UUID(event.payload["booking_id"]))
        if b is not None and b.status == "pending":
            self._close(uow, b, "expired", "hold_expired")

    @on("trip.cancelled")
    async def on_trip_cancelled(self, uow, event: Event) -> None:
        """The Trip Service released these bookings' flight holds; cancel the bookings."""
        for raw in event.payload.get("booking_ids", []):
            b = await uow.get(Booking, uuid.UUID(raw))
            if b is not None and b.status in ("pending", "confirmed"):
                self._close(uow, b, "cancelled", "trip_cancelled")

    # -- helpers -------------------------------------------------------------------------
    async def _hold_leg(self, booking_id, leg, body: BookingCreate, ttl: int, all_legs) -> LegAssignment:
        row = LegAssignment(id=uuid.uuid4(), booking_id=booking_id, seq=leg.seq, itinerary_leg_id=leg.id,
                            kind=leg.kind, trip_id=leg.trip_id, trip_leg_id=leg.trip_leg_id,
                            segment_id=leg.segment_id, status="requested", hold="held")
        if leg.kind == "flight":
            await self.calls.trips.hold(leg.trip_id, [leg.trip_leg_id], booking_id, body.weight_g, body.volume_cm3,
                                        body.items, ttl, body.category)
            row.carrier_id = leg.carrier_id
            return row
        seg = await self.calls.couriers.segment(leg.segment_id)
        if not seg.active or seg.max_weight_g < body.weight_g:
            raise Conflict("The courier segment is inactive or cannot carry this weight.",
                           segment_id=str(leg.segment_id))
        provider = await self.calls.couriers.get(Ctx.system(), seg.provider_id)
        await self.calls.couriers.hold_capacity(seg.provider_id, leg.starts_at.date(), body.weight_g,
                                                self._courier_key(booking_id, leg.seq))
        row.carrier_id = provider.owner_id
        return row

    @staticmethod
    def _courier_key(booking_id, seq: int) -> str:
        return f"booking:{booking_id}:{seq}"

    async def _release(self, booking_id, rows: list[LegAssignment], reason: str = "released") -> None:
        """Release every hold of the booking (idempotent)."""
        for trip_id in dict.fromkeys(a.trip_id for a in rows if a.kind == "flight"):
            await self.calls.trips.release(trip_id, booking_id, reason)
        for a in rows:
            if a.kind == "courier":
                await self.calls.couriers.release_capacity(self._courier_key(booking_id, a.seq))

    async def _finalize(self, id: uuid.UUID) -> BookingOut:
        async with self.uow(read=True) as uow:
            b, legs = await uow.get(Booking, id), await self._legs(uow, id)
        try:
            for trip_id in dict.fromkeys(a.trip_id for a in legs if a.kind == "flight"):
                await self.calls.trips.confirm(trip_id, id)
        except ProblemError as exc:
            if exc.status >= 500:
                raise
            async with self.uow() as uow:
                b = await uow.get(Booking, id)
                if b.status == "pending":
                    self._close(uow, b, "expired", exc.code)
            await self._after_close(id)
            raise BookingExpired("A hold expired before every carrier accepted.", id=str(id)) from None
        async with self.uow() as uow:
            done = await uow.session.execute(update(Booking).where(Booking.id == id, Booking.status == "pending")
                                             .values(status="confirmed", confirmed_at=utcnow(),
                                                     version=Booking.version + 1)
                                             .execution_options(synchronize_session=False))
            b = await uow.get(Booking, id)
            await uow.session.refresh(b)
            legs = await self._legs(uow, id)
            if done.rowcount == 1:
                for a in legs:
                    a.hold = "confirmed"
                self._emit(uow, b, "booking.confirmed")
            out = self._out(b, legs)
        await self.calls.itineraries.transition(b.itinerary_id, id, "booked")
        return out

    async def _after_close(self, id: uuid.UUID) -> BookingOut:
        """Release the holds of a closed booking and let its itinerary follow (idempotent)."""
        async with self.uow(read=True) as uow:
            b, legs = await uow.get(Booking, id), await self._legs(uow, id)
        await self._release(id, legs, b.reason or b.status)
        was_confirmed = b.confirmed_at is not None
        await self.calls.itineraries.transition(b.itinerary_id, id, "cancelled" if was_confirmed else "planned")
        async with self.uow() as uow:
            for a in await self._legs(uow, id):
                a.hold = "released"
                if a.status in ("requested", "accepted"):
                    a.status = "cancelled"
            return self._out(await uow.get(Booking, id), await self._legs(uow, id))

    async def _catch_up(self, id: uuid.UUID) -> str | None:
        """Bring a booking up to date before acting on it: expire it once past its TTL, and
        finish releasing the holds of a booking closed by an event (a shard's expiry, a
        cancelled trip), whose handler changes only this service's rows. Its status."""
        async with self.uow(read=True) as uow:
            b = await uow.get(Booking, id)
            legs = await self._legs(uow, id) if b else []
        if b is None:
            return None
        status = b.status
        if status == "pending" and b.expires_at <= utcnow():
            async with self.uow() as uow:
                b = await uow.get(Booking, id)
                if b.status == "pending":
                    self._close(uow, b, "expired", "ttl")
                status = b.status
        if status in ("expired", "declined", "cancelled") and any(a.hold != "released" for a in legs):
            await self._after_close(id)
        return status

    def _close(self, uow, b: Booking, status: str, reason: str) -> None:
        was = b.status
        b.status, b.reason, b.closed_at, b.updated_at = status, reason, utcnow(), utcnow()
        b.version += 1
        self._emit(uow, b, f"booking.{status}", was=was)

    @staticmethod
    def _emit(uow, b: Booking, topic: str, **extra) -> None:
        uow.emit(topic, b.id, {"booking_id": str(b.id), "itinerary_id": str(b.itinerary_id),
                               "sender_id": str(b.sender_id), "status": b.status, **extra}, version=b.version)

    async def _carried(self, uow, ctx: Ctx, id: uuid.UUID):
        """The booking locked, its legs, and those the caller carries (at least one)."""
        b, legs = await self._party(uow, ctx, id, lock=True)
        mine = [a for a in legs if a.carrier_id == ctx.user_id]
        if not mine:
            raise NotACarrier("You carry no leg of this booking.", id=str(id))
        return b, legs, mine

    async def _party(self, uow, ctx: Ctx, id: uuid.UUID, *, lock: bool = False):
        stmt = select(Booking).where(Booking.id == id)
        b = await uow.scalar(stmt.with_for_update() if lock else stmt)
        legs = await self._legs(uow, id) if b else []
        if b is None or not (b.sender_id == ctx.user_id or any(a.carrier_id == ctx.user_id for a in legs)
                             or await self.can(ctx, "bookings:read:any")):
            raise BookingNotFound("No such booking.", id=str(id))
        return b, legs

    @staticmethod
    async def _legs(uow, id: uuid.UUID) -> list[LegAssignment]:
        return await uow.all(select(LegAssignment).where(LegAssignment.booking_id == id).order_by(LegAssignment.seq))

    @staticmethod
    def _out(b: Booking, legs: list[LegAssignment]) -> BookingOut:
        return BookingOut(id=b.id, sender_id=b.sender_id, itinerary_id=b.itinerary_id, status=b.status,
                          weight_g=b.weight_g, volume_cm3=b.volume_cm3, items=b.items, category=b.category,
                          expires_at=b.expires_at, confirmed_at=b.confirmed_at, closed_at=b.closed_at,
                          reason=b.reason, legs=[AssignmentOut.model_validate(a) for a in legs], version=b.version,
                          created_at=b.created_at)


SPEC = ServiceSpec("Booking Service", key="bookings", prefix="/bookings", service=Bookings,
                   models="storage.models.bookings", calls=("itineraries", "trips", "couriers"))
