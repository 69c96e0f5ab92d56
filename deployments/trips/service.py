"""Trip Service (spec 4.8): travelers publish flight trips with spare luggage capacity.

Trip: draft -> published -> in_progress -> completed; draft/published -> cancelled.
Capacity lives in the trip-capacity shards (actors.capacity): the service creates the
capacity rows when a trip is published and goes through the trip's shard for every hold,
confirm, release, capacity change and for cancellation, never around it.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from sqlalchemy import delete, select

from actors.capacity import CAPACITY_EVENTS, HoldOut, RemainingOut, TripNotBookable
from deployments.kit import Ctx, Page, Service, ServiceSpec, internal, op
from deployments.kit.http import FormField, Upload
from deployments.kit.schemas import Limit, decode_cursor, encode_cursor
from deployments.trips.errors import (ArrivalBeforeDeparture, DepartureInPast, DocumentRejected, ItemNotAllowed,
                                      LegsDiscontinuous, LegsOutOfOrder, NotTheTraveler, SameAirport,
                                      TripLegNotFound, TripNotEditable, TripNotFound, TripStateConflict,
                                      UnknownAirport)
from deployments.trips.schemas import (Category, ConstraintsIn, DocumentKind, DocumentOut, LegIn, TripCreate,
                                       TripLegOut, TripLegRef, TripOut, TripStatus, TripUpdate)
from deployments.trips.shards import CapacityShards, LocalShards, RayShards
from deployments.trips.events import (PublishedCapacity, PublishedLeg, PublishedPrice, TripCancelled, TripCompleted,
                                      TripCreated, TripDocumentAdded, TripPublished, TripStarted, TripUpdated)
from p2p.errors import NotFound
from storage.db import utcnow
from storage.models.trips import CapacityHold, LegCapacity, Trip, TripConstraint, TripDocument, TripLeg

PUBLIC = ("published", "in_progress", "completed")
MAX_FLIGHT = timedelta(hours=24)
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAGIC = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}


class Trips(Service):
    _shards: CapacityShards | None = None

    @property
    def shards(self) -> CapacityShards:
        """The capacity shards: Ray actors under Ray, objects of this process otherwise."""
        if self._shards is None:
            url, n = self.settings.effective_database_url, self.settings.capacity_shards
            self._shards = (RayShards(n, url) if self.rt.under_ray
                            else LocalShards(n, url, sweep_s=self.settings.capacity_sweep_s))
        return self._shards

    # -- traveler operations -------------------------------------------------------------
    @op("POST /trips", status=201, perm="trips:write")
    async def create(self, ctx: Ctx, body: TripCreate) -> TripOut:
        """Create a draft trip of 1-4 chained flight legs. Airports are checked with the
        Location Service; arrival must follow departure and each leg depart where the
        previous one arrived, after it arrived."""
        legs = await self._resolve_legs(body.legs)
        trip_id = uuid.uuid4()
        async with self.uow() as uow:
            trip = uow.add(Trip(id=trip_id, traveler_id=ctx.user_id, status="draft", notes=body.notes,
                                **self._capacity_cols(body.capacity), **self._price_cols(body.price)))
            await uow.flush()
            self._add_legs(uow, trip_id, legs)
            uow.add(TripConstraint(trip_id=trip_id, **body.constraints.model_dump()))
            uow.emit(TripCreated(trip_id=trip_id, traveler_id=ctx.user_id), entity_id=trip_id)
            await uow.flush()
            return await self._out(uow, trip)

    @op("GET /trips", perm="trips:read")
    async def mine(self, ctx: Ctx, status: TripStatus | None = None, limit: Limit = 20,
                   cursor: str | None = None) -> Page[TripOut]:
        """The caller's own trips, oldest first."""
        async with self.uow(read=True) as uow:
            stmt = select(Trip).where(Trip.traveler_id == ctx.user_id)
            if status:
                stmt = stmt.where(Trip.status == status)
            rows, nxt = await uow.page(stmt, Trip, limit=limit, after=decode_cursor(cursor) if cursor else None)
            return Page(items=[await self._out(uow, t) for t in rows], next_cursor=encode_cursor(nxt) if nxt else None)

    @op("GET /trips/{id}", perm="trips:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """A published (or under-way, completed) trip for anyone signed in; drafts and
        cancelled trips only for their traveler."""
        async with self.uow(read=True) as uow:
            return await self._out(uow, await self._visible(uow, ctx, id))

    @op("GET /trips/{id}/capacity", perm="trips:read")
    async def capacity(self, ctx: Ctx, id: uuid.UUID) -> RemainingOut:
        """What each leg offers, holds and has booked, and what remains."""
        async with self.uow(read=True) as uow:
            await self._visible(uow, ctx, id)
        return await self.shards.call(id, "remaining")

    @op("PUT /trips/{id}", perm="trips:write")
    async def update(self, ctx: Ctx, id: uuid.UUID, body: TripUpdate) -> TripOut:
        """Change a draft or published trip (its traveler only). Legs change only in a
        draft; capacity never drops below what is held plus booked (409)."""
        async with self.uow(read=True) as uow:
            trip = await self._owned(uow, ctx, id)
        if trip.status not in ("draft", "published"):
            raise TripNotEditable(f"A {trip.status} trip cannot be changed.", status=trip.status)
        if body.legs is not None and trip.status != "draft":
            raise TripNotEditable("Legs change only while the trip is a draft.", status=trip.status)
        legs = await self._resolve_legs(body.legs) if body.legs is not None else None
        if body.capacity is not None and trip.status == "published":
            # Through the shard, so no hold slips in between the check and the change.
            await self.shards.call(id, "set_capacity", body.capacity.weight_g, body.capacity.volume_cm3,
                                   body.capacity.items)
        async with self.uow() as uow:
            trip = await self._owned(uow, ctx, id)
            if trip.status not in ("draft", "published") or (legs is not None and trip.status != "draft"):
                raise TripNotEditable(f"The trip became {trip.status}.", status=trip.status)
            if legs is not None:
                await uow.session.execute(delete(TripLeg).where(TripLeg.trip_id == id))
                self._add_legs(uow, id, legs)
            if body.capacity is not None:
                for k, v in self._capacity_cols(body.capacity).items():
                    setattr(trip, k, v)
            if body.price is not None:
                for k, v in self._price_cols(body.price).items():
                    setattr(trip, k, v)
            if body.constraints is not None:
                c = await uow.get(TripConstraint, id)
                for k, v in body.constraints.model_dump().items():
                    setattr(c, k, v)
            if "notes" in body.model_fields_set:
                trip.notes = body.notes
            trip.version += 1
            trip.updated_at = utcnow()
            uow.emit(TripUpdated(trip_id=id, fields=sorted(body.model_fields_set), status=trip.status),
                     entity_id=id, version=trip.version)
            await uow.flush()
            return await self._out(uow, trip)

    @op("POST /trips/{id}/publish", perm="trips:write")
    async def publish(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """Open a draft for bookings: its capacity becomes holdable on every leg."""
        async with self.uow() as uow:
            trip = await self._owned(uow, ctx, id)
            if trip.status != "draft":
                raise TripStateConflict(f"Only a draft can be published; this trip is {trip.status}.",
                                        status=trip.status)
            legs = await self._legs(uow, id)
            if legs[0].departs_at <= utcnow():
                raise DepartureInPast("The first flight has already departed.", departs_at=legs[0].departs_at.isoformat())
            for leg in legs:
                uow.add(LegCapacity(trip_id=id, leg_id=leg.id, open=True, **self._capacity_cols(trip)))
            trip.status, trip.published_at, trip.updated_at = "published", utcnow(), utcnow()
            trip.version += 1
            uow.emit(self._event(trip, legs, await uow.get(TripConstraint, id)), entity_id=id, version=trip.version)
            await uow.flush()
            return await self._out(uow, trip)

    @op("POST /trips/{id}/start", perm="trips:write")
    async def start(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """The traveler is on the way: no new holds; booked capacity stays."""
        return await self._move(ctx, id, frm=("published",), to="in_progress")

    @op("POST /trips/{id}/complete", perm="trips:write")
    async def complete(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """The traveler arrived at the last destination."""
        return await self._move(ctx, id, frm=("in_progress",), to="completed")

    @op("DELETE /trips/{id}", perm="trips:write")
    async def cancel(self, ctx: Ctx, id: uuid.UUID) -> TripOut:
        """Cancel a draft or published trip. Every hold and booking on it is released (and,
        for the bookings concerned, their holds on other trips), and `trip.cancelled` names
        the bookings so their owners can cancel them. Cancelling twice answers the same."""
        async with self.uow(read=True) as uow:
            trip = await self._owned(uow, ctx, id)
        if trip.status not in ("draft", "published", "cancelled"):
            raise TripStateConflict(f"A {trip.status} trip cannot be cancelled.", status=trip.status)
        released = await self.shards.call(id, "close_trip", "trip_cancelled")
        affected = set(released) | await self._bookings_on(id)
        await self._release_elsewhere(id, affected)
        async with self.uow() as uow:
            trip = await self._owned(uow, ctx, id)
            if trip.status != "cancelled":
                trip.status, trip.cancelled_at, trip.updated_at = "cancelled", utcnow(), utcnow()
                trip.version += 1
                uow.emit(TripCancelled(trip_id=id, traveler_id=trip.traveler_id, booking_ids=sorted(affected),
                                       released_holds=sorted(released)), entity_id=id, version=trip.version)
            await uow.flush()
            return await self._out(uow, trip)

    @op("POST /trips/{id}/documents", status=201, perm="trips:write")
    async def upload_document(self, ctx: Ctx, id: uuid.UUID, kind: Annotated[DocumentKind, FormField()],
                              file: Upload) -> DocumentOut:
        """Attach a ticket, boarding pass or itinerary (PDF, JPEG or PNG, 10 MB at most);
        the bytes go to the content-addressed blob store."""
        content_type = file.content_type.split(";")[0].strip().lower()
        if not file.data or len(file.data) > MAX_DOCUMENT_BYTES or not any(
                file.data.startswith(m) for m in MAGIC.get(content_type, ())):
            raise DocumentRejected("Upload a PDF, JPEG or PNG (10 MB at most) whose content matches its type.",
                                   content_type=content_type, size=len(file.data))
        async with self.uow(read=True) as uow:
            trip = await self._owned(uow, ctx, id)
        if trip.status in ("cancelled", "completed"):
            raise TripNotEditable(f"A {trip.status} trip takes no documents.", status=trip.status)
        ref = await self.rt.blobs.put(file.data, content_type)
        async with self.uow() as uow:
            doc = uow.add(TripDocument(id=uuid.uuid4(), trip_id=id, kind=kind, sha256=ref.sha256,
                                       filename=file.filename[-200:], content_type=content_type,
                                       size_bytes=ref.size, uploaded_by=ctx.user_id))
            uow.emit(TripDocumentAdded(trip_id=id, document_id=doc.id, kind=kind), entity_id=id)
            await uow.flush()
            return DocumentOut.model_validate(doc)

    # -- for other services --------------------------------------------------------------
    @internal
    async def leg(self, trip_id: uuid.UUID, leg_id: uuid.UUID) -> TripLegRef:
        async with self.uow(read=True) as uow:
            trip, leg = await uow.get(Trip, trip_id), await uow.get(TripLeg, leg_id)
        if trip is None or leg is None or leg.trip_id != trip_id:
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
        """Hold capacity for a booking on legs of a published trip, checking the trip's
        constraints first. Idempotent by booking id."""
        async with self.uow(read=True) as uow:
            trip = await uow.get(Trip, trip_id)
            constraints = await uow.get(TripConstraint, trip_id) if trip else None
        if trip is None:
            raise TripNotFound("No such trip.", id=str(trip_id))
        if trip.status != "published":
            raise TripNotBookable(f"The trip is {trip.status}; it takes no bookings.", trip_id=str(trip_id),
                                  status=trip.status)
        self._check_item(constraints, weight_g, items, category)
        return await self.shards.call(trip_id, "hold", leg_ids, booking_id, weight_g, volume_cm3, items,
                                      ttl_s or self.settings.booking_hold_ttl_s)

    @internal
    async def confirm(self, trip_id: uuid.UUID, booking_id: uuid.UUID) -> HoldOut:
        return await self.shards.call(trip_id, "confirm", booking_id)

    @internal
    async def release(self, trip_id: uuid.UUID, booking_id: uuid.UUID, reason: str = "released") -> HoldOut | None:
        return await self.shards.call(trip_id, "release", booking_id, reason)

    @internal
    async def remaining(self, trip_id: uuid.UUID) -> RemainingOut:
        return await self.shards.call(trip_id, "remaining")

    # -- helpers -------------------------------------------------------------------------
    async def _resolve_legs(self, legs: list[LegIn]) -> list[tuple[LegIn, dict, dict]]:
        airports: dict[str, dict] = {}
        for i, leg in enumerate(legs):
            if leg.origin == leg.destination:
                raise SameAirport("A leg must fly between two airports.", leg=i, airport=leg.origin)
            if not leg.departs_at < leg.arrives_at <= leg.departs_at + MAX_FLIGHT:
                raise ArrivalBeforeDeparture("A leg must arrive after it departs, within 24 hours.", leg=i)
            if i and leg.origin != legs[i - 1].destination:
                raise LegsDiscontinuous(f"Leg {i} departs from {leg.origin}, not from {legs[i - 1].destination} "
                                        "where the previous leg arrives.", leg=i)
            if i and leg.departs_at < legs[i - 1].arrives_at:
                raise LegsOutOfOrder(f"Leg {i} departs before the previous leg arrives.", leg=i)
        if legs[0].departs_at <= utcnow():
            raise DepartureInPast("The first flight has already departed.", leg=0)
        for i, leg in enumerate(legs):
            for field in ("origin", "destination"):
                code = getattr(leg, field)
                if code not in airports:
                    try:
                        airports[code] = (await self.calls.locations.airport(code)).model_dump()
                    except NotFound:
                        raise UnknownAirport(f"No airport has the IATA code {code}.", leg=i, field=field,
                                             code=code) from None
        return [(leg, airports[leg.origin], airports[leg.destination]) for leg in legs]

    @staticmethod
    def _add_legs(uow, trip_id: uuid.UUID, legs: list[tuple[LegIn, dict, dict]]) -> None:
        for seq, (leg, a, b) in enumerate(legs):
            uow.add(TripLeg(id=uuid.uuid4(), trip_id=trip_id, seq=seq, origin_iata=leg.origin,
                            destination_iata=leg.destination, origin_location=a["id"], destination_location=b["id"],
                            origin_tz=a["tz"], destination_tz=b["tz"], departs_at=leg.departs_at,
                            arrives_at=leg.arrives_at, carrier=leg.carrier, flight_number=leg.flight_number))

    @staticmethod
    def _check_item(c: TripConstraint | None, weight_g: int, items: int, category: str | None) -> None:
        if c is None:
            return
        if c.max_item_weight_g is not None and weight_g > c.max_item_weight_g * items:
            raise ItemNotAllowed("The items are heavier than the trip allows per item.",
                                 max_item_weight_g=c.max_item_weight_g)
        if category and (category in (c.banned_categories or []) or (
                c.allowed_categories is not None and category not in c.allowed_categories)):
            raise ItemNotAllowed(f"The trip does not take {category}.", category=category)

    @staticmethod
    def _capacity_cols(src) -> dict:
        if isinstance(src, Trip):
            return {"capacity_g": src.capacity_g, "capacity_cm3": src.capacity_cm3, "capacity_items": src.capacity_items}
        return {"capacity_g": src.weight_g, "capacity_cm3": src.volume_cm3, "capacity_items": src.items}

    @staticmethod
    def _price_cols(p) -> dict:
        return {"price_per_kg_minor": p.per_kg_minor, "min_price_minor": p.min_price_minor, "currency": p.currency}

    async def _bookings_on(self, trip_id: uuid.UUID) -> set[uuid.UUID]:
        async with self.uow(read=True) as uow:
            return set(await uow.all(select(CapacityHold.booking_id).where(CapacityHold.trip_id == trip_id)))

    async def _release_elsewhere(self, trip_id: uuid.UUID, bookings: set[uuid.UUID]) -> None:
        """A booking is all its legs: with this trip gone, its holds on other trips go too."""
        if not bookings:
            return
        async with self.uow(read=True) as uow:
            rows = (await uow.session.execute(select(CapacityHold.trip_id, CapacityHold.booking_id).where(
                CapacityHold.booking_id.in_(bookings), CapacityHold.trip_id != trip_id,
                CapacityHold.status.in_(("held", "confirmed"))))).all()
        for other_trip, booking in rows:
            await self.shards.call(other_trip, "release", booking, "trip_cancelled")

    async def _move(self, ctx: Ctx, id: uuid.UUID, *, frm: tuple[str, ...], to: str) -> TripOut:
        async with self.uow() as uow:
            trip = await self._owned(uow, ctx, id)
            if trip.status not in frm:
                raise TripStateConflict(f"A {trip.status} trip cannot become {to}.", status=trip.status)
            trip.status, trip.updated_at = to, utcnow()
            trip.version += 1
            event = TripStarted if to == "in_progress" else TripCompleted
            uow.emit(event(trip_id=id, status=to), entity_id=id, version=trip.version)
            await uow.flush()
            return await self._out(uow, trip)

    async def _visible(self, uow, ctx: Ctx, id: uuid.UUID) -> Trip:
        trip = await uow.get(Trip, id)
        if trip is None or (trip.status not in PUBLIC and trip.traveler_id != ctx.user_id
                            and not await self.can(ctx, "trips:read:any")):
            raise TripNotFound("No such trip.", id=str(id))
        return trip

    async def _owned(self, uow, ctx: Ctx, id: uuid.UUID) -> Trip:
        trip = await self._visible(uow, ctx, id)
        if trip.traveler_id != ctx.user_id and not await self.can(ctx, "trips:write:any"):
            raise NotTheTraveler("Only the trip's traveler may change it.", id=str(id))
        return trip

    @staticmethod
    async def _legs(uow, trip_id: uuid.UUID) -> list[TripLeg]:
        return await uow.all(select(TripLeg).where(TripLeg.trip_id == trip_id).order_by(TripLeg.seq))

    @staticmethod
    def _event(trip: Trip, legs: list[TripLeg], constraints: TripConstraint | None) -> TripPublished:
        return TripPublished(
            trip_id=trip.id, traveler_id=trip.traveler_id, status=trip.status,
            capacity=PublishedCapacity(weight_g=trip.capacity_g, volume_cm3=trip.capacity_cm3,
                                       items=trip.capacity_items),
            price=PublishedPrice(per_kg_minor=trip.price_per_kg_minor, min_price_minor=trip.min_price_minor,
                                 currency=trip.currency),
            constraints=ConstraintsIn.model_validate(constraints) if constraints else ConstraintsIn(),
            legs=[PublishedLeg(leg_id=x.id, origin_location=x.origin_location,
                               destination_location=x.destination_location, departs_at=x.departs_at,
                               arrives_at=x.arrives_at, carrier=x.carrier, flight_number=x.flight_number)
                  for x in legs])

    async def _out(self, uow, trip: Trip) -> TripOut:
        legs = await self._legs(uow, trip.id)
        c = await uow.get(TripConstraint, trip.id)
        docs = await uow.all(select(TripDocument).where(TripDocument.trip_id == trip.id)
                             .order_by(TripDocument.created_at))
        return TripOut(
            id=trip.id, traveler_id=trip.traveler_id, status=trip.status, notes=trip.notes, version=trip.version,
            legs=[TripLegOut(id=x.id, seq=x.seq, origin=x.origin_iata, destination=x.destination_iata,
                             origin_location=x.origin_location, destination_location=x.destination_location,
                             origin_tz=x.origin_tz, destination_tz=x.destination_tz, departs_at=x.departs_at,
                             arrives_at=x.arrives_at, carrier=x.carrier, flight_number=x.flight_number)
                  for x in legs],
            capacity={"weight_g": trip.capacity_g, "volume_cm3": trip.capacity_cm3, "items": trip.capacity_items},
            price={"per_kg_minor": trip.price_per_kg_minor, "min_price_minor": trip.min_price_minor,
                   "currency": trip.currency},
            constraints=ConstraintsIn.model_validate(c) if c else ConstraintsIn(),
            documents=[DocumentOut.model_validate(d) for d in docs], created_at=trip.created_at,
            updated_at=trip.updated_at, published_at=trip.published_at, cancelled_at=trip.cancelled_at)


SPEC = ServiceSpec("Trip Service", key="trips", prefix="/trips", service=Trips, models="storage.models.trips",
                   calls=("locations",),
                   emits=(TripCreated, TripUpdated, TripPublished, TripStarted, TripCompleted, TripCancelled,
                          TripDocumentAdded, *CAPACITY_EVENTS))
