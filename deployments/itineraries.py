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
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, RootModel
from sqlalchemy import delete, select

from deployments.kit import Ctx, Page, Schema, Service, ServiceSpec, internal, on, op
from deployments.kit.events import Event
from deployments.kit.schemas import Limit, decode_cursor, encode_cursor
from p2p.errors import Conflict, NotFound, Unprocessable
from storage.db import utcnow
from storage.models.itineraries import Itinerary, ItineraryLeg

MAX_LEGS = 4
Status = Literal["planned", "requested", "booked", "in_progress", "completed", "cancelled"]


class FlightLegIn(Schema):
    kind: Literal["flight"]
    trip_id: uuid.UUID
    leg_id: uuid.UUID


class CourierLegIn(Schema):
    kind: Literal["courier"]
    segment_id: uuid.UUID
    starts_at: AwareDatetime = Field(description="When the courier starts the segment")


LegIn = Annotated[FlightLegIn | CourierLegIn, Field(discriminator="kind")]


class NewLeg(RootModel[LegIn]):
    """One leg, flight or courier, as a JSON body."""


class ItineraryIn(Schema):
    legs: list[LegIn] = Field(min_length=1, max_length=MAX_LEGS)


class ItineraryLegOut(Schema):
    id: uuid.UUID
    seq: int
    kind: Literal["flight", "courier"]
    trip_id: uuid.UUID | None = None
    trip_leg_id: uuid.UUID | None = None
    segment_id: uuid.UUID | None = None
    carrier_id: uuid.UUID | None = Field(default=None, description="The traveler, or the courier provider")
    from_location: str
    to_location: str
    starts_at: datetime
    ends_at: datetime
    status: Status


class ItineraryOut(Schema):
    id: uuid.UUID
    owner_id: uuid.UUID
    status: Status
    booking_id: uuid.UUID | None = None
    legs: list[ItineraryLegOut]
    version: int
    created_at: datetime
    updated_at: datetime


class ItineraryNotFound(NotFound):
    """No such itinerary, or not the caller's."""
    code = "itinerary.not_found"


class UnknownLeg(Unprocessable):
    """A leg names a trip leg or courier segment that does not exist."""
    code = "itinerary.unknown_leg"


class LegUnavailable(Unprocessable):
    """The trip is not published, the segment inactive, or the leg starts in the past."""
    code = "itinerary.leg_unavailable"


class LegsDiscontinuous(Unprocessable):
    """A leg does not start where the previous one ends."""
    code = "itinerary.discontinuous"


class ConnectionTooShort(Unprocessable):
    """A leg starts less than the minimum connection time after the previous one ends."""
    code = "itinerary.connection_too_short"


class TooManyLegs(Unprocessable):
    """An itinerary has at most four legs."""
    code = "itinerary.too_many_legs"


class ItineraryLocked(Conflict):
    """The itinerary is booked or being booked; its legs cannot change."""
    code = "itinerary.locked"


