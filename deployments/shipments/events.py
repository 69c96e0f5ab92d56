"""The Shipment Service's events (the custody shards' shipment.* events live in
actors.custody.events; these topics do not collide with them)."""
from __future__ import annotations

import uuid
from typing import ClassVar

from p2p.events import DomainEvent
from p2p.vocab import ShipmentStatus


class ShipmentCreated(DomainEvent):
    topic: ClassVar[str] = "shipment.created"
    shipment_id: uuid.UUID
    sender_id: uuid.UUID
    tracking_number: str
    international: bool
    packages: int


class PackageAdded(DomainEvent):
    topic: ClassVar[str] = "package.added"
    shipment_id: uuid.UUID
    package_id: uuid.UUID


class ShipmentStatusChanged(DomainEvent):
    topic: ClassVar[str] = "shipment.status_changed"
    shipment_id: uuid.UUID
    booking_id: uuid.UUID | None = None
    status: ShipmentStatus
    was: ShipmentStatus
    reason: str | None = None
    requested_by: uuid.UUID | None = None


SHIPMENT_EVENTS = (ShipmentCreated, PackageAdded, ShipmentStatusChanged)
