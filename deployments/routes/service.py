"""Route Planning Service (spec 3.7): itinerary search over travelers' flight legs and local
courier segments, direct connections between two places, and couriers' multi-stop days.

The graph is the service's own (`route_graph_nodes`, `route_graph_edges`), kept from the
Trip Service's and the Local Courier Service's events (`feed`); each replica searches an
in-memory copy rebuilt when the graph's version moves (`keeper`). Searches and the solver
run off the event loop: as Ray tasks under Ray (`search_many` sends each query, or a batch
in chunks, to tasks that keep the snapshot; `portfolio_solve` runs one task per solver
configuration), in a worker thread otherwise.
"""
from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import AwareDatetime, Field

from deployments.kit import Ctx, ServiceSpec, internal, op, uses
from deployments.kit.ports import Platform
from deployments.locations import GeocodeIn, LocationOut, Locations
from deployments.routes import answers
from deployments.routes.errors import DeadlineInPast, PlaceNotRoutable, SamePlace, UnknownPlace
from deployments.routes.feed import GraphFeed
from deployments.routes.keeper import GraphKeeper
from deployments.routes.optimize import OptimizeIn, OptimizeOut, plan_of, problem_of
from deployments.routes.schemas import (
    KnownPlace,
    ListingQuery,
    Package,
    PlaceRef,
    PlanQuery,
    RouteAnswer,
    RouteRequest,
    Side,
    TransitOut,
    TripListing,
)
from deployments.routes.windows import check_window, ready_from
from deployments.trips import Trips
from p2p.errors import NotFound
from p2p.money import Currency
from p2p.vocab import MAX_PACKAGE_WEIGHT_G, Category, LocationId
from routing import PORTFOLIO, ItineraryQuery, Place, portfolio_solve, search_many
from routing.network import zone
from storage.db import utcnow
from storage.models.routes import RouteGraphNode as Node


