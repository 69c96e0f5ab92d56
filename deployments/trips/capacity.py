"""The Trip Service's capacity side: the trip-capacity shards it goes through, who sees a
trip and what remains of it, and the calls other services make on a trip (a leg's
details, holds, confirms, releases). `Trips` inherits these: they are its operations."""
from __future__ import annotations

import asyncio
import uuid

from actors.capacity import ACTIVE, HoldOut, RemainingOut, TripNotBookable
from deployments.kit import Ctx, Service, internal, op
from deployments.trips.errors import TripLegNotFound, TripNotFound
from deployments.trips.rules import PUBLIC, check_item
from deployments.trips.schemas import TripLegRef
from deployments.trips.shards import CapacityShards, LocalShards, RayShards
from p2p.vocab import Category
from storage.models.trips import CapacityHold, Trip, TripLeg


class TripCapacityDesk(Service):
    _shards: CapacityShards | None = None

    @property
    def shards(self) -> CapacityShards:
        """The capacity shards: Ray actors under Ray, objects of this process otherwise."""
        if self._shards is None:
            url, n = self.settings.effective_database_url, self.settings.capacity_shards
            self._shards = (RayShards(n, url) if self.rt.under_ray
                            else LocalShards(n, url, sweep_s=self.settings.capacity_sweep_s))
        return self._shards

    @op("GET /trips/{id}/capacity", perm="trips:read")
    async def capacity(self, ctx: Ctx, id: uuid.UUID) -> RemainingOut:
        """What each leg offers, holds and has booked, and what remains."""
        async with self.uow(read=True) as uow:
            await self._visible(uow, ctx, id)
        return await self.remaining(id)

    @internal
    async def leg(self, trip_id: uuid.UUID, leg_id: uuid.UUID) -> TripLegRef:
        """One leg with what an itinerary needs of its trip (traveler, status, price)."""
        async with self.uow(read=True) as uow:
            leg = await uow.repo(TripLeg).get(leg_id)
            trip = await uow.repo(Trip).get(trip_id) if leg is not None and leg.trip_id == trip_id else None
        if trip is None or leg is None:
            raise TripLegNotFound("The trip has no such leg.", trip_id=str(trip_id), leg_id=str(leg_id))
        return TripLegRef(trip_id=trip_id, leg_id=leg_id, traveler_id=trip.traveler_id, trip_status=trip.status,
                          origin_location=leg.origin_location, destination_location=leg.destination_location,
                          departs_at=leg.departs_at, arrives_at=leg.arrives_at, carrier=leg.carrier,
                          flight_number=leg.flight_number, price_per_kg_minor=trip.price_per_kg_minor,
                          min_price_minor=trip.min_price_minor, currency=trip.currency)

    @internal
    async def hold(self, trip_id: uuid.UUID, leg_ids: list[uuid.UUID], booking_id: uuid.UUID, weight_g: int,
                   volume_cm3: int, items: int, ttl_s: float | None = None,
                   category: Category | None = None) -> HoldOut:
        """Hold capacity for a booking on legs of a published trip (every leg the booking
        takes of it, in one hold), checking the trip's constraints first. Idempotent by
        booking id."""
        async with self.uow(read=True) as uow:
            trip = await uow.repo(Trip, TripNotFound).get_or_404(trip_id)
        if trip.status != "published":
            raise TripNotBookable(f"The trip is {trip.status}; it takes no bookings.", trip_id=str(trip_id),
                                  status=trip.status)
        check_item(trip.constraints, weight_g, items, category)
        return await self.shards.call(trip_id, "hold", leg_ids, booking_id, weight_g, volume_cm3, items,
                                      ttl_s or self.settings.booking_hold_ttl_s)

    @internal
    async def confirm(self, trip_id: uuid.UUID, booking_id: uuid.UUID) -> HoldOut:
        """Turn the booking's live hold into booked capacity (409 once it expired or was released)."""
        return await self.shards.call(trip_id, "confirm", booking_id)

    @internal
    async def release(self, trip_id: uuid.UUID, booking_id: uuid.UUID, reason: str = "released") -> HoldOut | None:
        """Give the booking's held or booked capacity back; None if it holds nothing here."""
        return await self.shards.call(trip_id, "release", booking_id, reason)

    @internal
    async def remaining(self, trip_id: uuid.UUID) -> RemainingOut:
        return await self.shards.call(trip_id, "remaining")

    async def _close(self, trip_id: uuid.UUID) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
        """Close the trip in its shard, releasing every hold on it, and release the holds
        of its bookings on other trips too (a booking is all its legs or none). The
        bookings whose holds were released here, and every booking that held this trip."""
        released = await self.shards.call(trip_id, "close_trip", "trip_cancelled")
        async with self.uow(read=True) as uow:
            holds = uow.repo(CapacityHold)
            bookings = {h.booking_id for h in await holds.list(trip_id=trip_id, order_by=CapacityHold.created_at)}
            others = await holds.list(CapacityHold.booking_id.in_(bookings), CapacityHold.trip_id != trip_id,
                                      CapacityHold.status.in_(ACTIVE), order_by=CapacityHold.created_at)
        await asyncio.gather(*(self.shards.call(h.trip_id, "release", h.booking_id, "trip_cancelled")
                               for h in others))
        return released, set(released) | bookings

    async def _visible(self, uow, ctx: Ctx, id: uuid.UUID) -> Trip:
        trip = await uow.repo(Trip).get(id)
        if trip is None or (trip.status not in PUBLIC and trip.traveler_id != ctx.user_id
                            and not await self.can(ctx, "trips:read:any")):
            raise TripNotFound("No such trip.", id=str(id))
        return trip
