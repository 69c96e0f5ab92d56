"""The route graph kept from the Trip Service's and the Local Courier Service's events.

Each handler writes edges and nodes in the event's unit of work and bumps one version
counter, calling no one. `TripPublished` carries the legs, price, constraints and
capacity, and capacity events each leg's remaining amounts (absolute, so a redelivery
does no harm); what they do not carry (a place's zone, the new price of a trip whose
`TripUpdated` only names the changed fields) the keeper completes from the owner later.
"""
from __future__ import annotations

import uuid
from typing import Iterable

from sqlalchemy import update

from actors.capacity import (
    CapacityHeld,
    CapacityHoldExpired,
    CapacityReleased,
    LegFree,
    TripCapacityChanged,
)
from deployments.couriers import SegmentPublished, SegmentUpdated
from deployments.kit import Service, on
from deployments.trips.events import TripCancelled, TripCompleted, TripPublished, TripStarted, TripUpdated
from storage.db import utcnow
from storage.models.routes import RouteGraphEdge as Edge
from storage.models.routes import RouteGraphNode as Node
from storage.models.routes import RouteGraphState as State

# Trip fields whose change the edges must follow. Not "capacity": a published trip's new
# capacity arrives as TripCapacityChanged with each leg's remaining amounts.
PRICED = {"price", "constraints"}


class GraphFeed(Service):
    """The Route Planning Service's event handlers (a part of `Routes`)."""

    @on(TripPublished)
    async def on_trip_published(self, uow, event: TripPublished) -> None:
        await applied(uow, await put_trip(uow, event, event.meta.version))

    @on(TripUpdated)
    async def on_trip_updated(self, uow, event: TripUpdated) -> None:
        if PRICED & set(event.fields):
            await applied(uow, await stale_trip(uow, event.trip_id))

    @on(TripCapacityChanged)
    async def on_trip_capacity_changed(self, uow, event: TripCapacityChanged) -> None:
        await applied(uow, await set_remaining(uow, event.trip_id, event.remaining))

    @on(CapacityHeld)
    async def on_capacity_held(self, uow, event: CapacityHeld) -> None:
        await applied(uow, await set_remaining(uow, event.trip_id, event.remaining))

    @on(CapacityReleased)
    async def on_capacity_released(self, uow, event: CapacityReleased) -> None:
        await applied(uow, await set_remaining(uow, event.trip_id, event.remaining))

    @on(CapacityHoldExpired)
    async def on_capacity_hold_expired(self, uow, event: CapacityHoldExpired) -> None:
        await applied(uow, await set_remaining(uow, event.trip_id, event.remaining))

    @on(TripStarted)
    async def on_trip_started(self, uow, event: TripStarted) -> None:
        await applied(uow, await drop_trip(uow, event.trip_id))

    @on(TripCompleted)
    async def on_trip_completed(self, uow, event: TripCompleted) -> None:
        await applied(uow, await drop_trip(uow, event.trip_id))

    @on(TripCancelled)
    async def on_trip_cancelled(self, uow, event: TripCancelled) -> None:
        await applied(uow, await drop_trip(uow, event.trip_id))

    @on(SegmentPublished)
    async def on_segment_published(self, uow, event: SegmentPublished) -> None:
        await applied(uow, await put_segment(uow, event, event.meta.version))

    @on(SegmentUpdated)
    async def on_segment_updated(self, uow, event: SegmentUpdated) -> None:
        await applied(uow, await put_segment(uow, event, event.meta.version))


# -- the version counter ---------------------------------------------------------------------
async def applied(uow, changed: bool) -> None:
    """Bump the graph's version if the change changed anything (an atomic increment, so
    two handlers committing together both count)."""
    if not changed:
        return
    done = await uow.session.execute(update(State).where(State.id == 1)
                                     .values(version=State.version + 1, updated_at=utcnow())
                                     .execution_options(synchronize_session=False))
    if done.rowcount == 0:
        uow.repo(State).add(State(id=1, version=1, updated_at=utcnow()))


async def read_version(uow) -> int:
    state = await uow.repo(State).get(1)
    return state.version if state else 0


