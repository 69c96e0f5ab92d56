"""What a booking holds elsewhere, in as few calls as the callees allow: its itinerary,
checked and locked to it in one call (`itineraries.reserve`), then one `trips.hold` per
trip (every leg the booking takes of it at once, with the booking's TTL) and one
`couriers.hold_segment` per courier leg (segment check, a parcel and the weight of the
provider's day, and who accepts the leg, together; no TTL of its own). A 4-leg itinerary
takes at most 5 calls before the booking is written, and the holds go out concurrently. `Bookings` inherits these."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Protocol

from deployments.bookings.errors import CapacityUnavailable
from deployments.bookings.schemas import BookingCreate
from deployments.couriers import Couriers
from deployments.kit import Service, uses
from deployments.trips import Trips
from p2p.errors import ProblemError
from storage.models.bookings import LegAssignment


def courier_key(booking_id: uuid.UUID, seq: int) -> str:
    """The courier hold's idempotency key: one per booking leg."""
    return f"booking:{booking_id}:{seq}"


class ItineraryDesk(Protocol):
    """What bookings call of the Itinerary Service (a Protocol: that service imports this
    one's events). Both answer its `ItineraryOut`."""

    async def reserve(self, itinerary_id: uuid.UUID, user_id: uuid.UUID, booking_id: uuid.UUID) -> Any: ...

    async def transition(self, itinerary_id: uuid.UUID, booking_id: uuid.UUID, to: str) -> Any: ...


class ShipmentDesk(Protocol):
    """What bookings call of the Shipment Service (a Protocol: it follows this one's events)."""

    async def attach(self, shipment_id: uuid.UUID, sender_id: uuid.UUID, booking_id: uuid.UUID) -> Any: ...

    async def detach(self, shipment_id: uuid.UUID, booking_id: uuid.UUID) -> None: ...


class BookingHolds(Service):
    itineraries = uses(ItineraryDesk, "itineraries")
    shipments = uses(ShipmentDesk, "shipments")
    trips = uses(Trips)
    couriers = uses(Couriers)

    async def _hold(self, booking_id: uuid.UUID, legs: list[Any], rows: list[LegAssignment], body: BookingCreate,
                    ttl: int) -> None:
        """Hold every leg, every trip's shard and every courier at once; a leg that cannot
        be held is a 409 naming the first such leg (the caller releases what was held).
        `legs` are the itinerary's, `rows` their assignments."""
        trips: dict[Any, list[Any]] = {}
        for a in rows:
            if a.kind == "flight":
                trips.setdefault(a.trip_id, []).append(a.trip_leg_id)

        async def one(leg: Any, a: LegAssignment) -> None:
            if a.kind == "courier":
                held = await self.couriers.hold_segment(a.segment_id, leg.starts_at.date(), body.weight_g,
                                                        courier_key(booking_id, a.seq))
                a.carrier_id = held.carrier_id  # the provider's owner accepts the leg
            elif a.trip_id in trips:
                await self.trips.hold(a.trip_id, trips.pop(a.trip_id), booking_id, body.weight_g,
                                      body.volume_cm3, body.items, ttl, body.category)

        outcomes = await asyncio.gather(*(one(leg, a) for leg, a in zip(legs, rows)), return_exceptions=True)
        for a, exc in zip(rows, outcomes):
            if isinstance(exc, ProblemError) and exc.status < 500:
                raise CapacityUnavailable(f"Leg {a.seq} ({a.kind}) cannot be held: {exc.message}", leg=a.seq,
                                          kind=a.kind, reason=exc.code) from None
        for exc in outcomes:
            if isinstance(exc, BaseException):
                raise exc

    async def _release(self, booking_id: uuid.UUID, rows: list[LegAssignment], reason: str = "released") -> None:
        """Release every hold of the booking, all at once (idempotent; a leg never held is a no-op)."""
        await asyncio.gather(
            *(self.trips.release(t, booking_id, reason) for t in dict.fromkeys(a.trip_id for a in rows
                                                                                 if a.kind == "flight")),
            *(self.couriers.release_capacity(courier_key(booking_id, a.seq)) for a in rows if a.kind == "courier"))

    async def _book_flights(self, booking_id: uuid.UUID, rows: list[LegAssignment]) -> None:
        """Turn the flight holds into booked capacity, every trip at once (409 once one
        expired). Courier holds are already the provider's used capacity."""
        await asyncio.gather(*(self.trips.confirm(t, booking_id)
                               for t in dict.fromkeys(a.trip_id for a in rows if a.kind == "flight")))
