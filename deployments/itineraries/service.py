"""Itinerary Service (spec 7.14): a sender's ordered chain of legs, each a flight leg of a
traveler's trip or a local courier segment, checked for continuity and connection time.

Continuity is strict: a leg starts at the very location id where the previous one ended
("apt:LHR" after "apt:LHR"); a courier segment ending at a city does not connect to a
flight from that city's airport unless the segment itself ends at the airport. Each leg
starts at least `min_connection_min` minutes after the previous one ends.

Leg states follow the booking: planned -> requested (booking pending) -> booked (booking
confirmed); back to planned when a pending booking expires, is declined or cancelled;
cancelled when a confirmed booking is cancelled.
"""
from __future__ import annotations

import uuid
from typing import Literal

from actors.custody import HandoffTransferred
from deployments.bookings import BookingCancelled, BookingClosed, BookingDeclined, BookingExpired
from deployments.itineraries.errors import ItineraryLocked, ItineraryNotFound, TooManyLegs
from deployments.itineraries.events import FOLLOWS, ITINERARY_EVENTS, ItineraryCreated, ItineraryEvent, ItineraryUpdated
from deployments.itineraries.legs import LegSources
from deployments.itineraries.schemas import MAX_LEGS, ItineraryIn, ItineraryOut, NewLeg
from deployments.kit import Ctx, ServiceSpec, crud, internal, on, op
from storage.db import utcnow
from storage.models.itineraries import Itinerary, ItineraryLeg

Step = Literal["requested", "booked", "planned", "cancelled"]


