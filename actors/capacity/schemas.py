"""What the trip-capacity shards answer."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class HoldOut(BaseModel):
    booking_id: uuid.UUID
    trip_id: uuid.UUID
    leg_ids: list[uuid.UUID]
    weight_g: int
    volume_cm3: int
    items: int
    status: str
    expires_at: datetime


class LegRemaining(BaseModel):
    leg_id: uuid.UUID
    capacity_g: int
    capacity_cm3: int
    capacity_items: int
    held_g: int
    held_cm3: int
    held_items: int
    booked_g: int
    booked_cm3: int
    booked_items: int
    remaining_g: int
    remaining_cm3: int
    remaining_items: int


class RemainingOut(BaseModel):
    trip_id: uuid.UUID
    open: bool
    legs: list[LegRemaining]
