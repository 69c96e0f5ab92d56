"""Tracking Service schemas: the public view by tracking number, the parties' view, the
events carriers record, and the stuck-shipments list for support."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, Field

from deployments.kit import Schema
from p2p.vocab import LocationId, ShipmentId, TrackingStatus


class TrackingEventOut(Schema):
    seq: int
    status: TrackingStatus
    reason: str | None
    description: str
    place: str | None
    occurred_at: datetime


class HolderEventOut(TrackingEventOut):
    """An event as a party sees it: who held the package, and the proof behind it."""
    holder_id: uuid.UUID | None
    holder_role: str | None
    step_id: uuid.UUID | None
    proof_id: uuid.UUID | None
    lat: float | None
    lon: float | None
    source: str


class PublicTrackingOut(Schema):
    """What anyone with the tracking number sees: no names, phones or addresses."""
    tracking_number: str
    status: TrackingStatus
    last_event_at: datetime
    events: list[TrackingEventOut]


class TrackingOut(PublicTrackingOut):
    shipment_id: ShipmentId
    booking_id: uuid.UUID
    holder_id: uuid.UUID | None
    holder_role: str
    next_seq: int | None
    next_due_at: datetime | None
    steps: int


class HistoryOut(Schema):
    shipment_id: ShipmentId
    tracking_number: str
    status: TrackingStatus
    holders: list[str] = Field(description="The chain of holders' roles, in order")
    events: list[HolderEventOut]


class TrackingEventIn(Schema):
    shipment_id: ShipmentId
    event_id: uuid.UUID | None = Field(default=None, description="Client key: the same id records once")
    status: TrackingStatus
    reason: str | None = Field(default=None, max_length=40, pattern=r"^[a-z0-9_]+$")
    description: str = Field(min_length=1, max_length=300)
    place: LocationId | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    occurred_at: AwareDatetime | None = None


class StuckOut(Schema):
    shipment_id: ShipmentId
    tracking_number: str
    status: TrackingStatus
    holder_id: uuid.UUID | None
    holder_role: str
    next_seq: int | None
    next_due_at: datetime
    overdue_s: int
