"""What the custody shards emit (on the Tracking Service's behalf: source `tracking`).

Every event names the shipment, its booking and the public tracking status after the
change, so a consumer (escrow release, notifications, webhooks, the shipment's own
status, the itinerary's legs) needs nothing else to react."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from p2p.events import DomainEvent
from p2p.vocab import TrackingStatus


class CustodyEvent(DomainEvent):
    shipment_id: uuid.UUID
    booking_id: uuid.UUID | None = None
    status: TrackingStatus
    at: datetime


class CustodyOpened(CustodyEvent):
    """The handoff steps of a confirmed booking exist; the shipment waits for its pickup."""
    topic: ClassVar[str] = "custody.opened"
    steps: int


class HandoffTransferred(CustodyEvent):
    """One step completed: the package passed from `giver_id` to `receiver_id` (None: the
    recipient, who needs no account). `leg_completed` is the itinerary leg the giver
    finished (None on the first step), `leg_started` the one the receiver starts (None on
    the last step)."""
    topic: ClassVar[str] = "handoff.transferred"
    step_id: uuid.UUID
    seq: int
    giver_id: uuid.UUID | None
    receiver_id: uuid.UUID | None
    leg_completed: int | None = None
    leg_started: int | None = None


class ShipmentPickedUp(CustodyEvent):
    """The first carrier took the package from the sender."""
    topic: ClassVar[str] = "shipment.picked_up"


class ShipmentOutForDelivery(CustodyEvent):
    """The carrier of the last leg holds the package."""
    topic: ClassVar[str] = "shipment.out_for_delivery"


class ShipmentDelivered(CustodyEvent):
    """The recipient has the package, with proof."""
    topic: ClassVar[str] = "shipment.delivered"
    proof_id: uuid.UUID


class ShipmentException(CustodyEvent):
    """Custody stopped or went wrong: delivery_failed, return_to_sender, lost or cancelled,
    with a reason code (carrier_*, consignee_*, customs_*, weather_*, other_*)."""
    topic: ClassVar[str] = "shipment.exception"
    reason: str


CUSTODY_EVENTS = (CustodyOpened, HandoffTransferred, ShipmentPickedUp, ShipmentOutForDelivery, ShipmentDelivered,
                  ShipmentException)
