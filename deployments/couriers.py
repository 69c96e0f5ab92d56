"""Local Courier Service (spec 5.10): courier providers, the areas they serve (GeoJSON), the
local segments they sell (e.g. a city to its airport, priced in minor units), and their daily
capacity. The route planner reads segments through `segments`/`segment`/`serves` and follows
`segment.published` / `segment.updated` events."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import EmailStr, Field, field_validator, model_validator
from sqlalchemy import delete, select, update

from p2p.events import DomainEvent
from deployments.kit import Ctx, Page, Schema, Service, ServiceSpec, internal, op
from deployments.kit.schemas import Limit, decode_cursor, encode_cursor
from p2p import geo
from p2p.errors import Conflict, Forbidden, NotFound, Unprocessable
from p2p.money import Currency
from storage.db import utcnow
from storage.models.couriers import (
    LocalCapacityDay,
    LocalCapacityHold,
    LocalCourierProvider,
    LocalSegment,
    LocalServiceArea,
)

LocationId = Annotated[str, Field(min_length=3, max_length=96, description="A Location Service id: apt:LHR, "
                                  "city:GB:london, addr:<uuid>")]


class ProviderCreate(Schema):
    name: str = Field(min_length=1, max_length=120)
    city_id: LocationId = Field(description="The provider's home city, e.g. city:GB:london")
    contact_email: EmailStr | None = None
    max_parcels_per_day: int = Field(ge=1, le=100_000)
    max_weight_g_per_day: int = Field(ge=1, le=100_000_000)


class ProviderOut(Schema):
    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    city_id: str
    country: str
    contact_email: str | None
    max_parcels_per_day: int
    max_weight_g_per_day: int
    active: bool
    created_at: datetime


class AreaIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, [lon, lat] positions")

    check_geometry = field_validator("geometry")(classmethod(lambda cls, v: geo.validate_geometry(v)))


class AreasIn(Schema):
    areas: list[AreaIn] = Field(max_length=50)


class AreaOut(Schema):
    id: uuid.UUID
    name: str
    geometry: dict[str, Any]
    bbox: list[float]


class AreasOut(Schema):
    provider_id: uuid.UUID
    areas: list[AreaOut]


class SegmentCreate(Schema):
    from_location: LocationId
    to_location: LocationId
    duration_min: int = Field(ge=1, le=24 * 60)
    price_minor: int = Field(ge=0, le=10**9, description="Integer minor units of `currency`")
    currency: Currency
    max_weight_g: int = Field(ge=1, le=100_000_000)


    @model_validator(mode="after")
    def _two_places(self):
        if self.from_location == self.to_location:
            raise ValueError("a segment goes between two different locations")
        return self


class SegmentUpdate(Schema):
    duration_min: int | None = Field(default=None, ge=1, le=24 * 60)
    price_minor: int | None = Field(default=None, ge=0, le=10**9)
    currency: Currency | None = None
    max_weight_g: int | None = Field(default=None, ge=1, le=100_000_000)
    active: bool | None = None



class SegmentOut(Schema):
    id: uuid.UUID
    provider_id: uuid.UUID
    from_location: str
    to_location: str
    duration_min: int
    price_minor: int
    currency: str
    max_weight_g: int
    active: bool
    version: int = 1


class SegmentUnavailable(Conflict):
    """The segment is inactive or cannot carry the weight."""
    code = "courier.segment_unavailable"


class SegmentPublished(DomainEvent):
    """A courier segment was published; the fields of `SegmentOut`."""

    topic: ClassVar[str] = "segment.published"
    id: uuid.UUID
    provider_id: uuid.UUID
    from_location: str
    to_location: str
    duration_min: int
    price_minor: int
    currency: str
    max_weight_g: int
    active: bool
    version: int = 1


class SegmentUpdated(SegmentPublished):
    topic: ClassVar[str] = "segment.updated"


class SegmentHoldOut(Schema):
    segment_id: uuid.UUID
    provider_id: uuid.UUID
    carrier_id: uuid.UUID = Field(description="The provider's owner, who accepts the leg")
    day: date
    key: str


class CapacityOut(Schema):
    provider_id: uuid.UUID
    day: date
    max_parcels: int
    max_weight_g: int
    used_parcels: int
    used_weight_g: int
    remaining_parcels: int
    remaining_weight_g: int


class ProviderNotFound(NotFound):
    """No courier provider has this id."""
    code = "courier.not_found"


class SegmentNotFound(NotFound):
    """No segment has this id (for this provider)."""
    code = "courier.segment_not_found"


class NotProviderOwner(Forbidden):
    """Only the provider's owner (or couriers:manage:any) changes it."""
    code = "courier.not_owner"


