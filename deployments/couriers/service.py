"""Local Courier Service (spec 5.10): courier providers, the areas they serve (GeoJSON), the
local segments they sell (e.g. a city to its airport, priced in minor units), and their daily
capacity. The route planner reads segments through `segments`/`segment`/`serves` and follows
`SegmentPublished` / `SegmentUpdated`; a booking holds a courier leg with `hold_segment`."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from deployments.couriers import capacity as ledger
from deployments.couriers.errors import (
    NotProviderOwner,
    ProviderNotFound,
    SegmentNotFound,
    SegmentUnavailable,
    UnknownPlace,
)
from deployments.couriers.events import CourierAreasUpdated, CourierRegistered, SegmentPublished, SegmentUpdated
from deployments.couriers.schemas import (
    AreaOut,
    AreasIn,
    AreasOut,
    CapacityOut,
    ProviderCreate,
    ProviderOut,
    SegmentCreate,
    SegmentHoldOut,
    SegmentOut,
    SegmentUpdate,
)
from deployments.kit import Ctx, Limit, Page, Service, ServiceSpec, internal, op, uses
from deployments.locations import LocationOut, Locations
from p2p import geo
from p2p.errors import NotFound
from storage.db import utcnow
from storage.models.couriers import LocalCourierProvider, LocalSegment, LocalServiceArea


class Couriers(Service):
    locations = uses(Locations)

    @op("POST /couriers", status=201, perm="couriers:manage")
    async def register(self, ctx: Ctx, body: ProviderCreate) -> ProviderOut:
        """Register a courier provider owned by the caller, based in a known city."""
        city = await self._place(body.city_id, kinds=("city",))
        async with self.uow() as uow:
            p = uow.add(LocalCourierProvider(owner_id=ctx.user_id, country=city.country, active=True,
                                             **body.model_dump()))
            await uow.flush()
            uow.emit(CourierRegistered(provider_id=p.id, owner_id=ctx.user_id, city_id=body.city_id), entity_id=p.id)
            return ProviderOut.model_validate(p)

    @op("GET /couriers")
    async def list_providers(self, ctx: Ctx, city_id: str | None = None, country: str | None = None,
                             mine: bool = False, limit: Limit = 20, cursor: str | None = None) -> Page[ProviderOut]:
        """Active providers (all of one's own with `mine`), filtered by city id or country."""
        P = LocalCourierProvider
        whose = P.owner_id == ctx.user_id if mine else P.active.is_(True)
        filters = {k: v for k, v in (("city_id", city_id), ("country", country and country.upper())) if v}
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.repo(P).page(whose, limit=limit, cursor=cursor, **filters)
        return Page[ProviderOut](items=[ProviderOut.model_validate(r) for r in rows], next_cursor=nxt)

    @internal
    @op("GET /couriers/{id}")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> ProviderOut:
        """One provider."""
        async with self.uow(read=True) as uow:
            return ProviderOut.model_validate(await _provider(uow, id))

    @op("PUT /couriers/{id}/areas", perm="couriers:manage")
    async def set_areas(self, ctx: Ctx, id: uuid.UUID, body: AreasIn) -> AreasOut:
        """Replace the provider's service areas (GeoJSON Polygons/MultiPolygons with closed
        rings of at least 4 positions). Owner only."""
        async with self.uow() as uow:
            await self._managed(uow, ctx, id)
            areas = uow.repo(LocalServiceArea)
            await areas.delete_where(provider_id=id)
            rows = [areas.add(LocalServiceArea(id=uuid.uuid4(), provider_id=id, name=a.name, geometry=a.geometry,
                                               bbox=geo.bbox(a.geometry))) for a in body.areas]
            uow.emit(CourierAreasUpdated(provider_id=id, areas=len(rows)), entity_id=id)
            return AreasOut(provider_id=id, areas=[AreaOut.model_validate(a) for a in rows])

    @op("GET /couriers/{id}/areas")
    async def areas(self, ctx: Ctx, id: uuid.UUID) -> AreasOut:
        """The provider's service areas."""
        async with self.uow(read=True) as uow:
            await _provider(uow, id)
            rows = await uow.repo(LocalServiceArea).list(provider_id=id)
        return AreasOut(provider_id=id, areas=[AreaOut.model_validate(a) for a in rows])

    @op("GET /couriers/{id}/capacity")
    async def capacity(self, ctx: Ctx, id: uuid.UUID, day: date | None = None) -> CapacityOut:
        """The provider's parcels and weight per day, and how much of `day` (UTC, default
        today) is already held."""
        async with self.uow(read=True) as uow:
            return await ledger.usage(uow, await _provider(uow, id), day or utcnow().date())

    @op("POST /couriers/{id}/segments", status=201, perm="couriers:manage")
    async def publish_segment(self, ctx: Ctx, id: uuid.UUID, body: SegmentCreate) -> SegmentOut:
        """Offer a local leg between two known locations (e.g. `city:GB:london` to `apt:LHR`)."""
        for loc in (body.from_location, body.to_location):
            await self._place(loc)
        async with self.uow() as uow:
            ledger.within_day(await self._managed(uow, ctx, id), body.max_weight_g)
            s = uow.add(LocalSegment(provider_id=id, active=True, version=1, **body.model_dump()))
            await uow.flush()
            out = SegmentOut.model_validate(s)
            uow.emit(SegmentPublished(**out.model_dump()), entity_id=s.id, version=s.version)
            return out

    @op("GET /couriers/{id}/segments")
    async def list_segments(self, ctx: Ctx, id: uuid.UUID) -> list[SegmentOut]:
        """The provider's segments, active or not."""
        async with self.uow(read=True) as uow:
            await _provider(uow, id)
            return [SegmentOut.model_validate(s) for s in await uow.repo(LocalSegment).list(provider_id=id)]

    @op("PUT /couriers/{id}/segments/{segment_id}", perm="couriers:manage")
    async def update_segment(self, ctx: Ctx, id: uuid.UUID, segment_id: uuid.UUID, body: SegmentUpdate) -> SegmentOut:
        """Change a segment's price, duration, weight limit or withdraw it (`active: false`)."""
        async with self.uow() as uow:
            p = await self._managed(uow, ctx, id)
            s = await uow.repo(LocalSegment).find(id=segment_id, provider_id=id)
            if s is None:
                raise SegmentNotFound("No such segment.", id=str(segment_id))
            changes = body.model_dump(exclude_unset=True, exclude_none=True)
            ledger.within_day(p, changes.get("max_weight_g", s.max_weight_g))
            for field, value in changes.items():
                setattr(s, field, value)
            s.version, s.updated_at = s.version + 1, utcnow()
            out = SegmentOut.model_validate(s)
            uow.emit(SegmentUpdated(**out.model_dump()), entity_id=s.id, version=s.version)
            return out

    # -- for other services ------------------------------------------------------------
    @internal
    async def segment(self, segment_id: uuid.UUID) -> SegmentOut:
        async with self.uow(read=True) as uow:
            s = await uow.repo(LocalSegment, SegmentNotFound).get_or_404(segment_id, what="segment")
        return SegmentOut.model_validate(s)

    @internal
    async def segments(self, *, from_location: str | None = None, to_location: str | None = None) -> list[SegmentOut]:
        """Active segments of active providers, optionally between given ends."""
        active_providers = select(LocalCourierProvider.id).where(LocalCourierProvider.active.is_(True))
        ends = {k: v for k, v in (("from_location", from_location), ("to_location", to_location)) if v}
        async with self.uow(read=True) as uow:
            rows = await uow.repo(LocalSegment).list(LocalSegment.active.is_(True),
                                                     LocalSegment.provider_id.in_(active_providers), **ends)
        return [SegmentOut.model_validate(s) for s in rows]

    @internal
    async def serves(self, provider_id: uuid.UUID, lat: float, lon: float) -> bool:
        A = LocalServiceArea
        async with self.uow(read=True) as uow:
            p = await uow.repo(LocalCourierProvider).get(provider_id)
            if p is None or not p.active:
                return False
            # The bounding boxes narrow the areas in SQL; the polygons decide.
            areas = await uow.repo(A).list(A.min_lon <= lon, A.max_lon >= lon, A.min_lat <= lat, A.max_lat >= lat,
                                           provider_id=provider_id)
        return any(geo.contains(a.geometry, lon, lat) for a in areas)

    @internal
    async def hold_capacity(self, provider_id: uuid.UUID, day: date, weight_g: int, key: str) -> CapacityOut:
        """Use one parcel and `weight_g` of the provider's `day`; the same `key` again is a no-op."""
        async with self.uow() as uow:
            p = await _provider(uow, provider_id)
            await ledger.hold(uow, p, day, weight_g, key)
            return await ledger.usage(uow, p, day)

    @internal
    async def hold_segment(self, segment_id: uuid.UUID, day: date, weight_g: int, key: str) -> SegmentHoldOut:
        """For a booking's courier leg, in one call: the segment must be active and carry
        `weight_g`; holds one parcel and the weight of the provider's `day` (the same `key`
        again is a no-op) and names the provider's owner, who accepts the leg."""
        seg = await self.segment(segment_id)
        if not seg.active or seg.max_weight_g < weight_g:
            raise SegmentUnavailable("The courier segment is inactive or cannot carry this weight.",
                                     segment_id=str(segment_id))
        async with self.uow() as uow:
            p = await _provider(uow, seg.provider_id)
            await ledger.hold(uow, p, day, weight_g, key)
        return SegmentHoldOut(segment_id=segment_id, provider_id=p.id, carrier_id=p.owner_id, day=day, key=key)

    @internal
    async def release_capacity(self, key: str) -> None:
        """Give a hold's capacity back, once."""
        async with self.uow() as uow:
            await ledger.release(uow, key)

    # -- helpers -----------------------------------------------------------------------
    async def _place(self, location_id: str, kinds: tuple[str, ...] = ("airport", "city", "address")) -> LocationOut:
        try:
            place = await self.locations.resolve(location_id)
        except NotFound:
            raise UnknownPlace(f"No location {location_id!r} is known.", location=location_id) from None
        if place.kind not in kinds:
            raise UnknownPlace(f"{location_id!r} is a {place.kind}; expected one of {', '.join(kinds)}.",
                               location=location_id)
        return place

    async def _managed(self, uow, ctx: Ctx, id: uuid.UUID) -> LocalCourierProvider:
        p = await _provider(uow, id)
        if p.owner_id != ctx.user_id and not await self.can(ctx, "couriers:manage:any"):
            raise NotProviderOwner("Only the provider's owner can change it.")
        return p


async def _provider(uow, id: uuid.UUID) -> LocalCourierProvider:
    return await uow.repo(LocalCourierProvider, ProviderNotFound).get_or_404(id, what="courier provider")


SPEC = ServiceSpec("Local Courier Service", key="couriers", prefix="/couriers", service=Couriers,
                   models="storage.models.couriers",
                   emits=(CourierRegistered, CourierAreasUpdated, SegmentPublished, SegmentUpdated),
                   grants={"courier": ("couriers:read", "couriers:manage")})
