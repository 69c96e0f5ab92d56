"""Trip Service (spec 4.8): travelers publish flight trips with spare luggage capacity.

Trip: draft -> published -> in_progress -> completed; draft/published -> cancelled.
Capacity lives in the trip-capacity shards (actors.capacity): the service creates the
capacity rows when a trip is published and goes through the trip's shard for every hold,
confirm, release, capacity change and for cancellation, never around it.
"""
from __future__ import annotations

import uuid
from typing import Annotated

from actors.capacity import CAPACITY_EVENTS
from deployments.kit import Ctx, FormField, ServiceSpec, crud, internal, op, uses
from deployments.locations import Locations
from deployments.trips import rules
from deployments.trips.capacity import TripCapacityDesk
from deployments.trips.errors import (
    DocumentRejected,
    NotTheTraveler,
    TripNotEditable,
    TripStateConflict,
    UnknownAirport,
)
from deployments.trips.events import (
    TripCancelled,
    TripCompleted,
    TripCreated,
    TripDocumentAdded,
    TripPublished,
    TripStarted,
    TripUpdated,
)
from deployments.trips.schemas import DocumentKind, DocumentOut, LegIn, TripCreate, TripOut, TripUpdate
from p2p.errors import NotFound
from p2p.uploads import Upload, check_upload
from p2p.vocab import TripStatus
from storage.models.trips import Trip, TripConstraint, TripDocument, TripLeg


