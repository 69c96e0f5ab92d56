"""What a booking holds elsewhere, in as few calls as the callees allow: its itinerary,
checked and locked to it in one call (`itineraries.reserve`), then one `trips.hold` per
trip (every leg the booking takes of it at once, with the booking's TTL) and one
`couriers.hold_segment` per courier leg (segment check, a parcel and the weight of the
provider's day, and who accepts the leg, together; no TTL of its own). A 4-leg itinerary
takes at most 5 calls before the booking is written. `Bookings` inherits these."""
from __future__ import annotations

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


class BookingHolds(Service):
    itineraries = uses(ItineraryDesk, "itineraries")
    trips = uses(Trips)
    couriers = uses(Couriers)

    async def _hold(self, booking_id: uuid.UUID, legs: list[Any], rows: list[LegAssignment], body: BookingCreate,
                    ttl: int) -> None:
        """Hold every leg, in leg order; a leg that cannot be held is a 409 naming it (the
        caller releases what was held). `legs` are the itinerary's, `rows` their assignments."""
        trips: dict[Any, list[Any]] = {}
        for a in rows:
            if a.kind == "flight":
                trips.setdefault(a.trip_id, []).append(a.trip_leg_id)
        for leg, a in zip(legs, rows):
            try:
                if a.kind == "courier":
                    held = await self.couriers.hold_segment(a.segment_id, leg.starts_at.date(), body.weight_g,
                                                            courier_key(booking_id, a.seq))
                    a.carrier_id = held.carrier_id  # the provider's owner accepts the leg
                elif a.trip_id in trips:
                    await self.trips.hold(a.trip_id, trips.pop(a.trip_id), booking_id, body.weight_g,
                                          body.volume_cm3, body.items, ttl, body.category)
            except ProblemError as exc:
                if exc.status >= 500:
                    raise
                raise CapacityUnavailable(f"Leg {a.seq} ({a.kind}) cannot be held: {exc.message}", leg=a.seq,
                                          kind=a.kind, reason=exc.code) from None

    async def _release(self, booking_id: uuid.UUID, rows: list[LegAssignment], reason: str = "released") -> None:
        """Release every hold of the booking (idempotent; a leg never held is a no-op)."""
        for trip_id in dict.fromkeys(a.trip_id for a in rows if a.kind == "flight"):
            await self.trips.release(trip_id, booking_id, reason)
        for a in rows:
            if a.kind == "courier":
                await self.couriers.release_capacity(courier_key(booking_id, a.seq))

    async def _book_flights(self, booking_id: uuid.UUID, rows: list[LegAssignment]) -> None:
        """Turn the flight holds into booked capacity, one call per trip (409 once one expired).
        Courier holds are already the provider's used capacity."""
        for trip_id in dict.fromkeys(a.trip_id for a in rows if a.kind == "flight"):
            await self.trips.confirm(trip_id, booking_id)
