"""Trip Search Service (spec 4.9): senders search trips and itineraries, get suggestions,
save searches and are alerted when a matching trip is published.

The search itself lives in the Route Planning Service (`routes.plan` for itineraries,
`routes.listings` for plain trip listings over the route graph it keeps); this service adds
the cache (KV, keyed by the normalised query and the graph's version, so any change to a
trip or its capacity moves the key), records queries for popular routes, and keeps saved
searches and their alerts. Alerts come from `trip.published`: the handler matches saved
searches in its own transaction, without calling anyone; the event carries no constraints,
so an alert's category is confirmed against the route graph when the owner lists alerts.

Spec collision: `GET /search/suggestions` is listed for the Trip Search Service (4.9) and
for the Search Service (18.36). The Trip Search Service owns it: it answers both kinds of
suggestion, places (typo-tolerant) and popular routes. A future Search Service keeps its
other paths and contributes suggestions through this endpoint rather than a second one.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from deployments.kit import Ctx, Page, Schema, Service, ServiceSpec, on, op
from deployments.kit.events import Event
from deployments.kit.schemas import Limit, decode_cursor, encode_cursor
from deployments.routes.answers import accepts
from deployments.routes.schemas import (
    Category,
    ItineraryOut,
    ListingQuery,
    LocationId,
    PlaceRef,
    PlanQuery,
    ReasonOut,
    Side,
    TripListing,
)
from p2p.errors import NotFound, Unprocessable
from p2p.money import Currency
from storage.db import utcnow
from storage.gazetteer import fold
from storage.models.trip_search import (
    RouteSearchQuery,
    RouteSuggestion,
    SavedSearch,
    SearchAlert,
)

CACHE_TTL_S = 300
MAX_SEARCH_DAYS, MAX_SAVED_DAYS = 14, 90


class TripSearchIn(Schema):
    origin: LocationId
    destination: LocationId
    date_from: date = Field(description="First departure day, in the origin's zone")
    date_to: date | None = Field(default=None, description="Last departure day (default: date_from)")
    weight_g: int = Field(default=1000, gt=0, le=50_000)
    dimensions_mm: tuple[Side, Side, Side] = (300, 200, 100)
    category: Category = "parcel"
    currency: Currency
    min_remaining_g: int | None = Field(default=None, gt=0, le=50_000, description="Default: weight_g")
    arrive_within_days: int = Field(default=3, ge=0, le=14, description="Arrival allowance after date_to")
    max_legs: int = Field(default=4, ge=1, le=4)


class TripSearchOut(Schema):
    query: TripSearchIn = Field(description="The query as normalised (and cached) by the service")
    origin: PlaceRef
    destination: PlaceRef
    trips: list[TripListing] = Field(description="Trips flying from the origin's airports to the destination's")
    itineraries: list[ItineraryOut] = Field(description="Pareto-best door-to-door itineraries")
    reasons: list[ReasonOut] = Field(description="Why itinerary candidates were excluded")
    graph_version: int
    cached: bool = Field(description="Answered from the cache")


class PlaceSuggestion(Schema):
    id: str
    kind: str
    name: str
    code: str | None = None
    country: str
    match: Literal["exact", "fuzzy"]


class PopularRoute(Schema):
    origin: str
    origin_name: str
    destination: str
    destination_name: str
    searches: int


class SuggestionsOut(Schema):
    q: str
    places: list[PlaceSuggestion]
    routes: list[PopularRoute]


class SavedSearchIn(Schema):
    name: str | None = Field(default=None, max_length=100)
    origin: LocationId
    destination: LocationId
    date_from: date
    date_to: date
    weight_g: int = Field(default=1000, gt=0, le=50_000)
    category: Category = "parcel"


class SavedSearchOut(Schema):
    id: uuid.UUID
    name: str | None
    origin: str
    destination: str
    date_from: date
    date_to: date
    weight_g: int
    category: str
    created_at: datetime


class AlertOut(Schema):
    id: uuid.UUID
    saved_search_id: uuid.UUID
    trip_id: uuid.UUID
    status: Literal["new", "trip_cancelled"]
    category_checked: bool
    from_location: str
    to_location: str
    departs_at: datetime
    arrives_at: datetime
    capacity_g: int
    created_at: datetime


class SavedSearchNotFound(NotFound):
    """No saved search has this id, or it is not the caller's."""
    code = "search.saved_not_found"