class Itineraries(Service):
    @op("POST /itineraries", status=201, perm="itineraries:write")
    async def create(self, ctx: Ctx, body: ItineraryIn) -> ItineraryOut:
        """Plan an itinerary of 1-4 continuous legs."""
        legs = await self._resolve(body.legs)
        async with self.uow() as uow:
            it = uow.add(Itinerary(id=uuid.uuid4(), owner_id=ctx.user_id, status="planned"))
            await uow.flush()
            self._add(uow, it.id, legs)
            uow.emit("itinerary.created", it.id, {"itinerary_id": str(it.id), "owner_id": str(ctx.user_id)})
            await uow.flush()
            return await self._out(uow, it)

    @op("GET /itineraries", perm="itineraries:read")
    async def mine(self, ctx: Ctx, limit: Limit = 20, cursor: str | None = None) -> Page[ItineraryOut]:
        """The caller's itineraries, oldest first."""
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.page(select(Itinerary).where(Itinerary.owner_id == ctx.user_id), Itinerary,
                                       limit=limit, after=decode_cursor(cursor) if cursor else None)
            return Page(items=[await self._out(uow, r) for r in rows], next_cursor=encode_cursor(nxt) if nxt else None)

    @op("GET /itineraries/{id}", perm="itineraries:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> ItineraryOut:
        """One's own itinerary."""
        async with self.uow(read=True) as uow:
            return await self._out(uow, await self._owned(uow, id, ctx.user_id))

    @op("PUT /itineraries/{id}", perm="itineraries:write")
    async def update(self, ctx: Ctx, id: uuid.UUID, body: ItineraryIn) -> ItineraryOut:
        """Replace every leg, while the itinerary is only planned."""
        async with self.uow(read=True) as uow:
            self._editable(await self._owned(uow, id, ctx.user_id))
        legs = await self._resolve(body.legs)
        async with self.uow() as uow:
            it = self._editable(await self._owned(uow, id, ctx.user_id))
            await uow.session.execute(delete(ItineraryLeg).where(ItineraryLeg.itinerary_id == id))
            self._add(uow, id, legs)
            self._touch(uow, it, "itinerary.updated")
            await uow.flush()
            return await self._out(uow, it)

    @op("POST /itineraries/{id}/legs", status=201, perm="itineraries:write")
    async def add_leg(self, ctx: Ctx, id: uuid.UUID, body: NewLeg) -> ItineraryOut:
        """Append one leg; it must continue from the current last leg."""
        async with self.uow(read=True) as uow:
            it = self._editable(await self._owned(uow, id, ctx.user_id))
            current = await self._legs(uow, id)
        if len(current) >= MAX_LEGS:
            raise TooManyLegs(f"An itinerary has at most {MAX_LEGS} legs.")
        last = current[-1]
        prev = {"from_location": last.from_location, "to_location": last.to_location, "starts_at": last.starts_at,
                "ends_at": last.ends_at}
        [leg] = await self._resolve([body.root], prev=prev, first_seq=len(current))
        async with self.uow() as uow:
            it = self._editable(await self._owned(uow, id, ctx.user_id))
            if len(await self._legs(uow, id)) != len(current):
                raise ItineraryLocked("The itinerary changed meanwhile; reload it.")
            self._add(uow, id, [leg], first_seq=len(current))
            self._touch(uow, it, "itinerary.updated")
            await uow.flush()
            return await self._out(uow, it)

    # -- for the Booking Service ---------------------------------------------------------
    @internal
    async def owned(self, itinerary_id: uuid.UUID, user_id: uuid.UUID) -> ItineraryOut:
        async with self.uow(read=True) as uow:
            return await self._out(uow, await self._owned(uow, itinerary_id, user_id))

    @internal
    async def transition(self, itinerary_id: uuid.UUID, booking_id: uuid.UUID, to: str) -> ItineraryOut:
        """Follow a booking: `requested` locks a planned itinerary to `booking_id` (409 if
        another booking has it); `booked`, `planned` and `cancelled` apply only for that
        booking. Idempotent."""
        async with self.uow() as uow:
            it = await uow.get(Itinerary, itinerary_id)
            if it is None:
                raise ItineraryNotFound("No such itinerary.", id=str(itinerary_id))
            await self._apply(uow, it, booking_id, to)
            await uow.flush()
            return await self._out(uow, it)

    @on("booking.expired")
    async def on_booking_expired(self, uow, event: Event) -> None:
        await self._follow(uow, event)

    @on("booking.declined")
    async def on_booking_declined(self, uow, event: Event) -> None:
        await self._follow(uow, event)

    @on("booking.cancelled")
    async def on_booking_cancelled(self, uow, event: Event) -> None:
        await self._follow(uow, event)

    async def _follow(self, uow, event: Event) -> None:
        it = await uow.get(Itinerary, uuid.UUID(event.payload["itinerary_id"]))
        if it is not None:
            to = "cancelled" if event.payload.get("was") == "confirmed" else "planned"
            await self._apply(uow, it, uuid.UUID(event.payload["booking_id"]), to)

    async def _apply(self, uow, it: Itinerary, booking_id: uuid.UUID, to: str) -> None:
        if to == "requested":
            if it.booking_id == booking_id:
                return
            if it.status != "planned" or it.booking_id is not None:
                raise ItineraryLocked("The itinerary is already booked or being booked.", id=str(it.id),
                                      status=it.status)
            it.booking_id = booking_id
        elif it.booking_id != booking_id or it.status == to:
            return
        elif to not in ("booked", "planned", "cancelled"):
            raise ValueError(f"no itinerary transition to {to!r}")
        if to == "planned":
            it.booking_id = None
        for leg in await self._legs(uow, it.id):
            leg.status = to
        it.status = to
        self._touch(uow, it, f"itinerary.{to}")

    # -- helpers -------------------------------------------------------------------------
    async def _resolve(self, legs: list, *, prev: dict | None = None, first_seq: int = 0) -> list[dict]:
        buffer = timedelta(minutes=self.settings.min_connection_min)
        out: list[dict] = []
        now = utcnow()
        for i, leg in enumerate(legs, start=first_seq):
            row = await self._resolve_one(leg, i)
            if row["starts_at"] <= now:
                raise LegUnavailable("The leg starts in the past.", leg=i)
            if prev is not None:
                if row["from_location"] != prev["to_location"]:
                    raise LegsDiscontinuous(f"Leg {i} starts at {row['from_location']}, but the previous leg ends "
                                            f"at {prev['to_location']}.", leg=i, expected=prev["to_location"],
                                            got=row["from_location"])
                if row["starts_at"] < prev["ends_at"] + buffer:
                    raise ConnectionTooShort(f"Leg {i} starts less than {self.settings.min_connection_min} min "
                                             "after the previous leg ends.", leg=i,
                                             min_connection_min=self.settings.min_connection_min)
            out.append(row)
            prev = row
        return out

    async def _resolve_one(self, leg, i: int) -> dict:
        if isinstance(leg, FlightLegIn):
            try:
                ref = await self.calls.trips.leg(leg.trip_id, leg.leg_id)
            except NotFound:
                raise UnknownLeg("No such trip leg.", leg=i, trip_id=str(leg.trip_id)) from None
            if ref.trip_status != "published":
                raise LegUnavailable(f"The trip is {ref.trip_status}.", leg=i, trip_id=str(leg.trip_id))
            return {"kind": "flight", "trip_id": leg.trip_id, "trip_leg_id": leg.leg_id, "carrier_id": ref.traveler_id,
                    "from_location": ref.origin_location, "to_location": ref.destination_location,
                    "starts_at": ref.departs_at, "ends_at": ref.arrives_at}
        try:
            seg = await self.calls.couriers.segment(leg.segment_id)
        except NotFound:
            raise UnknownLeg("No such courier segment.", leg=i, segment_id=str(leg.segment_id)) from None
        if not seg.active:
            raise LegUnavailable("The courier segment is not active.", leg=i, segment_id=str(leg.segment_id))
        return {"kind": "courier", "segment_id": leg.segment_id, "carrier_id": seg.provider_id,
                "from_location": seg.from_location, "to_location": seg.to_location, "starts_at": leg.starts_at,
                "ends_at": leg.starts_at + timedelta(minutes=seg.duration_min)}

    @staticmethod
    def _add(uow, itinerary_id: uuid.UUID, legs: list[dict], first_seq: int = 0) -> None:
        for seq, leg in enumerate(legs, start=first_seq):
            uow.add(ItineraryLeg(id=uuid.uuid4(), itinerary_id=itinerary_id, seq=seq, status="planned", **leg))

    @staticmethod
    def _editable(it: Itinerary) -> Itinerary:
        if it.status != "planned" or it.booking_id is not None:
            raise ItineraryLocked(f"A {it.status} itinerary cannot change.", id=str(it.id), status=it.status)
        return it

    @staticmethod
    def _touch(uow, it: Itinerary, topic: str) -> None:
        it.version += 1
        it.updated_at = utcnow()
        uow.emit(topic, it.id, {"itinerary_id": str(it.id), "owner_id": str(it.owner_id), "status": it.status,
                                "booking_id": str(it.booking_id) if it.booking_id else None}, version=it.version)

    @staticmethod
    async def _owned(uow, id: uuid.UUID, user_id: uuid.UUID) -> Itinerary:
        it = await uow.get(Itinerary, id)
        if it is None or it.owner_id != user_id:
            raise ItineraryNotFound("No such itinerary.", id=str(id))
        return it

    @staticmethod
    async def _legs(uow, id: uuid.UUID) -> list[ItineraryLeg]:
        return await uow.all(select(ItineraryLeg).where(ItineraryLeg.itinerary_id == id).order_by(ItineraryLeg.seq))

    async def _out(self, uow, it: Itinerary) -> ItineraryOut:
        legs = await self._legs(uow, it.id)
        return ItineraryOut(id=it.id, owner_id=it.owner_id, status=it.status, booking_id=it.booking_id,
                            legs=[ItineraryLegOut.model_validate(x) for x in legs], version=it.version,
                            created_at=it.created_at, updated_at=it.updated_at)


SPEC = ServiceSpec("Itinerary Service", key="itineraries", prefix="/itineraries", service=Itineraries,
                   models="storage.models.itineraries", calls=("trips", "couriers"))
