"""The route graph in the service's own tables, and each replica's in-memory copy.

Event handlers write edges and nodes in their unit of work and bump one version counter,
calling no one. `trip.published` carries the legs, price and constraints, and capacity events
carry each leg's remaining amounts; what events do not carry (a place's zone; the price of
a trip whose update event only names the changed fields) is completed from its owner
lazily, when a replica next builds its graph: the completion is guarded by the edge's
`revision`, so a newer event always wins, and it bumps the version too, so every replica
rebuilds. Replicas compare the version (one
primary-key read) on every request and rebuild from the tables when it moved.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import delete, select, update

from deployments.kit import Ctx
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
from storage.models.routes import RouteGraphState as State

log = logging.getLogger("p2p.routes")
NO_LIMIT_MM = 1_000_000  # an unset side of a trip's size limit


# -- the version counter ---------------------------------------------------------------------
async def bump(uow) -> None:
    done = await uow.session.execute(update(State).where(State.id == 1)
                                     .values(version=State.version + 1, updated_at=utcnow())
                                     .execution_options(synchronize_session=False))
    if done.rowcount == 0:
        uow.add(State(id=1, version=1, updated_at=utcnow()))


async def read_version(uow) -> int:
    return await uow.scalar(select(State.version).where(State.id == 1)) or 0


# -- applying events (inside the handler's unit of work; no calls to other services) ----------
async def ensure_nodes(uow, ids: Iterable[str]) -> None:
    ids = set(ids)
    known = set(await uow.all(select(Node.id).where(Node.id.in_(ids)))) if ids else set()
    for nid in sorted(ids - known):
        uow.add(Node(id=nid, resolved=False, updated_at=utcnow()))


def _leg(raw: dict[str, Any]) -> dict[str, Any]:
    """A leg of `trip.published` (Trip Service keys, or the `routing.graph` ones)."""
    leg = {"id": uuid.UUID(str(raw["leg_id"])), "from_node": raw.get("from") or raw["from_place"],
           "to_node": raw.get("to") or raw["to_place"],
           "departs_at": datetime.fromisoformat(str(raw.get("departs_at") or raw["departure"])),
           "arrives_at": datetime.fromisoformat(str(raw.get("arrives_at") or raw["arrival"]))}
    if leg["departs_at"].tzinfo is None or leg["arrives_at"].tzinfo is None:
        raise ValueError("leg times must carry an offset")
    return leg | {k: str(raw[k]) for k in ("carrier", "flight_number") if raw.get(k)}


async def put_trip(uow, payload: dict[str, Any], version: int) -> bool:
    """A published trip's legs become flight edges, with the capacity it opened with."""
    trip_id = uuid.UUID(str(payload["trip_id"]))
    legs = sorted((_leg(x) for x in payload.get("legs") or []), key=lambda x: x["departs_at"])
    cap = payload.get("capacity") or {}
    priced = _priced(payload)
    existing = {e.id: e for e in await uow.all(select(Edge).where(Edge.trip_id == trip_id))}
    if any(e.source_version > version for e in existing.values()):
        return False  # an older event delivered late
    await ensure_nodes(uow, [x["from_node"] for x in legs] + [x["to_node"] for x in legs])
    for seq, leg in enumerate(legs):
        e = existing.pop(leg["id"], None)
        if e is None:
            e = uow.add(Edge(id=leg["id"], kind="flight", trip_id=trip_id, revision=0))
        for k, v in leg.items():
            setattr(e, k, v)
        for k, v in (priced or {}).items():
            setattr(e, k, v)
        e.seq, e.source_version, e.stale, e.updated_at = seq, version, priced is None, utcnow()
        e.remaining_g, e.remaining_cm3 = cap.get("weight_g", e.remaining_g), cap.get("volume_cm3", e.remaining_cm3)
        e.remaining_items = cap.get("items", e.remaining_items)
        e.revision = (e.revision or 0) + 1
    for e in existing.values():
        await uow.session.delete(e)
    return bool(legs) or bool(existing)


