"""What every part of the Trip Search Service shares: the services it calls (the Location
Service for places, the Route Planning Service for trips and itineraries), place lookups
and the check of a date window."""
from __future__ import annotations

from datetime import date, timedelta

from deployments.kit import Ctx, Service, uses
from deployments.locations import LocationOut, Locations
from deployments.routes import Routes
from deployments.trip_search.errors import BadDates, SamePlace, UnknownPlace
from p2p.errors import NotFound
from storage.db import utcnow


class Places(Service):
    """The base of `TripSearch` (and of its parts, `SavedSearches` and `Suggestions`)."""

    locations = uses(Locations)
    routes = uses(Routes)

    async def _place(self, location_id: str) -> LocationOut:
        """A place by id, through `Runtime.reference`: cached ten minutes in this process, as
        places change rarely and every search and suggestion resolves some."""
        try:
            loc = await self.rt.reference("locations", "resolve", location_id)
        except NotFound:
            raise UnknownPlace(f"No place has the id {location_id!r}.", place=location_id) from None
        if loc.kind == "country" or not loc.tz:
            raise UnknownPlace(f"{location_id!r} is a {loc.kind}; give an airport, a city or an address.",
                               place=location_id)
        return loc

    async def _match_ids(self, location_id: str) -> tuple[LocationOut, set[str]]:
        """The place, and the ids a trip leg may name for it: the place, its city and the
        city's airports (an address stands for the city or airport it resolved to)."""
        loc = await self._place(location_id)
        node = loc.city_id if loc.kind == "address" and loc.city_id else loc.id
        city = node if node.startswith("city:") else (await self._place(node)).city_id
        ids = {node} | ({city} if city else set())
        if city:
            ids |= {a.id for a in await self.locations.airports(Ctx.system(), city=city)}
        return loc, ids

    @staticmethod
    def _check(origin: str, destination: str, date_from: date, date_to: date, max_days: int) -> None:
        if date_to < date_from:
            raise BadDates("date_to is before date_from.")
        if (date_to - date_from).days + 1 > max_days:
            raise BadDates(f"The window spans at most {max_days} days.", max_days=max_days)
        if date_to < utcnow().date() - timedelta(days=1):
            raise BadDates("The dates have passed.")
        if origin == destination:
            raise SamePlace("Origin and destination are the same place.")
