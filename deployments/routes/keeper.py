"""Each replica's in-memory copy of the route graph, and the completion of what events do
not carry.

Replicas compare the graph's version (one primary-key read) on every request and rebuild
from the tables when it moved. Before a rebuild the keeper completes, from the owners,
what events leave out (a new place's zone and coordinates; a trip whose update named its
price or constraints): each completion is guarded by the edge's `revision`, so a newer
event always wins, and it bumps the version too, so every replica rebuilds.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update

from actors.capacity import RemainingOut
from deployments.kit import Ctx
from deployments.locations import LocationOut
from deployments.routes.feed import applied, read_version
from deployments.trips.schemas import TripOut
from p2p.errors import NotFound, ProblemError
from routing import (
    BufferPolicy,
    CourierSegment,
    FlightLeg,
    LegConstraints,
    LegPrice,
    Money,
    Network,
    Place,
    RouteGraph,
)
from storage.db import utcnow
from storage.models.routes import RouteGraphEdge as Edge
from storage.models.routes import RouteGraphNode as Node

NO_LIMIT_MM = 1_000_000  # an unset side of a trip's size limit


@dataclass
class GraphView:
    """A replica's graph at one version: the routing graph plus what answers show."""

    graph: RouteGraph
    version: int
    flights: dict[str, str | None] = field(default_factory=dict)  # leg id -> "BA117"
    names: dict[str, str | None] = field(default_factory=dict)

    def network(self, *places: Place) -> Network:
        for p in places:  # a queried place with no edges yet: the search explains it
            if p.id not in self.graph.places:
                self.graph.upsert_place(p)
        return self.graph.snapshot()


def constraints_of(c: dict[str, Any] | None) -> LegConstraints:
    c = c or {}
    sides = [c.get(k) for k in ("max_length_mm", "max_width_mm", "max_height_mm")]
    allowed = c.get("allowed_categories")
    return LegConstraints(
        allowed_categories=None if allowed is None else frozenset(allowed),
        banned_categories=frozenset(c.get("banned_categories") or ()),
        max_item_weight_g=c.get("max_item_weight_g"),
        max_dimensions_mm=tuple(s or NO_LIMIT_MM for s in sides) if any(sides) else None)


def _flight(e: Edge) -> FlightLeg:
    return FlightLeg(trip_id=str(e.trip_id), leg_id=str(e.id), from_place=e.from_node, to_place=e.to_node,
                     departure=e.departs_at, arrival=e.arrives_at, remaining_weight_g=e.remaining_g or 0,
                     price=LegPrice(e.price_per_kg_minor, e.price_minor or 0, e.currency),
                     remaining_volume_cm3=e.remaining_cm3, remaining_items=e.remaining_items,
                     constraints=constraints_of(e.constraints))


def _segment(e: Edge) -> CourierSegment:
    return CourierSegment(segment_id=str(e.id), provider_id=str(e.provider_id), from_place=e.from_node,
                          to_place=e.to_node, duration=timedelta(seconds=e.duration_s),
                          price=Money(e.price_minor, e.currency), max_weight_g=e.max_weight_g)


