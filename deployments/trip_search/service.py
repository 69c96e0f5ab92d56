"""Trip Search Service (spec 4.9): senders search trips and itineraries, get suggestions,
save searches and are alerted when a matching trip is published.

The search itself lives in the Route Planning Service (`plan` for itineraries, `listings`
for plain trip listings over the route graph it keeps); this service adds the cache (KV,
keyed by the normalised query and the graph's version, so any change to a trip or its
capacity moves the key), records queries for popular routes (`suggest`), and keeps saved
searches and the alerts published trips raise for them (`saved`).

Spec collision: `GET /search/suggestions` is listed for the Trip Search Service (4.9) and
for the Search Service (18.36). The Trip Search Service owns it: it answers both kinds of
suggestion, places (typo-tolerant) and popular routes. A future Search Service keeps its
other paths and contributes suggestions through this endpoint rather than a second one.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from deployments.kit import Ctx, ServiceSpec, op
from deployments.routes.schemas import ListingQuery, PlanQuery
from deployments.trip_search.saved import SavedSearches
from deployments.trip_search.schemas import TripSearchIn, TripSearchOut
from deployments.trip_search.suggest import Suggestions
from storage.db import utcnow
from storage.models.trip_search import RouteSearchQuery, RouteSuggestion

CACHE_TTL_S = 300
MAX_SEARCH_DAYS = 14


class TripSearch(SavedSearches, Suggestions):
    """Saved searches and alerts are in `SavedSearches`, suggestions in `Suggestions`."""

    @op("POST /search/trips", perm="search:read")
    async def search_trips(self, ctx: Ctx, body: TripSearchIn) -> TripSearchOut:
        """Trips and itineraries for a package from an origin to a destination, leaving
        between `date_from` and `date_to`: the trips that fly it (origin and destination
        airports, room for `min_remaining_g`, the category accepted) and the Pareto-best
        door-to-door itineraries with courier legs. Answers are cached until a trip or its
        capacity changes (`cached: true` when served from the cache); every query counts
        towards popular routes."""
        q = self._normalise(body)
        version = await self.routes.graph_version()
        key = f"search:trips:v{version}:{hashlib.sha256(q.model_dump_json().encode()).hexdigest()}"
        hit = await self.kv.get(key)
        if hit is not None:
            out = TripSearchOut.model_validate_json(hit).model_copy(update={"cached": True})
        else:
            out = await self._search(q)
            await self.kv.set(key, out.model_dump_json().encode(), ttl=CACHE_TTL_S)
        await self._record(ctx, q, out)
        return out

    def _normalise(self, body: TripSearchIn) -> TripSearchIn:
        date_to = body.date_to or body.date_from
        self._check(body.origin, body.destination, body.date_from, date_to, MAX_SEARCH_DAYS)
        return body.model_copy(update={"date_to": date_to, "min_remaining_g": body.min_remaining_g or body.weight_g})

    async def _search(self, q: TripSearchIn) -> TripSearchOut:
        tz = ZoneInfo((await self._place(q.origin)).tz)
        start = datetime.combine(q.date_from, time(0), tz)
        end = datetime.combine(q.date_to + timedelta(days=1), time(0), tz)
        trips = await self.routes.listings(ListingQuery(
            origin=q.origin, destination=q.destination, start=start, end=end, min_remaining_g=q.min_remaining_g,
            category=q.category))
        answer = await self.routes.plan(PlanQuery(
            origin=q.origin, destination=q.destination, ready_at=start,
            deadline=end + timedelta(days=q.arrive_within_days), weight_g=q.weight_g, dimensions_mm=q.dimensions_mm,
            category=q.category, currency=q.currency, max_legs=q.max_legs))
        return TripSearchOut(query=q, origin=answer.origin, destination=answer.destination, trips=trips,
                             itineraries=answer.itineraries, reasons=answer.reasons,
                             graph_version=answer.graph_version, cached=False)

    async def _record(self, ctx: Ctx, q: TripSearchIn, out: TripSearchOut) -> None:
        """The query, and one more search of its route (an upsert: the first search of a
        route and a concurrent one must not collide)."""
        now = utcnow()
        row = dict(origin=q.origin, destination=q.destination, origin_name=out.origin.name or q.origin,
                   destination_name=out.destination.name or q.destination, searches=1, last_searched_at=now)
        insert = sqlite_insert if self.rt.db.sqlite else pg_insert
        upsert = insert(RouteSuggestion).values(**row).on_conflict_do_update(
            index_elements=["origin", "destination"],
            set_={"searches": RouteSuggestion.searches + 1, "last_searched_at": now})
        async with self.uow() as uow:
            uow.repo(RouteSearchQuery).add(RouteSearchQuery(
                id=uuid.uuid4(), user_id=ctx.user_id, origin=q.origin, destination=q.destination,
                date_from=q.date_from, date_to=q.date_to, weight_g=q.weight_g, category=q.category,
                trips_found=len(out.trips), itineraries_found=len(out.itineraries), cached=out.cached))
            await uow.session.execute(upsert)


SPEC = ServiceSpec("Trip Search Service", key="search", prefix="/search", service=TripSearch,
                   models="storage.models.trip_search",
                   grants={"sender": ("search:read",), "traveler": ("search:read",)})