# -- the changes -----------------------------------------------------------------------------
async def ensure_nodes(uow, ids: Iterable[str]) -> None:
    ids, nodes = set(ids), uow.repo(Node)
    known = {n.id for n in await nodes.list(Node.id.in_(ids), order_by=Node.id)} if ids else set()
    for nid in sorted(ids - known):
        nodes.add(Node(id=nid, resolved=False, updated_at=utcnow()))


async def put_trip(uow, trip: TripPublished, version: int) -> bool:
    """A published trip's legs become flight edges, with its price, constraints and the
    capacity it opened with."""
    edges = uow.repo(Edge)
    existing = {e.id: e for e in await edges.list(trip_id=trip.trip_id, order_by=Edge.seq)}
    if any(e.source_version > version for e in existing.values()):
        return False  # an older event delivered late
    legs = sorted(trip.legs, key=lambda x: x.departs_at)
    await ensure_nodes(uow, [x.origin_location for x in legs] + [x.destination_location for x in legs])
    common = dict(price_per_kg_minor=trip.price.per_kg_minor, price_minor=trip.price.min_price_minor,
                  currency=trip.price.currency, constraints=trip.constraints.model_dump(mode="json"),
                  remaining_g=trip.capacity.weight_g, remaining_cm3=trip.capacity.volume_cm3,
                  remaining_items=trip.capacity.items, source_version=version, stale=False)
    for seq, leg in enumerate(legs):
        e = existing.pop(leg.leg_id, None) or edges.add(Edge(id=leg.leg_id, kind="flight", trip_id=trip.trip_id,
                                                             revision=0))
        for k, v in dict(common, seq=seq, from_node=leg.origin_location, to_node=leg.destination_location,
                         departs_at=leg.departs_at, arrives_at=leg.arrives_at, carrier=leg.carrier,
                         flight_number=leg.flight_number, revision=e.revision + 1, updated_at=utcnow()).items():
            setattr(e, k, v)
    for e in existing.values():
        await edges.delete(e)
    return bool(legs) or bool(existing)


async def drop_trip(uow, trip_id: uuid.UUID) -> bool:
    return await uow.repo(Edge).delete_where(trip_id=trip_id) > 0


async def stale_trip(uow, trip_id: uuid.UUID) -> bool:
    """The trip's price or constraints changed: complete it again. The revision moves, so a
    completion read before this event cannot overwrite it."""
    done = await uow.session.execute(update(Edge).where(Edge.trip_id == trip_id)
                                     .values(stale=True, revision=Edge.revision + 1, updated_at=utcnow())
                                     .execution_options(synchronize_session=False))
    return done.rowcount > 0


async def set_remaining(uow, trip_id: uuid.UUID, remaining: list[LegFree]) -> bool:
    """Apply each leg's remaining amounts as the event gives them (events come in commit
    order). An event without them (emitted before they existed) marks the trip stale."""
    if not remaining:
        return await stale_trip(uow, trip_id)
    changed = False
    for r in remaining:
        done = await uow.session.execute(
            update(Edge).where(Edge.id == r.leg_id, Edge.kind == "flight")
            .values(remaining_g=r.remaining_g, remaining_cm3=r.remaining_cm3, remaining_items=r.remaining_items,
                    revision=Edge.revision + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        changed = changed or done.rowcount > 0
    return changed


async def put_segment(uow, s: SegmentPublished, version: int) -> bool:
    """A courier segment becomes an edge that runs at any time; an inactive one leaves."""
    edges = uow.repo(Edge)
    e = await edges.get(s.id)
    if e is not None and e.source_version > version:
        return False
    if not s.active:
        if e is not None:
            await edges.delete(e)
        return e is not None
    await ensure_nodes(uow, [s.from_location, s.to_location])
    e = e or edges.add(Edge(id=s.id, kind="courier", revision=0))
    for k, v in dict(provider_id=s.provider_id, from_node=s.from_location, to_node=s.to_location,
                     duration_s=s.duration_min * 60, price_minor=s.price_minor, currency=s.currency,
                     max_weight_g=s.max_weight_g, stale=False, source_version=version, revision=e.revision + 1,
                     updated_at=utcnow()).items():
        setattr(e, k, v)
    return True
