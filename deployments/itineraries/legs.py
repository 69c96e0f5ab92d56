"""Where an itinerary's legs come from: a flight leg from the Trip Service, a courier leg
from the Local Courier Service, each checked there and against the leg before it.
`Itineraries` inherits these."""
from __future__ import annotations

import uuid
from datetime import timedelta

from deployments.couriers import Couriers
from deployments.itineraries.errors import ConnectionTooShort, LegsDiscontinuous, LegUnavailable, UnknownLeg
from deployments.itineraries.schemas import CourierLegIn, FlightLegIn, LegIn
from deployments.kit import Service, uses
from deployments.trips import Trips
from p2p.errors import NotFound
from storage.db import utcnow
from storage.models.itineraries import ItineraryLeg


class LegSources(Service):
    trips = uses(Trips)
    couriers = uses(Couriers)

    async def _resolve(self, legs: list[LegIn], *, prev: ItineraryLeg | None = None,
                       first_seq: int = 0) -> list[ItineraryLeg]:
        """The legs as rows: each known and bookable, in the future, starting where the
        previous one ends and at least the connection buffer after it."""
        buffer, min_min, out = timedelta(minutes=self.settings.min_connection_min), self.settings.min_connection_min, []
        for i, leg in enumerate(legs, start=first_seq):
            row = await (self._flight(leg, i) if isinstance(leg, FlightLegIn) else self._courier(leg, i))
            if row.starts_at <= utcnow():
                raise LegUnavailable("The leg starts in the past.", leg=i)
            if prev is not None and row.from_location != prev.to_location:
                raise LegsDiscontinuous(f"Leg {i} starts at {row.from_location}, but the previous leg ends at "
                                        f"{prev.to_location}.", leg=i, expected=prev.to_location,
                                        got=row.from_location)
            if prev is not None and row.starts_at < prev.ends_at + buffer:
                raise ConnectionTooShort(f"Leg {i} starts less than {min_min} min after the previous leg ends.",
                                         leg=i, min_connection_min=min_min)
            out.append(row)
            prev = row
        return out

    async def _flight(self, leg: FlightLegIn, i: int) -> ItineraryLeg:
        try:
            ref = await self.trips.leg(leg.trip_id, leg.leg_id)
        except NotFound:
            raise UnknownLeg("No such trip leg.", leg=i, trip_id=str(leg.trip_id)) from None
        if ref.trip_status != "published":
            raise LegUnavailable(f"The trip is {ref.trip_status}.", leg=i, trip_id=str(leg.trip_id))
        return ItineraryLeg(id=uuid.uuid4(), seq=i, status="planned", kind="flight", trip_id=leg.trip_id,
                            trip_leg_id=leg.leg_id, carrier_id=ref.traveler_id, from_location=ref.origin_location,
                            to_location=ref.destination_location, starts_at=ref.departs_at, ends_at=ref.arrives_at)

    async def _courier(self, leg: CourierLegIn, i: int) -> ItineraryLeg:
        try:
            seg = await self.couriers.segment(leg.segment_id)
        except NotFound:
            raise UnknownLeg("No such courier segment.", leg=i, segment_id=str(leg.segment_id)) from None
        if not seg.active:
            raise LegUnavailable("The courier segment is not active.", leg=i, segment_id=str(leg.segment_id))
        return ItineraryLeg(id=uuid.uuid4(), seq=i, status="planned", kind="courier", segment_id=leg.segment_id,
                            carrier_id=seg.provider_id, from_location=seg.from_location, to_location=seg.to_location,
                            starts_at=leg.starts_at, ends_at=leg.starts_at + timedelta(minutes=seg.duration_min))
