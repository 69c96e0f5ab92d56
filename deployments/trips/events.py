"""The Trip Service's events. The capacity shards' events (`CapacityHeld`, ...) live with
the shards in `actors/capacity.py` and are emitted on this service's behalf."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from deployments.trips.schemas import ConstraintsIn
from p2p.events import DomainEvent


class TripCreated(DomainEvent):
    topic: ClassVar[str] = "trip.created"
    trip_id: uuid.UUID
    traveler_id: uuid.UUID


class TripUpdated(DomainEvent):
    topic: ClassVar[str] = "trip.updated"
    trip_id: uuid.UUID
    fields: list[str]
    status: str


class PublishedCapacity(BaseModel):
    weight_g: int
    volume_cm3: int
    items: int


class PublishedPrice(BaseModel):
    per_kg_minor: int
    min_price_minor: int
    currency: str


class PublishedLeg(BaseModel):
    leg_id: uuid.UUID
    origin_location: str
    destination_location: str
    departs_at: datetime
    arrives_at: datetime
    carrier: str | None = None
    flight_number: str | None = None


class TripPublished(DomainEvent):
    """What a published trip's subscribers need without calling back: legs, capacity, the
    asking price and the constraints."""

    topic: ClassVar[str] = "trip.published"
    trip_id: uuid.UUID
    traveler_id: uuid.UUID
    status: str
    capacity: PublishedCapacity
    price: PublishedPrice
    constraints: ConstraintsIn
    legs: list[PublishedLeg]


class TripStatusChanged(DomainEvent):
    trip_id: uuid.UUID
    status: str


class TripStarted(TripStatusChanged):
    topic: ClassVar[str] = "trip.started"


class TripCompleted(TripStatusChanged):
    topic: ClassVar[str] = "trip.completed"


class TripCancelled(DomainEvent):
    """The trip's flight holds were released in its shard; `booking_ids` are the bookings
    that held or booked capacity on it."""

    topic: ClassVar[str] = "trip.cancelled"
    trip_id: uuid.UUID
    traveler_id: uuid.UUID
    booking_ids: list[uuid.UUID]
    released_holds: list[uuid.UUID]


class TripDocumentAdded(DomainEvent):
    topic: ClassVar[str] = "trip.document_added"
    trip_id: uuid.UUID
    document_id: uuid.UUID
    kind: str
