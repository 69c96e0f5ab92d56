"""What the trip-capacity shards emit (on the Trip Service's behalf: source `trips`)."""
from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import BaseModel

from p2p.events import DomainEvent


class LegFree(BaseModel):
    """What one leg has left after a change."""

    leg_id: uuid.UUID
    remaining_g: int
    remaining_cm3: int
    remaining_items: int


class CapacityEvent(DomainEvent):
    """A hold changed. `remaining` is each held leg's free capacity after the change
    (absolute values, so a redelivered event does no harm)."""

    trip_id: uuid.UUID
    booking_id: uuid.UUID
    leg_ids: list[uuid.UUID]
    weight_g: int
    volume_cm3: int
    items: int
    status: str = "held"
    reason: str | None = None
    remaining: list[LegFree] = []


class CapacityHeld(CapacityEvent):
    topic: ClassVar[str] = "capacity.held"


class CapacityConfirmed(CapacityEvent):
    topic: ClassVar[str] = "capacity.confirmed"


class CapacityReleased(CapacityEvent):
    topic: ClassVar[str] = "capacity.released"


class CapacityHoldExpired(CapacityEvent):
    topic: ClassVar[str] = "capacity.hold_expired"


class TripCapacityChanged(DomainEvent):
    topic: ClassVar[str] = "trip.capacity_changed"
    trip_id: uuid.UUID
    capacity_g: int
    capacity_cm3: int
    capacity_items: int
    remaining: list[LegFree] = []


CAPACITY_EVENTS = (CapacityHeld, CapacityConfirmed, CapacityReleased, CapacityHoldExpired, TripCapacityChanged)
