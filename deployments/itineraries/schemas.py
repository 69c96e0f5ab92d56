"""Itinerary Service schemas: the legs a sender chains, and the itinerary as it is read."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, RootModel

from deployments.kit import Schema
from p2p.vocab import BookingId, ItineraryId, LegId, LegKind, LegStatus, LocationId, SegmentId, TripId, UserId

MAX_LEGS = 4


class FlightLegIn(Schema):
    kind: Literal["flight"]
    trip_id: TripId
    leg_id: LegId


class CourierLegIn(Schema):
    kind: Literal["courier"]
    segment_id: SegmentId
    starts_at: AwareDatetime = Field(description="When the courier starts the segment")


LegIn = Annotated[FlightLegIn | CourierLegIn, Field(discriminator="kind")]


class NewLeg(RootModel[LegIn]):
    """One leg, flight or courier, as a JSON body."""


class ItineraryIn(Schema):
    legs: list[LegIn] = Field(min_length=1, max_length=MAX_LEGS)


class ItineraryLegOut(Schema):
    id: uuid.UUID
    seq: int
    kind: LegKind
    trip_id: TripId | None = None
    trip_leg_id: LegId | None = None
    segment_id: SegmentId | None = None
    carrier_id: uuid.UUID | None = Field(default=None, description="The traveler, or the courier provider")
    from_location: LocationId
    to_location: LocationId
    starts_at: datetime
    ends_at: datetime
    status: LegStatus


class ItineraryOut(Schema):
    id: ItineraryId
    owner_id: UserId
    status: LegStatus
    booking_id: BookingId | None = None
    legs: list[ItineraryLegOut]
    version: int
    created_at: datetime
    updated_at: datetime