class Itineraries(LegSources):
    mine = crud.list_mine("GET /itineraries", Itinerary, ItineraryOut, perm="itineraries:read",
                          doc="The caller's itineraries, oldest first.")
    get = crud.get_one("GET /itineraries/{id}", Itinerary, ItineraryOut, perm="itineraries:read",
                       missing=ItineraryNotFound, doc="One's own itinerary.")

    @op("POST /itineraries", status=201, perm="itineraries:write")
    async def create(self, ctx: Ctx, body: ItineraryIn) -> ItineraryOut:
        """Plan an itinerary of 1-4 continuous legs."""
        legs = await self._resolve(body.legs)
        async with self.uow() as uow:
            it = uow.repo(Itinerary).add(Itinerary(id=uuid.uuid4(), owner_id=ctx.user_id, status="planned",
                                                   version=1, legs=legs))
            uow.emit(ItineraryCreated.of(it), entity_id=it.id)
            await uow.flush()
            return ItineraryOut.model_validate(it)

    @op("PUT /itineraries/{id}", perm="itineraries:write")
    async def update(self, ctx: Ctx, id: uuid.UUID, body: ItineraryIn) -> ItineraryOut:
        """Replace every leg, while the itinerary is only planned."""
        async with self.uow(read=True) as uow:
            self._editable(await self._owned(uow, id, ctx.user_id))
        return await self._replace(ctx, id, await self._resolve(body.legs), keep=0)

    @op("POST /itineraries/{id}/legs", status=201, perm="itineraries:write")
    async def add_leg(self, ctx: Ctx, id: uuid.UUID, body: NewLeg) -> ItineraryOut:
        """Append one leg; it must continue from the current last leg."""
        async with self.uow(read=True) as uow:
            current = self._editable(await self._owned(uow, id, ctx.user_id)).legs
        if len(current) >= MAX_LEGS:
            raise TooManyLegs(f"An itinerary has at most {MAX_LEGS} legs.")
        legs = await self._resolve([body.root], prev=current[-1], first_seq=len(current))
        return await self._replace(ctx, id, legs, keep=len(current))

    # -- for the Booking Service ---------------------------------------------------------
    @internal
    async def reserve(self, itinerary_id: uuid.UUID, user_id: uuid.UUID, booking_id: uuid.UUID) -> ItineraryOut:
        """In one call for a new booking: the user's own itinerary (404 for anyone else's),
        locked to `booking_id` (requested; 409 if another booking has it). Idempotent."""
        return await self._follow(itinerary_id, booking_id, "requested", owner_id=user_id)

    @internal
    async def transition(self, itinerary_id: uuid.UUID, booking_id: uuid.UUID, to: Step) -> ItineraryOut:
        """Follow a booking: `requested` locks a planned itinerary to `booking_id` (409 if
        another booking has it); `booked`, `planned` and `cancelled` apply only for that
        booking. Idempotent."""
        return await self._follow(itinerary_id, booking_id, to)

    @internal
    async def view(self, itinerary_id: uuid.UUID) -> ItineraryOut:
        """An itinerary as it is, for the services that follow its booking (handoff steps)."""
        async with self.uow(read=True) as uow:
            return ItineraryOut.model_validate(await uow.repo(Itinerary, ItineraryNotFound).get_or_404(itinerary_id))

    # -- custody moves the legs ----------------------------------------------------------
    @on(HandoffTransferred)
    async def on_handoff_transferred(self, uow, event: HandoffTransferred) -> None:
        """The giver's leg is completed and the receiver's leg is in progress."""
        it = await uow.repo(Itinerary).find(booking_id=event.booking_id) if event.booking_id else None
        if it is None:
            return
        for leg in it.legs:
            if leg.seq == event.leg_completed and leg.status in ("booked", "in_progress"):
                leg.status = "completed"
            elif leg.seq == event.leg_started and leg.status == "booked":
                leg.status = "in_progress"
        it.status = "completed" if all(leg.status == "completed" for leg in it.legs) else "in_progress"
        self._touch(uow, it, ItineraryUpdated)

    @on(BookingExpired)
    async def on_booking_expired(self, uow, event: BookingExpired) -> None:
        await self._closed(uow, event)

    @on(BookingDeclined)
    async def on_booking_declined(self, uow, event: BookingDeclined) -> None:
        await self._closed(uow, event)

    @on(BookingCancelled)
    async def on_booking_cancelled(self, uow, event: BookingCancelled) -> None:
        await self._closed(uow, event)

    async def _closed(self, uow, event: BookingClosed) -> None:
        """A closed booking frees its itinerary: planned again, or cancelled if the booking
        had been confirmed."""
        it = await uow.repo(Itinerary).get(event.itinerary_id)
        if it is not None:
            self._apply(uow, it, event.booking_id, "cancelled" if event.was == "confirmed" else "planned")

    async def _follow(self, itinerary_id: uuid.UUID, booking_id: uuid.UUID, to: Step, *,
                      owner_id: uuid.UUID | None = None) -> ItineraryOut:
        async with self.uow() as uow:
            it = await (self._owned(uow, itinerary_id, owner_id) if owner_id is not None
                        else uow.repo(Itinerary, ItineraryNotFound).get_or_404(itinerary_id))
            self._apply(uow, it, booking_id, to)
            return ItineraryOut.model_validate(it)

    def _apply(self, uow, it: Itinerary, booking_id: uuid.UUID, to: Step) -> None:
        if to == "requested":
            if it.booking_id == booking_id:
                return
            if it.status != "planned" or it.booking_id is not None:
                raise ItineraryLocked("The itinerary is already booked or being booked.", id=str(it.id),
                                      status=it.status)
            it.booking_id = booking_id
        elif it.booking_id != booking_id or it.status == to:
            return
        if to == "planned":
            it.booking_id = None
        for leg in it.legs:
            leg.status = to
        it.status = to
        self._touch(uow, it, FOLLOWS[to])

    # -- helpers -------------------------------------------------------------------------
    async def _replace(self, ctx: Ctx, id: uuid.UUID, legs: list[ItineraryLeg], *, keep: int) -> ItineraryOut:
        """Keep the first `keep` legs (all still there, or 409) and put `legs` after them."""
        async with self.uow() as uow:
            it = self._editable(await self._owned(uow, id, ctx.user_id))
            if keep and len(it.legs) != keep:
                raise ItineraryLocked("The itinerary changed meanwhile; reload it.")
            del it.legs[keep:]
            await uow.flush()  # the replaced legs go before the new ones take their seq numbers
            it.legs.extend(legs)
            self._touch(uow, it, ItineraryUpdated)
            await uow.flush()
            return ItineraryOut.model_validate(it)

    @staticmethod
    def _editable(it: Itinerary) -> Itinerary:
        if it.status != "planned" or it.booking_id is not None:
            raise ItineraryLocked(f"A {it.status} itinerary cannot change.", id=str(it.id), status=it.status)
        return it

    @staticmethod
    def _touch(uow, it: Itinerary, event: type[ItineraryEvent]) -> None:
        it.version, it.updated_at = it.version + 1, utcnow()
        uow.emit(event.of(it), entity_id=it.id, version=it.version)

    @staticmethod
    async def _owned(uow, id: uuid.UUID, user_id: uuid.UUID) -> Itinerary:
        it = await uow.repo(Itinerary, ItineraryNotFound).get(id)
        if it is None or it.owner_id != user_id:
            raise ItineraryNotFound("No such itinerary.", id=str(id))
        return it


SPEC = ServiceSpec("Itinerary Service", key="itineraries", prefix="/itineraries", service=Itineraries,
                   models="storage.models.itineraries", emits=ITINERARY_EVENTS,
                   grants={"sender": ("itineraries:read", "itineraries:write")})
