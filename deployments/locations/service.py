"""Location Service (spec 3.6): the gazetteer of countries, cities and airports under stable
ids (`ctry:GB`, `city:GB:london`, `apt:LHR`), search, airports by city, and offline geocoding
of addresses to city or airport level (`addr:<uuid>`)."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

import pycountry
from pydantic import Field
from sqlalchemy import case, or_, select

from deployments.kit import Ctx, Service, ServiceSpec, internal, op
from deployments.locations.errors import LocationNotResolved, UnknownAirport, UnknownCity, UnknownLocation
from deployments.locations.schemas import SPACES, AirportOut, GeocodeIn, GeocodeOut, LocationOut
from storage.gazetteer import city_id, fold, slug
from storage.models.places import Address, Airport, City, Location

# Words that say nothing about which airport of a city an address means.
_GENERIC = {"airport", "international", "intl", "regional", "municipal", "city", "field", "airfield", "the"}


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Locations(Service):
    @internal
    @op("GET /locations/search", public=True)
    async def search(self, ctx: Ctx, q: Annotated[str, Field(min_length=1, max_length=100)],
                     kind: Literal["airport", "city", "country"] | None = None,
                     limit: Annotated[int, Field(ge=1, le=50)] = 10) -> list[LocationOut]:
        """Find airports, cities and countries. Exact codes (IATA, ICAO, ISO) rank first, then
        IATA codes starting with a two-letter query, exact names, the airports of a city of that
        name, name prefixes, word prefixes and finally substrings; bigger places first within
        each rank."""
        qf, qc = fold(q), SPACES.sub("", q).upper()
        L = Location
        exact = or_(L.code == qc, L.alt_code == qc)
        ranks, match = [(exact, 0)], [exact]
        if len(qc) == 2 and qc.isalpha():  # IATA prefixes; ICAO prefixes would bury names
            code_prefix = L.code.like(f"{qc}%")
            ranks.append((code_prefix, 1))
            match.append(code_prefix)
        if qf:
            ranks += [(L.name_key == qf, 2), (L.city_key == qf, 3),
                      (L.name_key.like(f"{_like(qf)}%", escape="\\"), 4),
                      (L.terms.like(f"% {_like(qf)}%", escape="\\"), 5)]
            match.append(L.terms.like(f"%{_like(qf)}%", escape="\\"))
        stmt = select(L).where(or_(*match))
        if kind:
            stmt = stmt.where(L.kind == kind)
        async with self.uow(read=True) as uow:
            rows = await uow.all(stmt.order_by(case(*ranks, else_=6), L.weight.desc(), L.name).limit(limit))
        return [LocationOut.model_validate(r) for r in rows]

    @internal
    @op("GET /locations/airports", public=True)
    async def airports(self, ctx: Ctx, city: Annotated[str, Field(min_length=1, max_length=100)],
                       country: Annotated[str | None, Field(min_length=2, max_length=2)] = None) -> list[AirportOut]:
        """The airports of a city, given its id (`city:GB:london`) or its name (every city of
        that name, or only the one in `country`). Biggest city first, then by name."""
        async with self.uow(read=True) as uow:
            if city.startswith("city:"):
                ids = [city] if await uow.repo(City).exists(id=city) else []
            else:
                stmt = select(City.id).where(City.id.like(f"city:%:{_like(slug(city))}", escape="\\"))
                if country:
                    stmt = stmt.where(City.country == country.upper())
                ids = await uow.all(stmt.order_by(City.airport_count.desc()))
            if not ids:
                raise UnknownCity(f"No city {city!r} is known.", city=city)
            rows = await uow.repo(Airport).list(Airport.city_id.in_(ids), order_by=Airport.iata)
        order = {cid: i for i, cid in enumerate(ids)}
        return [AirportOut.model_validate(a) for a in sorted(rows, key=lambda a: (order[a.city_id], a.name))]

    @internal
    @op("POST /locations/geocode", status=201)
    async def geocode(self, ctx: Ctx, body: GeocodeIn) -> GeocodeOut:
        """Normalise an address and resolve it offline to its city, or to an airport when the
        address names one of the city's airports (`Heathrow Airport, Hounslow` in London).
        Stores it under an `addr:` id. 422 `location.not_resolved` when the country or city is
        not in the gazetteer."""
        country = self._country(body.country)
        folded_city = fold(body.city)
        async with self.uow() as uow:
            locations = uow.repo(Location)
            place = await locations.get(city_id(country, body.city)) if folded_city else None
            if place is None and folded_city:  # the city field may name an airport ("Heathrow")
                words = or_(Location.name_key.like(f"{_like(folded_city)}%", escape="\\"),
                            Location.name_key.like(f"% {_like(folded_city)}%", escape="\\"))
                place = await uow.scalar(select(Location).where(Location.kind == "airport", Location.country == country,
                                                                words).order_by(Location.weight.desc()).limit(1))
            if place is None:
                raise LocationNotResolved(f"No city {body.city!r} is known in {country}; check the spelling or "
                                          "give the nearest city with an airport.", city=body.city, country=country)
            if place.kind == "city":
                airports = await locations.list(city_id=place.id, order_by=Location.weight.desc())
                place = self._named_airport(body.lines, place, airports) or place
            postcode = SPACES.sub(" ", body.postcode).strip().upper() if body.postcode else None
            city_name = await self._city_name(uow, place, body.city)
            normalized = ", ".join([*body.lines, " ".join(filter(None, [postcode, city_name])), country])
            addr = uow.add(Address(id=uuid.uuid4(), lines=body.lines, city=city_name, postcode=postcode,
                                   country=country, normalized=normalized, resolved_id=place.id, lat=place.lat,
                                   lon=place.lon, tz=place.tz, created_by=ctx.user_id))
            return GeocodeOut(id=f"addr:{addr.id}", location_id=place.id, level=place.kind, normalized=normalized,
                              lines=body.lines, city=city_name, postcode=postcode, country=country,
                              lat=place.lat, lon=place.lon, tz=place.tz)

    @op("GET /locations/{id}")
    async def get(self, ctx: Ctx, id: Annotated[str, Field(max_length=100)]) -> LocationOut:
        """One location by id. Addresses only to whoever geocoded them (or locations:read:any)."""
        out = await self.resolve(id)
        if out.kind == "address" and ctx.user_id != await self._address_owner(id) \
                and not await self.can(ctx, "locations:read:any"):
            raise UnknownLocation("No such location.", id=id)
        return out

    # -- for other services ------------------------------------------------------------
    @internal
    async def airport(self, code: str) -> AirportOut:
        async with self.uow(read=True) as uow:
            row = await uow.get(Airport, code.strip().upper()) if len(code.strip()) == 3 else None
        if row is None:
            raise UnknownAirport(f"No airport has the IATA code {code!r}.", code=code)
        return AirportOut.model_validate(row)

    @internal
    async def resolve(self, location_id: str) -> LocationOut:
        async with self.uow(read=True) as uow:
            if location_id.startswith("addr:"):
                addr = await uow.get(Address, _uuid(location_id[5:]))
                if addr is not None:
                    return LocationOut(id=location_id, kind="address", name=addr.normalized, country=addr.country,
                                       city_id=addr.resolved_id, lat=addr.lat, lon=addr.lon, tz=addr.tz)
            else:
                row = await uow.get(Location, location_id)
                if row is not None:
                    return LocationOut.model_validate(row)
        raise UnknownLocation(f"No location has the id {location_id!r}.", id=location_id)

    # -- helpers -----------------------------------------------------------------------
    async def _address_owner(self, location_id: str) -> uuid.UUID | None:
        async with self.uow(read=True) as uow:
            addr = await uow.repo(Address).get(_uuid(location_id[5:]))
        return addr.created_by if addr else None

    @staticmethod
    async def _city_name(uow, place: Location, given: str) -> str:
        if place.kind == "city":
            return place.name
        city = await uow.repo(City).get(place.city_id) if place.city_id else None
        return city.name if city else given

    @staticmethod
    def _country(text: str) -> str:
        try:
            return pycountry.countries.lookup(text.strip()).alpha_2
        except LookupError:
            if text.strip().upper() == "XK":
                return "XK"
            raise LocationNotResolved(f"{text!r} is not a country (ISO 3166-1 code or name).", country=text) from None

    @staticmethod
    def _named_airport(lines: list[str], city: Location, airports: list[Location]) -> Location | None:
        words = set(fold(" ".join(lines)).split())
        for a in airports:  # biggest first
            own = set(a.name_key.split()) - set(city.name_key.split()) - _GENERIC
            if own and own <= words:
                return a
        return None


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.UUID(int=0)


SPEC = ServiceSpec("Location Service", key="locations", prefix="/locations", service=Locations,
                   models="storage.models.places", grants={"support": ("locations:read:any",)})
