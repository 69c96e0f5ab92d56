"""Handoff Service schemas: opening a shipment's steps, a step as its parties read it, a
scan, and what the QR Code Service learns about a step it issues a code for."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from deployments.kit import Schema
from p2p.vocab import HandoffId, ShipmentId


class HandoffsCreate(Schema):
    shipment_id: ShipmentId


class ScanCreate(Schema):
    scan_id: uuid.UUID = Field(description="The scanning device's id for this scan: a retry sends the same one")
    kind: Literal["handoff", "package"] = Field(description="handoff: the giver's code; package: the package label")
    payload: str = Field(min_length=10, max_length=2000, description="The QR code's text")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    scanned_at: AwareDatetime | None = None


class QrSubjectOut(Schema):
    """What a code for a step binds: the step, its package and who must scan it."""
    step_id: HandoffId
    shipment_id: ShipmentId
    package_id: uuid.UUID
    seq: int
    kind: Literal["handoff", "package"]
    scanner_role: str
    scanner_id: uuid.UUID | None
    not_after: datetime


class PhotoOut(Schema):
    id: uuid.UUID
    step_id: HandoffId
    sha256: str
    content_type: str
    size_bytes: int