class UnknownPlace(Unprocessable):
    """A location id the Location Service does not know, or of the wrong kind."""
    code = "courier.unknown_location"


class SegmentOverCapacity(Unprocessable):
    """A segment cannot carry more than the provider's daily weight."""
    code = "courier.segment_over_capacity"


class CapacityExhausted(Conflict):
    """The provider's parcels or weight for that day are sold out."""
    code = "courier.capacity_exhausted"


class Couriers(Service):
    @op("POST /couriers", status=201, perm="couriers:manage")
    async def register(self, ctx: Ctx, body: ProviderCreate) -> ProviderOut:
        """Register a courier provider owned by the caller, based in a known city."""
        city = await self._place(body.city_id, kinds=("city",))
        async with self.uow() as uow:
            p = uow.add(LocalCourierProvider(id=uuid.uuid4(), owner_id=ctx.user_id, country=city.country,
                                             active=True, **body.model_dump()))
            uow.emit("courier.registered", p.id, {"provider_id": str(p.id), "owner_id": str(ctx.user_id),
                                                  "city_id": body.city_id})
            await uow.flush()
            return ProviderOut.model_validate(p)

    @op("GET /couriers")
    async def list_providers(self, ctx: Ctx, city_id: str | None = None, country: str | None = None, mine: bool = False,
                   limit: Limit = 20, cursor: str | None = None) -> Page[ProviderOut]:
        """Active providers (all of one's own with `mine`), filtered by city id or country."""
        stmt = select(LocalCourierProvider)
        stmt = stmt.where(LocalCourierProvider.owner_id == ctx.user_id) if mine else \
            stmt.where(LocalCourierProvider.active.is_(True))
        if city_id:
            stmt = stmt.where(LocalCourierProvider.city_id == city_id)
        if country:
            stmt = stmt.where(LocalCourierProvider.country == country.upper())
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.page(stmt, LocalCourierProvider, limit=limit,
                                       after=decode_cursor(cursor) if cursor else None)
        return Page(items=[ProviderOut.model_validate(r) for r in rows],
                    next_cursor=encode_cursor(nxt) if nxt else None)

    @internal
    @op("GET /couriers/{id}")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> ProviderOut:
        """One provider."""
        async with self.uow(read=True) as uow:
            return ProviderOut.model_validate(await self._provider(uow, id))

    @op("PUT /couriers/{id}/areas", perm="couriers:manage")
    async def set_areas(self, ctx: Ctx, id: uuid.UUID, body: AreasIn) -> AreasOut:
        """Replace the provider's service areas (GeoJSON Polygons/MultiPolygons with closed
        rings of at least 4 positions). Owner only."""
        async with self.uow() as uow:
            await self._managed(uow, ctx, id)
            await uow.session.execute(delete(LocalServiceArea).where(LocalServiceArea.provider_id == id))
            rows = []
            for area in body.areas:
                min_lon, min_lat, max_lon, max_lat = geo.bbox(area.geometry)
                rows.append(uow.add(LocalServiceArea(id=uuid.uuid4(), provider_id=id, name=area.name,
                                                     geometry=area.geometry, min_lon=min_lon, min_lat=min_lat,
                                                     max_lon=max_lon, max_lat=max_lat)))
            uow.emit("courier.areas_updated", id, {"provider_id": str(id), "areas": len(rows)})
            return AreasOut(provider_id=id, areas=[self._area(a) for a in rows])

    @op("GET /couriers/{id}/areas")
    async def areas(self, ctx: Ctx, id: uuid.UUID) -> AreasOut:
        """The provider's service areas."""
        async with self.uow(read=True) as uow:
            await self._provider(uow, id)
            rows = await uow.all(select(LocalServiceArea).where(LocalServiceArea.provider_id == id)
                                 .order_by(LocalServiceArea.created_at, LocalServiceArea.id))
        return AreasOut(provider_id=id, areas=[self._area(a) for a in rows])

    @op("GET /couriers/{id}/capacity")
    async def capacity(self, ctx: Ctx, id: uuid.UUID, day: date | None = None) -> CapacityOut:
        """The provider's parcels and weight per day, and how much of `day` (UTC, default
        today) is already held."""
        async with self.uow(read=True) as uow:
            return await self._capacity(uow, await self._provider(uow, id), day or utcnow().date())

    @op("POST /couriers/{id}/segments", status=201, perm="couriers:manage")
    async def publish_segment(self, ctx: Ctx, id: uuid.UUID, body: SegmentCreate) -> SegmentOut:
        """Offer a local leg between two known locations (e.g. `city:GB:london` to `apt:LHR`)."""
        for loc in (body.from_location, body.to_location):
            await self._place(loc)
        async with self.uow() as uow:
            p = await self._managed(uow, ctx, id)
            self._within_day(p, body.max_weight_g)
            s = uow.add(LocalSegment(id=uuid.uuid4(), provider_id=id, active=True, version=1, **body.model_dump()))
            await uow.flush()
            out = SegmentOut.model_validate(s)
            uow.emit("segment.published", s.id, out.model_dump(mode="json"), version=1)
            return out

    @op("GET /couriers/{id}/segments")
    async def list_segments(self, ctx: Ctx, id: uuid.UUID) -> list[SegmentOut]:
        """The provider's segments, active or not."""
        async with self.uow(read=True) as uow:
            await self._provider(uow, id)
            rows = await uow.all(select(LocalSegment).where(LocalSegment.provider_id == id)
                                 .order_by(LocalSegment.created_at, LocalSegment.id))
        return [SegmentOut.model_validate(s) for s in rows]

    @op("PUT /couriers/{id}/segments/{segment_id}", perm="couriers:manage")
    async def update_segment(self, ctx: Ctx, id: uuid.UUID, segment_id: uuid.UUID, body: SegmentUpdate) -> SegmentOut:
        """Change a segment's price, duration, weight limit or withdraw it (`active: false`)."""
        async with self.uow() as uow:
            p = await self._managed(uow, ctx, id)
            s = await uow.get(LocalSegment, segment_id)
            if s is None or s.provider_id != id:
                raise SegmentNotFound("No such segment.", id=str(segment_id))
            changes = body.model_dump(exclude_unset=True, exclude_none=True)
            self._within_day(p, changes.get("max_weight_g", s.max_weight_g))
            for field, value in changes.items():
                setattr(s, field, value)
            s.version, s.updated_at = s.version + 1, utcnow()
            out = SegmentOut.model_validate(s)
            uow.emit("segment.updated", s.id, out.model_dump(mode="json"), version=s.version)
            return out

    # -- for other services ------------------------------------------------------------
    @internal
    async def segment(self, segment_id: uuid.UUID) -> SegmentOut:
        async with self.uow(read=True) as uow:
            s = await uow.get(LocalSegment, segment_id)
        if s is None:
            raise SegmentNotFound("No such segment.", id=str(segment_id))
        return SegmentOut.model_validate(s)

    @internal
    async def segments(self, *, from_location: str | None = None, to_location: str | None = None) -> list[SegmentOut]:
        stmt = (select(LocalSegment).join(LocalCourierProvider, LocalCourierProvider.id == LocalSegment.provider_id)
                .where(LocalSegment.active.is_(True), LocalCourierProvider.active.is_(True)))
        if from_location:
            stmt = stmt.where(LocalSegment.from_location == from_location)
        if to_location:
            stmt = stmt.where(LocalSegment.to_location == to_location)
        async with self.uow(read=True) as uow:
            rows = await uow.all(stmt.order_by(LocalSegment.created_at, LocalSegment.id))
        return [SegmentOut.model_validate(s) for s in rows]

    @internal
    async def serves(self, provider_id: uuid.UUID, lat: float, lon: float) -> bool:
        A = LocalServiceArea
        async with self.uow(read=True) as uow:
            p = await uow.get(LocalCourierProvider, provider_id)
            if p is None or not p.active:
                return False
            areas = await uow.all(select(A).where(A.provider_id == provider_id, A.min_lon <= lon, A.max_lon >= lon,
                                                  A.min_lat <= lat, A.max_lat >= lat))
        return any(geo.contains(a.geometry, lon, lat) for a in areas)

    @internal
    async def hold_capacity(self, provider_id: uuid.UUID, day: date, weight_g: int, key: str) -> CapacityOut:
        """Use one parcel and `weight_g` of the provider's `day`; the same `key` again is a no-op."""
        D = LocalCapacityDay
        if weight_g < 0 or not key:
            raise Unprocessable("A hold needs a key and a weight of 0 g or more.")
        async with self.uow() as uow:
            p = await self._provider(uow, provider_id)
            if await uow.get(LocalCapacityHold, key) is None:
                if await uow.get(D, (provider_id, day)) is None:
                    uow.add(D(provider_id=provider_id, day=day, parcels=0, weight_g=0))
                    await uow.flush()
                done = await uow.session.execute(
                    update(D).where(D.provider_id == provider_id, D.day == day, D.parcels + 1 <= p.max_parcels_per_day,
                                    D.weight_g + weight_g <= p.max_weight_g_per_day)
                    .values(parcels=D.parcels + 1, weight_g=D.weight_g + weight_g))
                if done.rowcount != 1:
                    raise CapacityExhausted(f"The provider has no capacity left on {day}.", day=str(day))
                uow.add(LocalCapacityHold(key=key, provider_id=provider_id, day=day, weight_g=weight_g,
                                          created_at=utcnow()))
            return await self._capacity(uow, p, day)

    @internal
    async def hold_segment(self, segment_id: uuid.UUID, day: date, weight_g: int, key: str) -> SegmentHoldOut:
        """For a booking's courier leg, in one call: the segment must be active and carry
        `weight_g`; holds one parcel and the weight of the provider's `day` (the same `key`
        again is a no-op) and names the provider's owner, who accepts the leg."""
        seg = await self.segment(segment_id)
        if not seg.active or seg.max_weight_g < weight_g:
            raise SegmentUnavailable("The courier segment is inactive or cannot carry this weight.",
                                     segment_id=str(segment_id))
        await self.hold_capacity(seg.provider_id, day, weight_g, key)
        async with self.uow(read=True) as uow:
            provider = await self._provider(uow, seg.provider_id)
        return SegmentHoldOut(segment_id=segment_id, provider_id=seg.provider_id, carrier_id=provider.owner_id,
                              day=day, key=key)

    @internal
    async def release_capacity(self, key: str) -> None:
        """Give a hold's capacity back, once."""
        D = LocalCapacityDay
        async with self.uow() as uow:
            hold = await uow.get(LocalCapacityHold, key)
            if hold is None or hold.released_at is not None:
                return
            hold.released_at = utcnow()
            await uow.session.execute(update(D).where(D.provider_id == hold.provider_id, D.day == hold.day)
                                      .values(parcels=D.parcels - 1, weight_g=D.weight_g - hold.weight_g))

    # -- helpers -----------------------------------------------------------------------
    async def _place(self, location_id: str, kinds: tuple[str, ...] = ("airport", "city", "address")):
        try:
            place = await self.calls.locations.resolve(location_id)
        except NotFound:
            raise UnknownPlace(f"No location {location_id!r} is known.", location=location_id) from None
        if place.kind not in kinds:
            raise UnknownPlace(f"{location_id!r} is a {place.kind}; expected one of {', '.join(kinds)}.",
                               location=location_id)
        return place

    @staticmethod
    async def _provider(uow, id: uuid.UUID) -> LocalCourierProvider:
        p = await uow.get(LocalCourierProvider, id)
        if p is None:
            raise ProviderNotFound("No such courier provider.", id=str(id))
        return p

    async def _managed(self, uow, ctx: Ctx, id: uuid.UUID) -> LocalCourierProvider:
        p = await self._provider(uow, id)
        if p.owner_id != ctx.user_id and not await self.can(ctx, "couriers:manage:any"):
            raise NotProviderOwner("Only the provider's owner can change it.")
        return p

    @staticmethod
    def _within_day(p: LocalCourierProvider, max_weight_g: int) -> None:
        if max_weight_g > p.max_weight_g_per_day:
            raise SegmentOverCapacity("A segment cannot carry more than the provider's daily weight.",
                                      max_weight_g=max_weight_g, daily_weight_g=p.max_weight_g_per_day)

    @staticmethod
    async def _capacity(uow, p: LocalCourierProvider, day: date) -> CapacityOut:
        D = LocalCapacityDay
        used = (await uow.session.execute(select(D.parcels, D.weight_g).where(D.provider_id == p.id, D.day == day))
                ).first() or (0, 0)
        return CapacityOut(provider_id=p.id, day=day, max_parcels=p.max_parcels_per_day,
                           max_weight_g=p.max_weight_g_per_day, used_parcels=used[0], used_weight_g=used[1],
                           remaining_parcels=p.max_parcels_per_day - used[0],
                           remaining_weight_g=p.max_weight_g_per_day - used[1])

    @staticmethod
    def _area(a: LocalServiceArea) -> AreaOut:
        return AreaOut(id=a.id, name=a.name, geometry=a.geometry, bbox=[a.min_lon, a.min_lat, a.max_lon, a.max_lat])


SPEC = ServiceSpec("Local Courier Service", key="couriers", prefix="/couriers", service=Couriers,
                   models="storage.models.couriers", calls=("locations",))
