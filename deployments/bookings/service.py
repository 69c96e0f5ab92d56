"""Booking Service (spec 7.15): a sender books a whole itinerary, all legs or none
(holds.py: what a booking holds elsewhere, in as few calls as the callees allow).

Holds are released when the booking is cancelled, declined or expires through this
service's calls; a booking closed by an event (a shard's expiry sweep, a cancelled trip)
is released on the next call on it. Cross-service calls happen outside this service's
transactions; event handlers change only this service's rows.

Booking: pending -> confirmed (every leg's carrier accepted) -> completed; pending ->
expired (TTL) | declined | cancelled; confirmed -> cancelled.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from actors.capacity import CapacityHoldExpired
from actors.custody import ShipmentDelivered
from deployments.bookings.errors import BookingLapsed, BookingNotFound, BookingNotPending, NotACarrier
from deployments.bookings.events import (
    BOOKING_EVENTS,
    CLOSED_EVENTS,
    BookingCompleted,
    BookingConfirmed,
    BookingCreated,
)
from deployments.bookings.price import BookingPricing
from deployments.bookings.schemas import BookingCreate, BookingOut
from deployments.kit import Ctx, ServiceSpec, crud, internal, on, op
from deployments.trips.events import TripCancelled
from p2p.errors import ProblemError
from p2p.vocab import BookingStatus
from storage.db import utcnow
from storage.models.bookings import Booking, LegAssignment


class Bookings(BookingPricing):
    mine = crud.list_mine("GET /bookings", Booking, BookingOut, perm="bookings:read", owner="sender_id",
                          filters={"status": BookingStatus}, doc="The caller's own bookings (as sender), oldest first.")

    @op("POST /bookings", status=201, perm="bookings:write")
    async def create(self, ctx: Ctx, body: BookingCreate) -> BookingOut:
        """Book one's own itinerary: hold capacity on every leg, all or nothing. If a leg
        cannot be held, the holds already taken are released and the answer is 409
        `booking.capacity_unavailable` naming the leg."""
        booking_id, ttl = uuid.uuid4(), self.settings.booking_hold_ttl_s
        if body.shipment_id is not None:
            await self.shipments.attach(body.shipment_id, ctx.user_id, booking_id)
        try:
            it = await self.itineraries.reserve(body.itinerary_id, ctx.user_id, booking_id)
        except Exception:
            if body.shipment_id is not None:
                await self.shipments.detach(body.shipment_id, booking_id)
            raise
        rows = [LegAssignment(id=uuid.uuid4(), seq=x.seq, itinerary_leg_id=x.id, kind=x.kind, trip_id=x.trip_id,
                              trip_leg_id=x.trip_leg_id, segment_id=x.segment_id, carrier_id=x.carrier_id,
                              status="requested", hold="held") for x in it.legs]
        try:
            await self._hold(booking_id, it.legs, rows, body, ttl)
            async with self.uow() as uow:
                b = uow.repo(Booking).add(Booking(
                    id=booking_id, sender_id=ctx.user_id, itinerary_id=it.id, status="pending", legs=rows,
                    expires_at=utcnow() + timedelta(seconds=ttl), **body.model_dump(exclude={"itinerary_id"})))
                await uow.flush()
                uow.emit(BookingCreated.of(b), entity_id=b.id, version=b.version)
                return BookingOut.model_validate(b)
        except Exception:
            await self._release(booking_id, rows)
            await self.itineraries.transition(it.id, booking_id, "planned")
            if body.shipment_id is not None:
                await self.shipments.detach(body.shipment_id, booking_id)
            raise

    @op("GET /bookings/{id}", perm="bookings:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """A booking, for its sender and the carriers of its legs."""
        await self._settle(id)
        async with self.uow(read=True) as uow:
            return BookingOut.model_validate(await self._party(uow, ctx, id))

    @op("PUT /bookings/{id}/confirm", perm="bookings:confirm")
    async def confirm(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """The caller accepts every leg of the booking it carries. When the last leg is
        accepted, the holds become booked capacity and the booking is confirmed."""
        settled = await self._settle(id)
        if settled is not None and settled.status == "expired":
            raise BookingLapsed("The booking expired before every carrier accepted.", id=str(id))
        async with self.uow() as uow:
            b, mine = await self._carried(uow, ctx, id)
            if b.status == "confirmed":
                return BookingOut.model_validate(b)
            if b.status != "pending":
                raise BookingNotPending(f"The booking is {b.status}.", id=str(id), status=b.status)
            for a in mine:
                a.status, a.decided_at = "accepted", utcnow()
        return await self._finalize(b) if all(a.status == "accepted" for a in b.legs) else BookingOut.model_validate(b)

    @op("PUT /bookings/{id}/decline", perm="bookings:confirm")
    async def decline(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """The carrier of a leg refuses it: the pending booking is declined and every hold
        released."""
        async with self.uow() as uow:
            b, mine = await self._carried(uow, ctx, id)
            if b.status != "pending":
                raise BookingNotPending(f"The booking is {b.status}.", id=str(id), status=b.status)
            for a in mine:
                a.status, a.decided_at = "declined", utcnow()
            self._close(uow, b, "declined", "carrier_declined")
        return BookingOut.model_validate(await self._settle(id))

    @op("DELETE /bookings/{id}", perm="bookings:write")
    async def cancel(self, ctx: Ctx, id: uuid.UUID) -> BookingOut:
        """The sender cancels a pending or confirmed booking; its capacity is released.
        Cancelling twice answers the same."""
        await self._settle(id)
        async with self.uow() as uow:
            b = await self._party(uow, ctx, id, lock=True)
            if b.sender_id != ctx.user_id:
                raise NotACarrier("Only the sender cancels a booking.", id=str(id))
            if b.status not in ("pending", "confirmed", "cancelled"):
                raise BookingNotPending(f"A {b.status} booking cannot be cancelled.", id=str(id), status=b.status)
            if b.status != "cancelled":
                self._close(uow, b, "cancelled", "user_request")
        return BookingOut.model_validate(await self._settle(id))

    @internal
    async def view(self, booking_id: uuid.UUID) -> BookingOut:
        """A booking as it is, for the services that follow it (handoff steps)."""
        async with self.uow(read=True) as uow:
            return BookingOut.model_validate(await uow.repo(Booking, BookingNotFound).get_or_404(booking_id))

    # -- events --------------------------------------------------------------------------
    @on(ShipmentDelivered)
    async def on_shipment_delivered(self, uow, event: ShipmentDelivered) -> None:
        """The booking's shipment arrived: the booking is completed."""
        b = await uow.repo(Booking).get(event.booking_id) if event.booking_id else None
        if b is not None and b.status == "confirmed":
            b.status, b.closed_at, b.version = "completed", utcnow(), b.version + 1
            uow.emit(BookingCompleted.of(b), entity_id=b.id, version=b.version)

    @on(CapacityHoldExpired)
    async def on_capacity_hold_expired(self, uow, event: CapacityHoldExpired) -> None:
        """A flight hold passed its TTL: the pending booking expires (its other holds carry
        the same TTL and expire in their shards)."""
        b = await uow.repo(Booking).get(event.booking_id)
        if b is not None and b.status == "pending":
            self._close(uow, b, "expired", "hold_expired")

    @on(TripCancelled)
    async def on_trip_cancelled(self, uow, event: TripCancelled) -> None:
        """The Trip Service released these bookings' flight holds; cancel the bookings."""
        for b in await uow.repo(Booking).list(Booking.id.in_(event.booking_ids),
                                              Booking.status.in_(("pending", "confirmed"))):
            self._close(uow, b, "cancelled", "trip_cancelled")

    # -- helpers -------------------------------------------------------------------------
    async def _finalize(self, b: Booking) -> BookingOut:
        """Every carrier accepted: book the flight holds, then confirm the booking."""
        try:
            await self._book_flights(b.id, b.legs)
        except ProblemError as exc:
            if exc.status >= 500:
                raise
            async with self.uow() as uow:
                b = await uow.repo(Booking, BookingNotFound).get_or_404(b.id)
                if b.status == "pending":
                    self._close(uow, b, "expired", exc.code)
            await self._settle(b.id)
            raise BookingLapsed("A hold expired before every carrier accepted.", id=str(b.id)) from None
        async with self.uow() as uow:
            b = await uow.repo(Booking, BookingNotFound).get_or_404(b.id, lock=True)
            if b.status == "pending":
                b.status, b.confirmed_at, b.version = "confirmed", utcnow(), b.version + 1
                for a in b.legs:
                    a.hold = "confirmed"
                uow.emit(BookingConfirmed.of(b, carrier_ids=[a.carrier_id for a in b.legs if a.carrier_id]),
                         entity_id=b.id, version=b.version)
        if b.status == "confirmed":
            await self.itineraries.transition(b.itinerary_id, b.id, "booked")
        return BookingOut.model_validate(b)

    async def _settle(self, id: uuid.UUID) -> Booking | None:
        """Bring a booking up to date before acting on it (idempotent): expire it once past
        its TTL; for a closed booking, release what it still holds and let its itinerary
        follow. None for an unknown id."""
        async with self.uow(read=True) as uow:
            b = await uow.repo(Booking).get(id)
        if b is not None and b.status == "pending" and b.expires_at <= utcnow():
            async with self.uow() as uow:
                b = await uow.repo(Booking, BookingNotFound).get_or_404(id)
                if b.status == "pending":
                    self._close(uow, b, "expired", "ttl")
        if b is None or b.status not in CLOSED_EVENTS or all(a.hold == "released" for a in b.legs):
            return b
        await self._release(id, b.legs, b.reason or b.status)
        await self.itineraries.transition(b.itinerary_id, id, "cancelled" if b.confirmed_at else "planned")
        async with self.uow() as uow:
            b = await uow.repo(Booking, BookingNotFound).get_or_404(id)
            for a in b.legs:
                a.hold, a.status = "released", "cancelled" if a.status in ("requested", "accepted") else a.status
            return b

    def _close(self, uow, b: Booking, status: str, reason: str) -> None:
        was, b.status, b.reason, b.closed_at, b.updated_at = b.status, status, reason, utcnow(), utcnow()
        b.version += 1
        uow.emit(CLOSED_EVENTS[status].of(b, was=was, reason=reason), entity_id=b.id, version=b.version)

    async def _carried(self, uow, ctx: Ctx, id: uuid.UUID) -> tuple[Booking, list[LegAssignment]]:
        """The booking locked, and the legs the caller carries (at least one)."""
        b = await self._party(uow, ctx, id, lock=True)
        mine = [a for a in b.legs if a.carrier_id == ctx.user_id]
        if not mine:
            raise NotACarrier("You carry no leg of this booking.", id=str(id))
        return b, mine

    async def _party(self, uow, ctx: Ctx, id: uuid.UUID, *, lock: bool = False) -> Booking:
        b = await uow.repo(Booking).get(id, lock=lock)
        if b is None or not (b.sender_id == ctx.user_id or any(a.carrier_id == ctx.user_id for a in b.legs)
                             or await self.can(ctx, "bookings:read:any")):
            raise BookingNotFound("No such booking.", id=str(id))
        return b


SPEC = ServiceSpec("Booking Service", key="bookings", prefix="/bookings", service=Bookings,
                   models="storage.models.bookings",
                   emits=BOOKING_EVENTS,
                   grants={"sender": ("bookings:read", "bookings:write"),
                           "traveler": ("bookings:read", "bookings:confirm"),
                           "courier": ("bookings:read", "bookings:confirm"), "support": ("bookings:read:any",)})
