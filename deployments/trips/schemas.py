"""Trip Service schemas: what travelers send and what everyone reads."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from deployments.kit import Schema
from p2p.money import Currency
from p2p.vocab import (
    MAX_PACKAGE_ITEMS,
    MAX_PACKAGE_VOLUME_CM3,
    MAX_PACKAGE_WEIGHT_G,
    MAX_SIDE_MM,
    Category,
    LegId,
    LocationId,
    TripId,
    TripStatus,
    UserId,
)

DocumentKind = Literal["ticket", "boarding_pass", "itinerary", "other"]
MAX_PRICE_MINOR = 100_000_000
AIRLINE = re.compile(r"^(?:[A-Z]{2}|[A-Z][0-9]|[0-9][A-Z])$")  # IATA designator, not two digits
FLIGHT = re.compile(r"^[0-9]{1,4}[A-Z]?$")
Iata = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$", description="IATA airport code")]


class LegIn(Schema):
    origin: Iata
    destination: Iata
    departs_at: AwareDatetime = Field(description="ISO 8601 with an offset; stored in UTC")
    arrives_at: AwareDatetime
    carrier: str = Field(description="IATA airline designator, e.g. BA, U2")
    flight_number: str = Field(description="1-4 digits and an optional suffix letter, e.g. 117, 8123A")

    @field_validator("origin", "destination", "carrier", "flight_number", mode="after")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()

    @model_validator(mode="after")
    def _formats(self):
        if not AIRLINE.match(self.carrier):
            raise ValueError("carrier must be a two-character IATA airline designator (not two digits)")
        if not FLIGHT.match(self.flight_number.lstrip("0") or "0"):
            raise ValueError("flight_number must be 1-4 digits and an optional letter")
        return self


class CapacityIn(Schema):
    # A traveler's checked and cabin luggage: the package ceilings, generous, not typical values.
    weight_g: int = Field(gt=0, le=MAX_PACKAGE_WEIGHT_G)
    volume_cm3: int = Field(gt=0, le=MAX_PACKAGE_VOLUME_CM3)
    items: int = Field(gt=0, le=MAX_PACKAGE_ITEMS)


class PriceIn(Schema):
    per_kg_minor: int = Field(ge=0, le=MAX_PRICE_MINOR, description="Asking price per kg, integer minor units")
    min_price_minor: int = Field(default=0, ge=0, le=MAX_PRICE_MINOR, description="Least charged per booking")
    currency: Currency


class ConstraintsIn(Schema):
    max_item_weight_g: int | None = Field(default=None, gt=0, le=MAX_PACKAGE_WEIGHT_G)
    max_length_mm: int | None = Field(default=None, gt=0, le=MAX_SIDE_MM)
    max_width_mm: int | None = Field(default=None, gt=0, le=MAX_SIDE_MM)
    max_height_mm: int | None = Field(default=None, gt=0, le=MAX_SIDE_MM)
    allowed_categories: list[Category] | None = Field(default=None, description="None: every category not banned")
    banned_categories: list[Category] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self):
        both = set(self.allowed_categories or ()) & set(self.banned_categories)
        if both:
            raise ValueError(f"categories both allowed and banned: {sorted(both)}")
        return self


class TripCreate(Schema):
    legs: list[LegIn] = Field(min_length=1, max_length=4)
    capacity: CapacityIn
    price: PriceIn
    constraints: ConstraintsIn = Field(default_factory=ConstraintsIn)
    notes: str | None = Field(default=None, max_length=500)


class TripUpdate(Schema):
    """Legs change only while the trip is a draft; capacity never below what is committed."""

    legs: list[LegIn] | None = Field(default=None, min_length=1, max_length=4)
    capacity: CapacityIn | None = None
    price: PriceIn | None = None
    constraints: ConstraintsIn | None = None
    notes: str | None = Field(default=None, max_length=500)


class TripLegOut(Schema):
    id: LegId
    seq: int
    origin: str
    destination: str
    origin_location: LocationId
    destination_location: LocationId
    origin_tz: str
    destination_tz: str
    departs_at: datetime
    arrives_at: datetime
    carrier: str
    flight_number: str


class DocumentOut(Schema):
    id: uuid.UUID
    kind: str
    sha256: str
    filename: str
    content_type: str
    size_bytes: int
    created_at: datetime


class TripOut(Schema):
    id: TripId
    traveler_id: UserId
    status: TripStatus
    legs: list[TripLegOut]
    capacity: CapacityIn
    price: PriceIn
    constraints: ConstraintsIn
    documents: list[DocumentOut] = Field(default_factory=list)
    notes: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    cancelled_at: datetime | None = None


class TripLegRef(Schema):
    """One leg of a trip as other services see it (itineraries, bookings, route planning)."""

    trip_id: TripId
    leg_id: LegId
    traveler_id: UserId
    trip_status: TripStatus
    origin_location: LocationId
    destination_location: LocationId
    departs_at: datetime
    arrives_at: datetime
    carrier: str
    flight_number: str
    price_per_kg_minor: int
    min_price_minor: int
    currency: str
