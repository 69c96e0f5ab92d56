"""QR Code Service schemas."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from deployments.kit import Schema
from p2p.vocab import HandoffId, PackageId, QrId, ShipmentId

QrKind = Literal["handoff", "package"]
ScannerRole = Literal["sender", "traveler", "courier", "recipient"]
QrStatus = Literal["active", "used", "expired", "revoked"]


class QrSubject(Schema):
    """What the Handoff Service answers for a code it lets the caller generate."""
    step_id: HandoffId
    shipment_id: ShipmentId
    package_id: PackageId
    seq: int
    kind: QrKind
    scanner_role: ScannerRole
    scanner_id: uuid.UUID | None = None
    not_after: datetime


class QrGenerate(Schema):
    handoff_id: HandoffId
    kind: QrKind


class QrExpire(Schema):
    reason: str = Field(default="expired_by_hand", min_length=1, max_length=40)


class QrValidate(Schema):
    payload: str = Field(min_length=1, max_length=2048)
    handoff_id: HandoffId
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class QrOut(Schema):
    id: QrId
    step_id: HandoffId
    package_id: PackageId
    shipment_id: ShipmentId
    kind: QrKind
    scanner_role: ScannerRole
    expires_at: datetime
    status: QrStatus
    payload: str | None = None  # only for the code's issuer


class QrDetail(QrOut):
    attempts: int = 0
    attempts_by_outcome: dict[str, int] = Field(default_factory=dict)


class QrValidation(Schema):
    outcome: Literal["ok"] = "ok"
    qr_id: QrId
    step_id: HandoffId
    package_id: PackageId
    shipment_id: ShipmentId
    kind: QrKind


class QrCheck(Schema):
    ok: bool
    code: str
    message: str
    qr_id: uuid.UUID | None = None
    kind: str | None = None
    step_id: uuid.UUID
    package_id: uuid.UUID | None = None
