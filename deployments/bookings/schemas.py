"""Booking Service schemas: what a sender books with, and what sender and carriers read."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from deployments.kit import Schema
from p2p.vocab import (
    MAX_PACKAGE_ITEMS,
    MAX_PACKAGE_VOLUME_CM3,
    MAX_PACKAGE_WEIGHT_G,
    BookingId,
    BookingStatus,
    Category,
    ItineraryId,
    LegKind,
    ShipmentId,
    UserId,
)


class BookingCreate(Schema):
    itinerary_id: ItineraryId
    weight_g: int = Field(gt=0, le=MAX_PACKAGE_WEIGHT_G)
    volume_cm3: int = Field(gt=0, le=MAX_PACKAGE_VOLUME_CM3)
    items: int = Field(gt=0, le=MAX_PACKAGE_ITEMS)
    category: Category
    shipment_id: ShipmentId | None = Field(default=None, description="The draft shipment this booking carries; "
                                           "its legs become the shipment's route")


class AssignmentOut(Schema):
    seq: int
    kind: LegKind
    trip_id: uuid.UUID | None = None
    trip_leg_id: uuid.UUID | None = None
    segment_id: uuid.UUID | None = None
    carrier_id: UserId | None = None
    status: Literal["requested", "accepted", "declined", "cancelled"]
    hold: Literal["held", "confirmed", "released"]


class BookingOut(Schema):
    id: BookingId
    sender_id: UserId
    itinerary_id: ItineraryId
    shipment_id: ShipmentId | None = None
    status: BookingStatus
    weight_g: int
    volume_cm3: int
    items: int
    category: Category
    expires_at: datetime
    confirmed_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str | None = None
    legs: list[AssignmentOut]
    version: int
    created_at: datetime


class PricePart(Schema):
    """One beneficiary's part of a booking's price."""
    kind: Literal["carrier", "platform_fee", "tax"]
    beneficiary_id: UserId | None = Field(description="The traveler or courier paid for the leg; none for the "
                                                      "platform fee")
    leg_seq: int | None = None
    amount_minor: int = Field(ge=0)
    description: str = ""
    jurisdiction: str | None = Field(default=None, description="For a tax part: where it is owed (DE, CA-QC)")
    rate_percent: str | None = Field(default=None, description="For a tax part: its rate, e.g. 19 or 9.975")


class BookingPrice(Schema):
    booking_id: BookingId
    sender_id: UserId
    status: BookingStatus
    currency: str
    total_minor: int
    parts: list[PricePart]
    discount_minor: int = Field(default=0, description="Promotions applied (already taken off the parts)")
    quote_id: uuid.UUID | None = Field(default=None, description="The locked quote the booking pays")
