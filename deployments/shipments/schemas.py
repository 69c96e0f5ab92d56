"""Shipment Service schemas: what a sender ships with, and what parties and other services read."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, EmailStr, Field, model_validator

from deployments.kit import Schema
from p2p.money import Currency
from p2p.vocab import (
    LOCATION_ID_PATTERN,
    MAX_PACKAGE_ITEMS,
    MAX_PACKAGE_WEIGHT_G,
    MAX_SIDE_MM,
    Category,
    PackageStatus,
    ShipmentStatus,
)

MAX_PACKAGES = 10
Side = Annotated[int, Field(ge=1, le=MAX_SIDE_MM)]


class AddressIn(Schema):
    """Either a known location id (`addr:...`, `city:...`, `apt:...`) or an address to geocode."""
    location_id: str | None = Field(default=None, max_length=96, pattern=LOCATION_ID_PATTERN)
    lines: list[str] | None = Field(default=None, min_length=1, max_length=4)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    country: str | None = Field(default=None, min_length=2, max_length=60)
    postcode: str | None = Field(default=None, max_length=16)

    @model_validator(mode="after")
    def _one_form(self) -> AddressIn:
        if (self.location_id is None) == (self.lines is None or self.city is None or self.country is None):
            raise ValueError("give either location_id or lines, city and country")
        return self


class RecipientIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164, e.g. +447700900123")
    email: EmailStr | None = None
    address: AddressIn


class Window(Schema):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class ItemIn(Schema):
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=999)
    value_minor: int | None = Field(default=None, ge=0)


class PackageIn(Schema):
    weight_g: int = Field(ge=1, le=MAX_PACKAGE_WEIGHT_G)
    length_mm: Side
    width_mm: Side
    height_mm: Side
    category: Category
    description: str | None = Field(default=None, max_length=500)
    items: list[ItemIn] = Field(default_factory=list, max_length=MAX_PACKAGE_ITEMS)


class ShipmentCreate(Schema):
    pickup: AddressIn
    recipient: RecipientIn
    pickup_window: Window
    delivery_window: Window
    declared_value_minor: int = Field(ge=0)
    currency: Currency
    description: str | None = Field(default=None, max_length=500)
    packages: list[PackageIn] = Field(default_factory=list, max_length=MAX_PACKAGES)

    @model_validator(mode="after")
    def _windows(self) -> ShipmentCreate:
        if self.delivery_window.end <= self.pickup_window.start:
            raise ValueError("the delivery window must end after the pickup window starts")
        return self


class StatusRequest(Schema):
    status: ShipmentStatus
    reason: str | None = Field(default=None, max_length=200)


class ItemOut(Schema):
    description: str
    quantity: int
    value_minor: int | None


class PhotoOut(Schema):
    id: uuid.UUID
    package_id: uuid.UUID
    sha256: str
    content_type: str
    size_bytes: int
    uploaded_by: uuid.UUID
    created_at: datetime


class PackageOut(Schema):
    id: uuid.UUID
    shipment_id: uuid.UUID
    seq: int
    status: PackageStatus
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    category: Category
    description: str | None
    items: list[ItemOut]
    photos: list[PhotoOut]


class ShipmentOut(Schema):
    id: uuid.UUID
    tracking_number: str
    sender_id: uuid.UUID
    status: ShipmentStatus
    booking_id: uuid.UUID | None
    carrier_ids: list[uuid.UUID]
    recipient_name: str
    recipient_phone: str
    recipient_email: str | None
    origin_location: str
    origin_country: str
    origin_lat: float | None
    origin_lon: float | None
    destination_location: str
    destination_country: str
    destination_lat: float | None
    destination_lon: float | None
    international: bool
    pickup_start: datetime
    pickup_end: datetime
    delivery_start: datetime
    delivery_end: datetime
    declared_value_minor: int
    currency: str
    description: str | None
    reason: str | None
    packages: list[PackageOut]
    version: int
    created_at: datetime


class ShipmentCustody(Schema):
    """What the Booking and Tracking services need of a shipment."""
    id: uuid.UUID
    tracking_number: str
    sender_id: uuid.UUID
    booking_id: uuid.UUID | None
    status: ShipmentStatus
    recipient_name: str
    recipient_phone: str
    origin_location: str
    destination_location: str
    origin_country: str
    destination_country: str
    package_ids: list[uuid.UUID]
    carrier_ids: list[uuid.UUID]
    pickup_window_end: datetime
    delivery_window_end: datetime


class ShipmentCustomsFacts(Schema):
    """What the Customs Service needs of a shipment."""
    id: uuid.UUID
    sender_id: uuid.UUID
    carrier_ids: list[uuid.UUID]
    status: ShipmentStatus
    origin_country: str
    destination_country: str
    international: bool
    declared_value_minor: int
    currency: str
    weight_g: int
    packages: int