def _priced(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Price and constraints, when the event carries them (then nothing is left to complete)."""
    price, constraints = payload.get("price"), payload.get("constraints")
    if not isinstance(price, dict) or not isinstance(constraints, dict):
        return None
    return {"price_per_kg_minor": int(price["per_kg_minor"]), "currency": str(price["currency"]),
            "price_minor": int(price.get("min_price_minor", price.get("minimum_minor", 0))),
            "constraints": constraints}


async def drop_trip(uow, trip_id: str) -> bool:
    done = await uow.session.execute(delete(Edge).where(Edge.trip_id == uuid.UUID(str(trip_id)))
                                     .execution_options(synchronize_session=False))
    return done.rowcount > 0


async def stale_trip(uow, trip_id: str) -> bool:
    """The trip's price, constraints or remaining capacity changed: complete it again."""
    done = await uow.session.execute(update(Edge).where(Edge.trip_id == uuid.UUID(str(trip_id)))
                                     .values(stale=True, revision=Edge.revision + 1, updated_at=utcnow())
                                     .execution_options(synchronize_session=False))
    return done.rowcount > 0


async def set_remaining(uow, trip_id: str, payload: dict[str, Any]) -> bool:
    """Capacity events carry each leg's remaining amounts after the change: apply them as
    they are (events come in commit order). Older events without them mark the trip stale."""
    rows = payload.get("remaining")
    if not isinstance(rows, list):
        return await stale_trip(uow, trip_id)
    changed = False
    for r in rows:
        done = await uow.session.execute(
            update(Edge).where(Edge.id == uuid.UUID(str(r["leg_id"])), Edge.kind == "flight")
            .values(remaining_g=int(r["remaining_g"]), remaining_cm3=int(r["remaining_cm3"]),
                    remaining_items=int(r["remaining_items"]), revision=Edge.revision + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        changed = changed or done.rowcount > 0
    return changed


async def put_segment(uow, s: dict[str, Any], version: int) -> bool:
    """A courier segment (the Local Courier Service's SegmentOut); inactive ones leave."""
    sid = uuid.UUID(str(s["id"]))
    values = dict(provider_id=uuid.UUID(str(s["provider_id"])), from_node=s["from_location"],
                  to_node=s["to_location"], duration_s=int(s["duration_min"]) * 60, price_minor=int(s["price_minor"]),
                  currency=str(s["currency"]), max_weight_g=s.get("max_weight_g"))
    e = await uow.get(Edge, sid)
    if e is not None and e.source_version > version:
        return False
    if not s.get("active", True):
        if e is not None:
            await uow.session.delete(e)
        return e is not None
    await ensure_nodes(uow, [values["from_node"], values["to_node"]])
    if e is None:
        e = uow.add(Edge(id=sid, kind="courier", revision=0))
    for k, v in values.items():
        setattr(e, k, v)
    e.stale, e.source_version, e.revision, e.updated_at = False, version, (e.revision or 0) + 1, utcnow()
    return True


# -- the in-memory graph ---------------------------------------------------------------------
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
            node_ids = await uow.all(select(Node.id).where(Node.resolved.is_(False)))
            stale = (await uow.session.execute(select(Edge.trip_id, Edge.id, Edge.revision).where(
                Edge.stale.is_(True), Edge.kind == "flight"))).all()
        places, trips, pending = {}, {}, False
        for nid in node_ids:
            try:
                places[nid] = await self.svc.calls.locations.resolve(nid)
            except NotFound:
                places[nid] = None
            except ProblemError:
                pending = True
        for trip_id in {row.trip_id for row in stale}:
            try:
                trips[trip_id] = (await self.svc.calls.trips.get(Ctx.system(), trip_id),
                                  await self.svc.calls.trips.remaining(trip_id))
            except NotFound:
                trips[trip_id] = None
            except ProblemError:
                pending = True
        self._pending, self._retry_at = pending, time.monotonic() + self.RETRY_S
        if not places and not trips:
            return False
        async with self.svc.uow() as uow:
            for nid, loc in places.items():
                values = dict(name=loc.name, code=loc.code, tz=loc.tz, lat=loc.lat, lon=loc.lon) if loc else {}
                await uow.session.execute(update(Node).where(Node.id == nid).values(resolved=True, **values)
                                          .execution_options(synchronize_session=False))
            for row in stale:
                if row.trip_id in trips:
                    await _complete_leg(uow, row.id, row.revision, trips[row.trip_id])
            await bump(uow)
        return True

    async def _load(self, version: int) -> GraphView:
        now = utcnow()
        async with self.svc.uow(read=True) as uow:
            nodes = await uow.all(select(Node).where(Node.tz.is_not(None)))
            edges = await uow.all(select(Edge).where(Edge.currency.is_not(None)))
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


async def _complete_leg(uow, edge_id: uuid.UUID, revision: int, data) -> None:
    guard = (Edge.id == edge_id, Edge.revision == revision)  # a newer event since the read wins
    trip, remaining = data if data else (None, None)
    leg = next((x for x in trip.legs if x.id == edge_id), None) if trip else None
    if trip is None or trip.status != "published" or leg is None:
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