class UnknownPlace(Unprocessable):
    """A place id the Location Service does not know, or a country."""
    code = "search.unknown_place"


class SamePlace(Unprocessable):
    """Origin and destination are the same place."""
    code = "search.same_place"


class BadDates(Unprocessable):
    """The date window ends before it starts, spans too many days, or has passed."""
    code = "search.bad_dates"


class TripSearch(Service):

    @op("POST /search/trips", perm="search:read")
    async def search_trips(self, ctx: Ctx, body: TripSearchIn) -> TripSearchOut:
        """Trips and itineraries for a package from an origin to a destination, leaving
        between `date_from` and `date_to`: the trips that fly it (origin and destination
        airports, room for `min_remaining_g`, the category accepted) and the Pareto-best
        door-to-door itineraries with courier legs. Answers are cached until a trip or its
        capacity changes (`cached: true` when served from the cache); every query counts
        towards popular routes."""
        q = self._normalise(body)
        version = await self.calls.routes.graph_version()
        key = f"search:trips:v{version}:{hashlib.sha256(q.model_dump_json().encode()).hexdigest()}"
        hit = await self.kv.get(key)
        if hit is not None:
            out = TripSearchOut.model_validate_json(hit).model_copy(update={"cached": True})
        else:
            out = await self._search(q)
            await self.kv.set(key, out.model_dump_json().encode(), ttl=CACHE_TTL_S)
        await self._record(ctx, q, out)
        return out

    @op("GET /search/suggestions", perm="search:read")
    async def suggestions(self, ctx: Ctx, q: Annotated[str, Field(min_length=1, max_length=100)],
                          limit: Annotated[int, Field(ge=1, le=20)] = 8) -> SuggestionsOut:
        """Places matching `q` (airports, cities, countries; typo-tolerant: `heathrw` finds
        LHR) and the most searched routes touching them or naming `q`. This service owns
        the path for both kinds of suggestion (see the README's spec collisions)."""
        places = [self._suggestion(p, "exact") for p in await self.calls.locations.search(ctx, q=q, limit=limit)]
        if not places:
            places = await self._fuzzy(ctx, q, limit)
        return SuggestionsOut(q=q, places=places, routes=await self._popular(q, {p.id for p in places}, limit))

    @op("POST /search/saved", status=201, perm="search:read")
    async def save(self, ctx: Ctx, body: SavedSearchIn) -> SavedSearchOut:
        """Save a search; an alert is raised for each trip published afterwards that flies
        from the origin (its airports, or its city's) to the destination within the dates
        with room for the weight and accepting the category."""
        self._dates(body.date_from, body.date_to, MAX_SAVED_DAYS)
        if body.origin == body.destination:
            raise SamePlace("Origin and destination are the same place.")
        origin, origin_ids = await self._match_ids(body.origin)
        _, destination_ids = await self._match_ids(body.destination)
        async with self.uow() as uow:
            s = uow.add(SavedSearch(id=uuid.uuid4(), owner_id=ctx.user_id, origin_ids=sorted(origin_ids),
                                    destination_ids=sorted(destination_ids), origin_tz=origin.tz,
                                    **body.model_dump()))
            await uow.flush()
            return SavedSearchOut.model_validate(s)

    @op("GET /search/saved", perm="search:read")
    async def saved(self, ctx: Ctx, limit: Limit = 20, cursor: str | None = None) -> Page[SavedSearchOut]:
        """The caller's saved searches, oldest first."""
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.page(select(SavedSearch).where(SavedSearch.owner_id == ctx.user_id), SavedSearch,
                                       limit=limit, after=decode_cursor(cursor) if cursor else None)
        return Page(items=[SavedSearchOut.model_validate(r) for r in rows],
                    next_cursor=encode_cursor(nxt) if nxt else None)

    @op("DELETE /search/saved/{id}", status=204, perm="search:read")
    async def delete_saved(self, ctx: Ctx, id: uuid.UUID) -> None:
        """Delete one's saved search and its alerts (404 for anyone else's)."""
        async with self.uow() as uow:
            s = await uow.get(SavedSearch, id)
            if s is None or s.owner_id != ctx.user_id:
                raise SavedSearchNotFound("No such saved search.", id=str(id))
            for a in await uow.all(select(SearchAlert).where(SearchAlert.saved_search_id == id)):
                await uow.session.delete(a)
            await uow.session.delete(s)

    @op("GET /search/alerts", perm="search:read")
    async def alerts(self, ctx: Ctx, limit: Limit = 20, cursor: str | None = None) -> Page[AlertOut]:
        """The caller's alerts, oldest first: trips published since a search was saved that
        match it (`trip_cancelled` once the trip is cancelled)."""
        await self._check_categories(ctx.user_id)
        stmt = select(SearchAlert).where(SearchAlert.owner_id == ctx.user_id, SearchAlert.status != "not_matching")
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.page(stmt, SearchAlert, limit=limit, after=decode_cursor(cursor) if cursor else None)
        return Page(items=[AlertOut.model_validate(r) for r in rows], next_cursor=encode_cursor(nxt) if nxt else None)

    # -- events --------------------------------------------------------------------------------
    @on("trip.published")
    async def on_trip_published(self, uow, event: Event) -> None:
        try:
            trip_id, capacity = uuid.UUID(str(event.payload["trip_id"])), int(event.payload["capacity"]["weight_g"])
            legs = [(x["from"], x["to"], datetime.fromisoformat(x["departs_at"]),
                     datetime.fromisoformat(x["arrives_at"])) for x in event.payload["legs"]]
        except (KeyError, TypeError, ValueError):
            return  # not a payload this service can match; a redelivery would fail the same way
        if not legs or any(x[2].tzinfo is None or x[3].tzinfo is None for x in legs):
            return
        first, last = min(x[2] for x in legs).date(), max(x[2] for x in legs).date()
        S = SavedSearch
        candidates = await uow.all(select(S).where(S.date_to >= first - timedelta(days=1),
                                                   S.date_from <= last + timedelta(days=1), S.weight_g <= capacity))
        alerted = set(await uow.all(select(SearchAlert.saved_search_id).where(SearchAlert.trip_id == trip_id)))
        for s in candidates:
            hit = _match(s, sorted(legs, key=lambda x: x[2]))
            if hit and s.id not in alerted:
                uow.add(SearchAlert(id=uuid.uuid4(), saved_search_id=s.id, owner_id=s.owner_id, trip_id=trip_id,
                                    status="new", category_checked=False, from_location=hit[0][0],
                                    to_location=hit[1][1], departs_at=hit[0][2], arrives_at=hit[1][3],
                                    capacity_g=capacity))

    @on("trip.cancelled")
    async def on_trip_cancelled(self, uow, event: Event) -> None:
        try:
            trip_id = uuid.UUID(str(event.entity_id))
        except ValueError:
            return
        await uow.session.execute(update(SearchAlert).where(SearchAlert.trip_id == trip_id)
                                  .values(status="trip_cancelled", updated_at=utcnow())
                                  .execution_options(synchronize_session=False))

    # -- helpers -------------------------------------------------------------------------------
    def _normalise(self, body: TripSearchIn) -> TripSearchIn:
        date_to = body.date_to or body.date_from
        self._dates(body.date_from, date_to, MAX_SEARCH_DAYS)
        if body.origin == body.destination:
            raise SamePlace("Origin and destination are the same place.")
        return body.model_copy(update={"date_to": date_to, "min_remaining_g": body.min_remaining_g or body.weight_g})

    @staticmethod
    def _dates(date_from: date, date_to: date, max_days: int) -> None:
        if date_to < date_from:
            raise BadDates("date_to is before date_from.")
        if (date_to - date_from).days + 1 > max_days:
            raise BadDates(f"The window spans at most {max_days} days.", max_days=max_days)
        if date_to < utcnow().date() - timedelta(days=1):
            raise BadDates("The dates have passed.")

    async def _search(self, q: TripSearchIn) -> TripSearchOut:
        origin = await self._place(q.origin)
        tz = ZoneInfo(origin.tz)
        start = datetime.combine(q.date_from, time(0), tz)
        end = datetime.combine(q.date_to + timedelta(days=1), time(0), tz)
        trips = await self.calls.routes.listings(ListingQuery(
            origin=q.origin, destination=q.destination, start=start, end=end, min_remaining_g=q.min_remaining_g,
            category=q.category))
        answer = await self.calls.routes.plan(PlanQuery(
            origin=q.origin, destination=q.destination, ready_at=start,
            deadline=end + timedelta(days=q.arrive_within_days), weight_g=q.weight_g, dimensions_mm=q.dimensions_mm,
            category=q.category, currency=q.currency, max_legs=q.max_legs))
        return TripSearchOut(query=q, origin=answer.origin, destination=answer.destination, trips=trips,
                             itineraries=answer.itineraries, reasons=answer.reasons,
                             graph_version=answer.graph_version, cached=False)

    async def _record(self, ctx: Ctx, q: TripSearchIn, out: TripSearchOut) -> None:
        now = utcnow()
        row = dict(origin=q.origin, destination=q.destination, origin_name=out.origin.name or q.origin,
                   destination_name=out.destination.name or q.destination, searches=1, last_searched_at=now)
        insert = sqlite_insert if self.rt.db.sqlite else pg_insert
        upsert = insert(RouteSuggestion).values(**row).on_conflict_do_update(
            index_elements=["origin", "destination"],
            set_={"searches": RouteSuggestion.searches + 1, "last_searched_at": now})
        async with self.uow() as uow:
            uow.add(RouteSearchQuery(id=uuid.uuid4(), user_id=ctx.user_id, origin=q.origin, destination=q.destination,
                                     date_from=q.date_from, date_to=q.date_to, weight_g=q.weight_g,
                                     category=q.category, trips_found=len(out.trips),
                                     itineraries_found=len(out.itineraries), cached=out.cached))
            await uow.session.execute(upsert)

    async def _place(self, location_id: str) -> Any:
        try:
            loc = await self.rt.reference("locations", "resolve", location_id)
        except NotFound:
            raise UnknownPlace(f"No place has the id {location_id!r}.", place=location_id) from None
        if loc.kind == "country" or not loc.tz:
            raise UnknownPlace(f"{location_id!r} is a {loc.kind}; give an airport, a city or an address.",
                               place=location_id)
        return loc

    async def _match_ids(self, location_id: str) -> tuple[Any, set[str]]:
        """The place, and the ids a trip leg may name for it: the place, its city and the
        city's airports (an address stands for the city or airport it resolved to)."""
        loc = await self._place(location_id)
        node = loc.city_id if loc.kind == "address" else loc.id
        city = node if node.startswith("city:") else (await self._place(node)).city_id
        ids = {node} | ({city} if city else set())
        if city:
            ids |= {a.id for a in await self.calls.locations.airports(Ctx.system(), city=city)}
        return loc, ids

    async def _check_categories(self, owner_id: uuid.UUID) -> None:
        """Confirm the category of new alerts against the trip as the route graph has it."""
        A, S = SearchAlert, SavedSearch
        async with self.uow(read=True) as uow:
            rows = (await uow.session.execute(select(A.id, A.trip_id, S.category).join(S, S.id == A.saved_search_id)
                                              .where(A.owner_id == owner_id, A.category_checked.is_(False),
                                                     A.status == "new").limit(50))).all()
        verdicts = {}
        for alert_id, trip_id, category in rows:
            trip = await self.calls.routes.trip(trip_id)
            if trip is not None:
                verdicts[alert_id] = accepts(trip.constraints, category)
        if verdicts:
            async with self.uow() as uow:
                for alert_id, ok in verdicts.items():
                    await uow.session.execute(update(A).where(A.id == alert_id).values(
                        category_checked=True, status="new" if ok else "not_matching", updated_at=utcnow()))

    async def _fuzzy(self, ctx: Ctx, q: str, limit: int) -> list[PlaceSuggestion]:
        """Typos: search shorter prefixes of `q` and the graph's known places, keep the names
        or codes within a small edit distance of `q`, closest first."""
        folded = fold(q)
        if len(folded) < 3:
            return []
        found: dict[str, Any] = {}
        for n in range(len(folded) - 1, max(2, len(folded) - 4), -1):
            for loc in await self.calls.locations.search(ctx, q=folded[:n], limit=20):
                found.setdefault(loc.id, loc)
            if found:
                break
        known = {p.id: p for p in await self.calls.routes.known_places() if p.id not in found}
        scored = sorted(((_distance(folded, p.name, p.code), i, p) for i, p in enumerate([*found.values(),
                                                                                          *known.values()])),
                        key=lambda x: x[:2])
        out = []
        for d, _, p in scored:
            if d > max(1, len(folded) // 3) or len(out) >= limit:
                break
            loc = p if p.id in found else await self._place(p.id)
            out.append(self._suggestion(loc, "fuzzy"))
        return out

    async def _popular(self, q: str, place_ids: set[str], limit: int) -> list[PopularRoute]:
        R, like = RouteSuggestion, f"%{fold(q)}%"
        match = [func.lower(R.origin_name).like(like), func.lower(R.destination_name).like(like),
                 func.lower(R.origin).like(like), func.lower(R.destination).like(like)]
        if place_ids:
            match += [R.origin.in_(place_ids), R.destination.in_(place_ids)]
        async with self.uow(read=True) as uow:
            rows = await uow.all(select(R).where(or_(*match))
                                 .order_by(R.searches.desc(), R.last_searched_at.desc()).limit(limit))
        return [PopularRoute.model_validate(r) for r in rows]

    @staticmethod
    def _suggestion(loc, match: str) -> PlaceSuggestion:
        return PlaceSuggestion(id=loc.id, kind=loc.kind, name=loc.name, code=loc.code, country=loc.country,
                               match=match)


def _match(s: SavedSearch, legs: list[tuple[str, str, datetime, datetime]]):
    """The first leg leaving an origin within the dates and the leg reaching a destination."""
    tz = ZoneInfo(s.origin_tz)
    for i, leg in enumerate(legs):
        if leg[0] in s.origin_ids and s.date_from <= leg[2].astimezone(tz).date() <= s.date_to:
            for later in legs[i:]:
                if later[1] in s.destination_ids:
                    return leg, later
    return None


def _distance(q: str, name: str | None, code: str | None) -> int:
    """Least edit distance (with transpositions) from `q` to a word of the name, the whole
    name or the code."""
    words = fold(name or "").split()
    options = [*words, " ".join(words), (code or "").lower()]
    return min(_osa(q, w) for w in options if w) if any(options) else len(q)


def _osa(a: str, b: str) -> int:
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


SPEC = ServiceSpec("Trip Search Service", key="search", prefix="/search", service=TripSearch,
                   models="storage.models.trip_search", calls=("routes", "locations"))