class Routes(GraphFeed):
    """The graph's event handlers are in `GraphFeed`."""

    locations = uses(Locations)
    trips = uses(Trips)

    def __init__(self, runtime: Platform):
        super().__init__(runtime)
        self.keeper = GraphKeeper(self)

    # -- HTTP ----------------------------------------------------------------------------------
    @op("POST /routes/calculate", perm="routes:read")
    async def calculate(self, ctx: Ctx, body: RouteRequest) -> RouteAnswer:
        """The Pareto-best itineraries (price, arrival, number of legs) for one package, from
        an origin to a destination given as place ids or as addresses to geocode. Up to
        `max_legs` (at most 4) flight legs and courier segments, each connection leaving the
        platform's minimum handoff time. Finding nothing is a 200 with an empty list and the
        reasons candidates were excluded (counts and examples). 422 `routes.unknown_place`,
        `routes.deadline_before_ready`, `routes.deadline_in_past`, `routes.same_place`."""
        ready_from(body.ready_at, body.deadline)  # before geocoding stores any address
        origin = body.origin or await self._geocode(ctx, body.origin_address)
        destination = body.destination or await self._geocode(ctx, body.destination_address)
        package = body.model_dump(include=set(Package.model_fields))
        return await self.plan(PlanQuery(origin=origin, destination=destination, **package))

    @op("GET /routes/alternatives", perm="routes:read")
    async def alternatives(self, ctx: Ctx, origin: LocationId, destination: LocationId, date: date,
                           currency: Currency, weight_g: Annotated[int, Field(gt=0, le=MAX_PACKAGE_WEIGHT_G)] = 1000,
                           category: Category = "parcel",
                           length_mm: Side = 300, width_mm: Side = 200, height_mm: Side = 100,
                           within_days: Annotated[int, Field(ge=1, le=14)] = 3,
                           max_legs: Annotated[int, Field(ge=1, le=4)] = 4) -> RouteAnswer:
        """The alternatives for a day: every Pareto-best itinerary for a package ready from the
        start of `date` (in the origin's zone) and arriving within `within_days` days after
        it, each tagged `cheapest`, `fastest` or `fewest_legs` where it is."""
        ref, _ = await self._endpoint(origin)
        start = datetime.combine(date, time(0), zone(ref.tz))
        if start + timedelta(days=1) <= utcnow():
            raise DeadlineInPast(f"{date} has passed in {ref.tz}.", date=str(date))
        return await self.plan(PlanQuery(
            origin=origin, destination=destination, ready_at=start, deadline=start + timedelta(days=1 + within_days),
            weight_g=weight_g, dimensions_mm=(length_mm, width_mm, height_mm), category=category,
            currency=currency, max_legs=max_legs))

    @op("GET /routes/transit", perm="routes:read")
    async def transit(self, ctx: Ctx, origin: LocationId, destination: LocationId, start: AwareDatetime,
                      end: AwareDatetime) -> TransitOut:
        """Direct connections from one place to another: the flight legs departing between
        `start` and `end` (at most 31 days apart) with what they have left and their price,
        and the courier segments (which run at any time)."""
        check_window(start, end)
        await self._endpoint(origin)
        await self._endpoint(destination)
        return answers.transit(await self.keeper.current(), origin, destination, start, end)

    @op("POST /routes/optimize", perm="routes:optimize")
    async def optimize(self, ctx: Ctx, body: OptimizeIn) -> OptimizeOut:
        """A courier's day: the order of pickups and deliveries per vehicle, within the
        stops' time windows and the vehicles' capacities, from and back to the depot.
        Times in the body are ISO datetimes within the depot's opening hours; the answer
        gives arrival times, loads and distances per vehicle and every request left
        unserved with its reason. Solved by a portfolio of OR-Tools configurations within
        `time_limit_s` of wall time."""
        problem = problem_of(body)
        ray = self.rt.under_ray
        per_run = body.time_limit_s if ray else body.time_limit_s / len(PORTFOLIO)  # in parallel, or in turn
        result = await asyncio.to_thread(portfolio_solve, problem, per_run, PORTFOLIO, use_ray=ray)
        return plan_of(problem, result, body.depot.opens_at)

    # -- for other services (the Trip Search Service) ------------------------------------------
    @internal
    async def plan(self, query: PlanQuery) -> RouteAnswer:
        """The itinerary search behind `calculate` and `alternatives`."""
        ready = ready_from(query.ready_at, query.deadline)
        (o, o_place), (d, d_place) = await self._endpoint(query.origin), await self._endpoint(query.destination)
        if o.routed_from == d.routed_from:
            raise SamePlace(f"Origin and destination are both {o.routed_from}.", place=o.routed_from)
        view = await self.keeper.current()
        net = view.network(o_place, d_place)
        q = ItineraryQuery(o.routed_from, d.routed_from, ready, query.deadline, query.weight_g,
                           tuple(query.dimensions_mm), query.category, query.currency, query.max_legs)
        [result] = await asyncio.to_thread(search_many, [q], net, use_ray=self.rt.under_ray)
        return answers.route_answer(result, view, net, o, d)

    @internal
    async def graph_version(self) -> int:
        """The version of the graph searches run on now (completed from the owners first,
        so a cache keyed by it stays valid until the next event)."""
        return (await self.keeper.current()).version

    @internal
    async def listings(self, query: ListingQuery) -> list[TripListing]:
        """Published trips flying from the origin (an airport, or any of a city's) to the
        destination, leaving in the window, with room and the category on every leg flown."""
        check_window(query.start, query.end)
        origins, destinations = await self._airports(query.origin), await self._airports(query.destination)
        return answers.listings(await self.keeper.current(), origins, destinations, query.start, query.end,
                                query.min_remaining_g, query.category)

    @internal
    async def known_places(self) -> list[KnownPlace]:
        """The graph's named places, never addresses (their names are personal)."""
        async with self.uow(read=True) as uow:
            rows = await uow.repo(Node).list(Node.name.is_not(None), Node.id.not_like("addr:%"), order_by=Node.id)
        return [KnownPlace.model_validate(n) for n in rows]

    # -- helpers -------------------------------------------------------------------------------
    async def _resolve(self, location_id: str) -> LocationOut:
        """A place by id, through `Runtime.reference`: cached ten minutes in this process, as
        places change rarely and every search resolves two."""
        try:
            loc = await self.rt.reference("locations", "resolve", location_id)
        except NotFound:
            raise UnknownPlace(f"No place has the id {location_id!r}.", place=location_id) from None
        if loc.kind == "country" or not loc.tz:
            raise PlaceNotRoutable(f"{location_id!r} is a {loc.kind}; give an airport, a city or an address.",
                                   place=location_id)
        return loc

    async def _endpoint(self, location_id: str) -> tuple[PlaceRef, Place]:
        """The place as answered, and the graph node searched from (an address's city or airport)."""
        loc = await self._resolve(location_id)
        node = loc.city_id if loc.kind == "address" and loc.city_id else loc.id
        return (PlaceRef(id=loc.id, name=loc.name, tz=loc.tz, routed_from=node),
                Place(node, loc.tz, loc.lat or 0.0, loc.lon or 0.0))

    async def _airports(self, location_id: str) -> set[str]:
        _, node = await self._endpoint(location_id)
        if not node.id.startswith("city:"):
            return {node.id}
        return {node.id} | {a.id for a in await self.locations.airports(Ctx.system(), city=node.id)}

    async def _geocode(self, ctx: Ctx, address: GeocodeIn) -> str:
        return (await self.locations.geocode(ctx, address)).id


SPEC = ServiceSpec("Route Planning Service", key="routes", prefix="/routes", service=Routes,
                   models="storage.models.routes", num_cpus=0.1,
                   grants={"sender": ("routes:read",), "traveler": ("routes:read",),
                           "courier": ("routes:read", "routes:optimize")})
