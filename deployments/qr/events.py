"""The QR Code Service's events."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from p2p.events import DomainEvent


class QrIssued(DomainEvent):
    topic: ClassVar[str] = "qr.issued"
    qr_id: uuid.UUID
    step_id: uuid.UUID
    shipment_id: uuid.UUID
    package_id: uuid.UUID
    kind: str
    issued_by: uuid.UUID
    expires_at: datetime


class QrUsed(DomainEvent):
    topic: ClassVar[str] = "qr.used"
    qr_id: uuid.UUID
    step_id: uuid.UUID
    kind: str
    scan_id: uuid.UUID


class QrRevoked(DomainEvent):
    topic: ClassVar[str] = "qr.revoked"
    qr_id: uuid.UUID
    step_id: uuid.UUID
    kind: str
    reason: str


QR_EVENTS = (QrIssued, QrUsed, QrRevoked)