class GraphKeeper:
    """One per replica; `service` is the Routes service (its units of work, settings and
    the Location and Trip Service clients)."""

    RETRY_S = 5.0  # how soon a completion that failed (an owner unavailable) is tried again

    def __init__(self, service):
        self.svc = service
        self.view: GraphView | None = None
        self._lock: asyncio.Lock | None = None
        self._pending, self._retry_at = False, 0.0
        self._built_at = 0.0

    async def version(self) -> int:
        async with self.svc.uow(read=True) as uow:
            return await read_version(uow)

    async def current(self) -> GraphView:
        """The graph as of the latest version, rebuilt at most every `route_graph_refresh_s`
        (a burst of bookings costs one rebuild, not one per hold; the capacity shards, not
        the search, decide whether a booking fits)."""
        if self.view is not None and (
                time.monotonic() - self._built_at < self.svc.settings.route_graph_refresh_s
                or await self.version() == self.view.version) and not self._retry_due():
            return self.view
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:  # one rebuild at a time; the others wait for it
            v = await self.version()
            moved = self.view is None or v != self.view.version
            if moved or self._retry_due():
                if await self._complete():
                    v, moved = await self.version(), True
            if moved:
                self.view = await self._load(v)
                self._built_at = time.monotonic()
            return self.view

    def _retry_due(self) -> bool:
        return self._pending and time.monotonic() >= self._retry_at

    async def _complete(self) -> bool:
        """Fill in what events do not carry, from the owners. True if anything was written."""
        async with self.svc.uow(read=True) as uow:
            nodes = await uow.repo(Node).list(resolved=False, order_by=Node.id)
            stale = await uow.repo(Edge).list(stale=True, kind="flight", order_by=Edge.id)
        places: dict[str, LocationOut | None] = {}
        trips: dict[uuid.UUID, tuple[TripOut, RemainingOut] | None] = {}
        pending = False
        for node in nodes:
            try:
                places[node.id] = await self.svc.locations.resolve(node.id)
            except NotFound:
                places[node.id] = None
            except ProblemError:
                pending = True
        for trip_id in {e.trip_id for e in stale}:
            try:
                trips[trip_id] = (await self.svc.trips.get(Ctx.system(), trip_id),
                                  await self.svc.trips.remaining(trip_id))
            except NotFound:
                trips[trip_id] = None
            except ProblemError:
                pending = True
        self._pending, self._retry_at = pending, time.monotonic() + self.RETRY_S
        if not places and not trips:
            return False
        async with self.svc.uow() as uow:
            for nid, loc in places.items():
                node = await uow.repo(Node).get_or_404(nid)
                node.resolved = True
                if loc is not None:
                    node.name, node.code, node.tz, node.lat, node.lon = loc.name, loc.code, loc.tz, loc.lat, loc.lon
            for e in stale:
                if e.trip_id in trips:
                    await _complete_leg(uow, e.id, e.revision, trips[e.trip_id])
            await applied(uow, True)
        return True

    async def _load(self, version: int) -> GraphView:
        now = utcnow()
        async with self.svc.uow(read=True) as uow:
            nodes = await uow.repo(Node).list(Node.tz.is_not(None), order_by=Node.id)
            edges = await uow.repo(Edge).list(Edge.currency.is_not(None), order_by=Edge.id)
        places = {n.id: Place(n.id, n.tz, n.lat or 0.0, n.lon or 0.0) for n in nodes}
        legs, segments, flights = [], [], {}
        for e in edges:
            if e.from_node not in places or e.to_node not in places:
                continue
            if e.kind == "courier":
                segments.append(_segment(e))
            elif e.price_per_kg_minor is not None and e.departs_at > now:
                legs.append(_flight(e))
                flights[str(e.id)] = f"{e.carrier}{e.flight_number}" if e.carrier else None
        minutes = timedelta(minutes=self.svc.settings.min_connection_min)
        graph = RouteGraph(places.values(), legs, segments, BufferPolicy(airport=minutes, other=minutes))
        return GraphView(graph, version, flights, {n.id: n.name for n in nodes})


async def _complete_leg(uow, edge_id: uuid.UUID, revision: int, data: tuple[TripOut, RemainingOut] | None) -> None:
    """A stale leg completed from its trip; gone with a trip no longer published (or unknown)."""
    guard = (Edge.id == edge_id, Edge.revision == revision)  # a newer event since the read wins
    trip, remaining = data if data else (None, None)
    leg = next((x for x in trip.legs if x.id == edge_id), None) if trip else None
    if trip is None or remaining is None or trip.status != "published" or leg is None:
        await uow.session.execute(delete(Edge).where(*guard).execution_options(synchronize_session=False))
        return
    left = next((x for x in remaining.legs if x.leg_id == edge_id), None)
    values = dict(carrier=leg.carrier, flight_number=leg.flight_number, price_per_kg_minor=trip.price.per_kg_minor,
                  price_minor=trip.price.min_price_minor, currency=trip.price.currency,
                  constraints=trip.constraints.model_dump(mode="json"), stale=False, updated_at=utcnow())
    if left is not None:
        values.update(remaining_g=left.remaining_g, remaining_cm3=left.remaining_cm3,
                      remaining_items=left.remaining_items)
    await uow.session.execute(update(Edge).where(*guard).values(**values).execution_options(synchronize_session=False))
