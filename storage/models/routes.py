"""Route Planning Service tables: the static route graph it keeps from domain events.

`route_graph_nodes` are places (Location Service ids) with the zone and coordinates the
search needs; `route_graph_edges` are flight legs of published trips and local courier
segments. Events carry only part of what an edge needs (`trip.updated` names the changed
fields, not their values), so an edge can be `stale`: the service completes it from the
owning service before the next graph build, guarded by `revision` so a newer event is
never overwritten. A node is `resolved` once its zone and coordinates came from the
Location Service.
`route_graph_state` holds one counter, bumped with every change, that replicas compare to
decide whether to rebuild their in-memory graph.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, utcnow


class RouteGraphNode(Base):
    __tablename__ = "route_graph_nodes"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)  # apt:LHR, city:GB:london, addr:<uuid>
    name: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(8))
    tz: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    resolved: Mapped[bool] = mapped_column(default=False, index=True)  # looked up at the Location Service
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RouteGraphEdge(Base):
    """A flight leg (id = the trip leg id) or a courier segment (id = the segment id)."""

    __tablename__ = "route_graph_edges"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # flight | courier
    from_node: Mapped[str] = mapped_column(String(96), index=True)
    to_node: Mapped[str] = mapped_column(String(96), index=True)
    trip_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(default=0)
    provider_id: Mapped[uuid.UUID | None] = mapped_column()
    departs_at: Mapped[datetime | None] = mapped_column(index=True)
    arrives_at: Mapped[datetime | None] = mapped_column()
    duration_s: Mapped[int | None] = mapped_column()
    carrier: Mapped[str | None] = mapped_column(String(3))
    flight_number: Mapped[str | None] = mapped_column(String(8))
    remaining_g: Mapped[int | None] = mapped_column()
    remaining_cm3: Mapped[int | None] = mapped_column()
    remaining_items: Mapped[int | None] = mapped_column()
    price_per_kg_minor: Mapped[int | None] = mapped_column()
    price_minor: Mapped[int | None] = mapped_column()  # flights: the minimum; couriers: the price
    currency: Mapped[str | None] = mapped_column(String(3))
    max_weight_g: Mapped[int | None] = mapped_column()
    constraints: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stale: Mapped[bool] = mapped_column(default=True, index=True)
    revision: Mapped[int] = mapped_column(default=1)
    source_version: Mapped[int] = mapped_column(default=0)  # the owner's entity version
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RouteGraphState(Base):
    __tablename__ = "route_graph_state"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
