"""What the custody shards take and answer (picklable Pydantic models)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from p2p.vocab import HandoffStatus, ScanOutcome, TrackingStatus

ScanKind = Literal["handoff", "package"]


class StepPlan(BaseModel):
    seq: int
    giver_id: uuid.UUID
    giver_role: str
    receiver_id: uuid.UUID | None  # None: the recipient
    receiver_role: str
    leg_completed: int | None = None
    leg_started: int | None = None
    place: str
    lat: float | None = None
    lon: float | None = None
    planned_at: datetime


class OpenIn(BaseModel):
    booking_id: uuid.UUID
    tracking_number: str
    sender_id: uuid.UUID
    code_hash: str
    steps: list[StepPlan]


class StepOut(BaseModel):
    id: uuid.UUID
    shipment_id: uuid.UUID
    seq: int
    giver_id: uuid.UUID
    giver_role: str
    receiver_id: uuid.UUID | None
    receiver_role: str
    leg_completed: int | None
    leg_started: int | None
    place: str
    planned_at: datetime
    status: HandoffStatus
    scanned: list[ScanKind]
    photos: int
    last: bool
    transferred_at: datetime | None


class CustodyOut(BaseModel):
    shipment_id: uuid.UUID
    booking_id: uuid.UUID
    tracking_number: str
    sender_id: uuid.UUID
    status: TrackingStatus
    holder_id: uuid.UUID | None
    holder_role: str
    next_seq: int | None
    next_due_at: datetime | None
    steps: list[StepOut]
    version: int
    created: bool = False  # this call opened it


class ScanIn(BaseModel):
    scan_id: uuid.UUID
    step_id: uuid.UUID
    kind: ScanKind
    scanner_id: uuid.UUID
    qr_id: uuid.UUID | None
    qr_kind: str | None
    qr_code: str  # "ok", or the QR Code Service's refusal code (qr.forged, qr.expired, ...)
    qr_message: str = ""
    lat: float
    lon: float
    scanned_at: datetime


class ScanOut(BaseModel):
    scan_id: uuid.UUID
    step_id: uuid.UUID
    kind: ScanKind
    outcome: ScanOutcome
    code: str
    distance_m: int | None
    step: StepOut


class PhotoIn(BaseModel):
    photo_id: uuid.UUID
    step_id: uuid.UUID
    sha256: str
    content_type: str
    size_bytes: int
    uploaded_by: uuid.UUID


class ProofIn(BaseModel):
    proof_id: uuid.UUID
    recorded_by: uuid.UUID
    code: str | None = None
    photo_sha256: str
    signature_sha256: str | None = None
    lat: float | None = None
    lon: float | None = None


class EventIn(BaseModel):
    event_id: uuid.UUID
    status: TrackingStatus
    reason: str | None = None
    description: str
    place: str | None = None
    lat: float | None = None
    lon: float | None = None
    actor_id: uuid.UUID | None = None
    source: str = "carrier"
    raw: dict[str, Any] = {}
    occurred_at: datetime