class Trips(TripCapacityDesk):
    locations = uses(Locations)

    mine = crud.list_mine("GET /trips", Trip, TripOut, perm="trips:read", owner="traveler_id",
                          filters={"status": TripStatus}, doc="The caller's own trips, oldest first.")

    # -- traveler operations -------------------------------------------------------------
    @op("POST /trips", status=201, perm="trips:write")
    async def create(self, ctx: Ctx, body: TripCreate) -> TripOut:
        """Create a draft trip of 1-4 chained flight legs. Airports are checked with the
        Location Service; arrival must follow departure and each leg depart where the
        previous one arrived, after it arrived."""
        legs = await self._resolve_legs(body.legs)
        async with self.uow() as uow:
            trip = uow.repo(Trip).add(Trip(
                id=uuid.uuid4(), traveler_id=ctx.user_id, status="draft", notes=body.notes, legs=legs, documents=[],
                constraints=TripConstraint(**body.constraints.model_dump()), **rules.capacity_cols(body.capacity),
                **rules.price_cols(body.price)))
            uow.emit(TripCreated(trip_id=trip.id, traveler_id=ctx.user_id), entity_id=trip.id)
            await uow.flush()
            return TripOut.model_validate(trip)

    @internal  # the route planner reads a trip it follows (with a system ctx)
    @op("GET /trips/{id}", perm="trips:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """A published (or under-way, completed) trip for anyone signed in; drafts and
        cancelled trips only for their traveler."""
        async with self.uow(read=True) as uow:
            return TripOut.model_validate(await self._visible(uow, ctx, id))

    @op("PUT /trips/{id}", perm="trips:write")
    async def update(self, ctx: Ctx, id: uuid.UUID, body: TripUpdate) -> TripOut:
        """Change a draft or published trip (its traveler only). Legs change only in a
        draft; capacity never drops below what is held plus booked (409)."""
        async with self.uow(read=True) as uow:
            trip = rules.check_editable(await self._owned(uow, ctx, id), body)
        legs = await self._resolve_legs(body.legs) if body.legs is not None else None
        if body.capacity is not None and trip.status == "published":
            # Through the shard, so no hold slips in between the check and the change.
            await self.shards.call(id, "set_capacity", body.capacity.weight_g, body.capacity.volume_cm3,
                                   body.capacity.items)
        async with self.uow() as uow:
            trip = rules.check_editable(await self._owned(uow, ctx, id), body)
            if legs is not None:
                trip.legs.clear()
                await uow.flush()  # the old legs go before the new ones take their seq numbers
                trip.legs.extend(legs)
            rules.apply_update(trip, body)
            uow.emit(TripUpdated(trip_id=id, fields=sorted(body.model_fields_set), status=trip.status),
                     entity_id=id, version=trip.version)
            await uow.flush()
            return TripOut.model_validate(trip)

    @op("POST /trips/{id}/publish", perm="trips:write")
    async def publish(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """Open a draft for bookings: its capacity becomes holdable on every leg."""
        async with self.uow() as uow:
            trip = await self._owned(uow, ctx, id)
            for row in rules.publish(trip):
                uow.add(row)
            uow.emit(rules.published(trip), entity_id=id, version=trip.version)
            await uow.flush()
            return TripOut.model_validate(trip)

    @op("POST /trips/{id}/start", perm="trips:write")
    async def start(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """The traveler is on the way: no new holds; booked capacity stays."""
        return await self._move(ctx, id, frm="published", to="in_progress")

    @op("POST /trips/{id}/complete", perm="trips:write")
    async def complete(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """The traveler arrived at the last destination."""
        return await self._move(ctx, id, frm="in_progress", to="completed")

    @op("DELETE /trips/{id}", perm="trips:write")
    async def cancel(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """Cancel a draft or published trip. Every hold and booking on it is released (and,
        for the bookings concerned, their holds on other trips), and `trip.cancelled` names
        the bookings so their owners can cancel them. Cancelling twice answers the same."""
        async with self.uow(read=True) as uow:
            trip = await self._owned(uow, ctx, id)
        if trip.status not in ("draft", "published", "cancelled"):
            raise TripStateConflict(f"A {trip.status} trip cannot be cancelled.", status=trip.status)
        released, affected = await self._close(id)
        async with self.uow() as uow:
            trip = await self._owned(uow, ctx, id)
            if trip.status != "cancelled":
                rules.move(trip, ("draft", "published"), "cancelled").cancelled_at = trip.updated_at
                uow.emit(TripCancelled(trip_id=id, traveler_id=trip.traveler_id, booking_ids=sorted(affected),
                                       released_holds=sorted(released)), entity_id=id, version=trip.version)
            return TripOut.model_validate(trip)

    @op("POST /trips/{id}/documents", status=201, perm="trips:write")
    async def upload_document(self, ctx: Ctx, id: uuid.UUID, kind: Annotated[DocumentKind, FormField()],
                              file: Upload) -> DocumentOut:
        """Attach a ticket, boarding pass or itinerary (PDF, JPEG or PNG, 10 MB at most);
        the bytes go to the content-addressed blob store."""
        content_type = check_upload(file, too_large=DocumentRejected, unsupported=DocumentRejected)
        async with self.uow(read=True) as uow:
            trip = await self._owned(uow, ctx, id)
        if trip.status in ("cancelled", "completed"):
            raise TripNotEditable(f"A {trip.status} trip takes no documents.", status=trip.status)
        ref = await self.rt.blobs.put(file.data, content_type)
        async with self.uow() as uow:
            doc = uow.repo(TripDocument).add(TripDocument(
                id=uuid.uuid4(), trip_id=id, kind=kind, sha256=ref.sha256, filename=file.filename[-200:],
                content_type=content_type, size_bytes=ref.size, uploaded_by=ctx.user_id))
            uow.emit(TripDocumentAdded(trip_id=id, document_id=doc.id, kind=kind), entity_id=id)
            await uow.flush()
            return DocumentOut.model_validate(doc)

    # -- helpers -------------------------------------------------------------------------
    async def _resolve_legs(self, legs: list[LegIn]) -> list[TripLeg]:
        rules.check_chain(legs)
        airports = {}
        for i, leg in enumerate(legs):
            for field in ("origin", "destination"):
                code = getattr(leg, field)
                if code in airports:
                    continue
                try:
                    airports[code] = await self.locations.airport(code)
                except NotFound:
                    raise UnknownAirport(f"No airport has the IATA code {code}.", leg=i, field=field,
                                         code=code) from None
        return rules.leg_rows(legs, airports)

    async def _move(self, ctx: Ctx, id: uuid.UUID, *, frm: str, to: str) -> TripOut:
        async with self.uow() as uow:
            trip = rules.move(await self._owned(uow, ctx, id), (frm,), to)
            event = TripStarted if to == "in_progress" else TripCompleted
            uow.emit(event(trip_id=id, status=to), entity_id=id, version=trip.version)
            return TripOut.model_validate(trip)

    async def _owned(self, uow, ctx: Ctx, id: uuid.UUID) -> Trip:
        trip = await self._visible(uow, ctx, id)
        if trip.traveler_id != ctx.user_id and not await self.can(ctx, "trips:write:any"):
            raise NotTheTraveler("Only the trip's traveler may change it.", id=str(id))
        return trip


SPEC = ServiceSpec("Trip Service", key="trips", prefix="/trips", service=Trips, models="storage.models.trips",
                   emits=(TripCreated, TripUpdated, TripPublished, TripStarted, TripCompleted, TripCancelled,
                          TripDocumentAdded, *CAPACITY_EVENTS),
                   grants={"sender": ("trips:read",), "traveler": ("trips:read", "trips:write"),
                           "support": ("trips:read:any",)})
