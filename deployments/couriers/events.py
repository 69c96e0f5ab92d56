"""The Local Courier Service's events. The Route Planning Service follows the segment events."""
from __future__ import annotations

import uuid
from typing import ClassVar

from p2p.events import DomainEvent
from p2p.vocab import ProviderId, UserId


class SegmentPublished(DomainEvent):
    """A courier segment was published; the fields of `SegmentOut`."""

    topic: ClassVar[str] = "segment.published"
    id: uuid.UUID
    provider_id: uuid.UUID
    from_location: str
    to_location: str
    duration_min: int
    price_minor: int
    currency: str
    max_weight_g: int
    active: bool
    version: int = 1


class SegmentUpdated(SegmentPublished):
    topic: ClassVar[str] = "segment.updated"


class CourierRegistered(DomainEvent):
    topic: ClassVar[str] = "courier.registered"
    provider_id: ProviderId
    owner_id: UserId
    city_id: str


class CourierAreasUpdated(DomainEvent):
    topic: ClassVar[str] = "courier.areas_updated"
    provider_id: ProviderId
    areas: int  # how many areas the provider serves now
