"""Saved searches and their alerts: a sender saves a search, and each trip published
afterwards that matches it raises an alert. `TripPublished` carries the legs, capacity and
constraints, so the handler matches in its own transaction, calling no one: the saved
search holds the place ids a leg may name for its origin and destination, resolved when
it was saved."""
from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from deployments.kit import Ctx, Limit, Page, crud, on, op
from deployments.trip_search.errors import SavedSearchNotFound
from deployments.trip_search.places import Places
from deployments.trip_search.schemas import AlertOut, SavedSearchIn, SavedSearchOut
from deployments.trips.events import PublishedLeg, TripCancelled, TripPublished
from storage.models.trip_search import SavedSearch, SearchAlert

MAX_SAVED_DAYS = 90


class SavedSearches(Places):
    """A part of `TripSearch`."""

    @op("POST /search/saved", status=201, perm="search:read")
    async def save(self, ctx: Ctx, body: SavedSearchIn) -> SavedSearchOut:
        """Save a search; an alert is raised for each trip published afterwards that flies
        from the origin (its airports, or its city's) to the destination within the dates
        with room for the weight and accepting the category."""
        self._check(body.origin, body.destination, body.date_from, body.date_to, MAX_SAVED_DAYS)
        origin, origin_ids = await self._match_ids(body.origin)
        _, destination_ids = await self._match_ids(body.destination)
        async with self.uow() as uow:
            s = uow.repo(SavedSearch).add(SavedSearch(
                id=uuid.uuid4(), owner_id=ctx.user_id, origin_ids=sorted(origin_ids),
                destination_ids=sorted(destination_ids), origin_tz=origin.tz, **body.model_dump()))
            await uow.flush()
            return SavedSearchOut.model_validate(s)

    saved = crud.list_mine("GET /search/saved", SavedSearch, SavedSearchOut, perm="search:read",
                           doc="The caller's saved searches, oldest first.")

    @op("DELETE /search/saved/{id}", status=204, perm="search:read")
    async def delete_saved(self, ctx: Ctx, id: uuid.UUID) -> None:
        """Delete one's saved search and its alerts (404 for anyone else's)."""
        async with self.uow() as uow:
            s = await uow.repo(SavedSearch).find(id=id, owner_id=ctx.user_id)
            if s is None:
                raise SavedSearchNotFound("No such saved search.", id=str(id))
            await uow.repo(SearchAlert).delete_where(saved_search_id=id)
            await uow.repo(SavedSearch).delete(s)

    @op("GET /search/alerts", perm="search:read")
    async def alerts(self, ctx: Ctx, limit: Limit = 20, cursor: str | None = None) -> Page[AlertOut]:
        """The caller's alerts, oldest first: trips published since a search was saved that
        match it (`trip_cancelled` once the trip is cancelled)."""
        async with self.uow(read=True) as uow:
            # "not_matching": alerts raised before trip events carried constraints, refused since.
            rows, nxt = await uow.repo(SearchAlert).page(SearchAlert.status != "not_matching", limit=limit,
                                                         cursor=cursor, owner_id=ctx.user_id)
        return Page[AlertOut](items=[AlertOut.model_validate(r) for r in rows], next_cursor=nxt)

    @on(TripPublished)
    async def on_trip_published(self, uow, event: TripPublished) -> None:
        if not event.legs:
            return
        legs = sorted(event.legs, key=lambda x: x.departs_at)
        first, last = legs[0].departs_at.date() - timedelta(days=1), legs[-1].departs_at.date() + timedelta(days=1)
        S, alerts = SavedSearch, uow.repo(SearchAlert)
        candidates = await uow.repo(S).list(S.date_to >= first, S.date_from <= last,
                                            S.weight_g <= event.capacity.weight_g)
        alerted = {a.saved_search_id for a in await alerts.list(trip_id=event.trip_id)}
        for s in candidates:
            hit = None if s.id in alerted else match(s, event, legs)
            if hit:
                alerts.add(SearchAlert(id=uuid.uuid4(), saved_search_id=s.id, owner_id=s.owner_id,
                                       trip_id=event.trip_id, status="new", category_checked=True,
                                       from_location=hit[0].origin_location, to_location=hit[1].destination_location,
                                       departs_at=hit[0].departs_at, arrives_at=hit[1].arrives_at,
                                       capacity_g=event.capacity.weight_g))

    @on(TripCancelled)
    async def on_trip_cancelled(self, uow, event: TripCancelled) -> None:
        for alert in await uow.repo(SearchAlert).list(trip_id=event.trip_id):
            alert.status = "trip_cancelled"


def match(s: SavedSearch, trip: TripPublished, legs: list[PublishedLeg]) -> tuple[PublishedLeg, PublishedLeg] | None:
    """If the trip takes the search's category: its first leg (of `legs`, by departure)
    leaving an origin within the dates, and the leg reaching a destination from there."""
    c = trip.constraints
    if s.category in c.banned_categories or (c.allowed_categories is not None
                                             and s.category not in c.allowed_categories):
        return None
    tz = ZoneInfo(s.origin_tz)
    for i, leg in enumerate(legs):
        if leg.origin_location in s.origin_ids and s.date_from <= leg.departs_at.astimezone(tz).date() <= s.date_to:
            for later in legs[i:]:
                if later.destination_location in s.destination_ids:
                    return leg, later
    return None
