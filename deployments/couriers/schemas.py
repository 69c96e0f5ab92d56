"""The Local Courier Service's request and response models."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import EmailStr, Field, field_validator, model_validator

from deployments.kit import Schema
from p2p import geo
from p2p.money import Currency
from p2p.vocab import LocationId, ProviderId, SegmentId, UserId


class ProviderCreate(Schema):
    name: str = Field(min_length=1, max_length=120)
    city_id: LocationId = Field(description="The provider's home city, e.g. city:GB:london")
    contact_email: EmailStr | None = None
    max_parcels_per_day: int = Field(ge=1, le=100_000)
    max_weight_g_per_day: int = Field(ge=1, le=100_000_000)


class ProviderOut(Schema):
    id: ProviderId
    owner_id: UserId
    name: str
    city_id: str
    country: str
    contact_email: str | None
    max_parcels_per_day: int
    max_weight_g_per_day: int
    active: bool
    created_at: datetime


class AreaIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, [lon, lat] positions")

    check_geometry = field_validator("geometry")(classmethod(lambda cls, v: geo.validate_geometry(v)))


class AreasIn(Schema):
    areas: list[AreaIn] = Field(max_length=50)


class AreaOut(Schema):
    id: uuid.UUID
    name: str
    geometry: dict[str, Any]
    bbox: list[float]


class AreasOut(Schema):
    provider_id: ProviderId
    areas: list[AreaOut]


class SegmentCreate(Schema):
    from_location: LocationId
    to_location: LocationId
    duration_min: int = Field(ge=1, le=24 * 60)
    price_minor: int = Field(ge=0, le=10**9, description="Integer minor units of `currency`")
    currency: Currency
    max_weight_g: int = Field(ge=1, le=100_000_000)

    @model_validator(mode="after")
    def _two_places(self):
        if self.from_location == self.to_location:
            raise ValueError("a segment goes between two different locations")
        return self


class SegmentUpdate(Schema):
    duration_min: int | None = Field(default=None, ge=1, le=24 * 60)
    price_minor: int | None = Field(default=None, ge=0, le=10**9)
    currency: Currency | None = None
    max_weight_g: int | None = Field(default=None, ge=1, le=100_000_000)
    active: bool | None = None


class SegmentOut(Schema):
    id: SegmentId
    provider_id: ProviderId
    from_location: str
    to_location: str
    duration_min: int
    price_minor: int
    currency: str
    max_weight_g: int
    active: bool
    version: int = 1


class SegmentHoldOut(Schema):
    segment_id: SegmentId
    provider_id: ProviderId
    carrier_id: UserId = Field(description="The provider's owner, who accepts the leg")
    day: date
    key: str


class CapacityOut(Schema):
    provider_id: ProviderId
    day: date
    max_parcels: int
    max_weight_g: int
    used_parcels: int
    used_weight_g: int
    remaining_parcels: int
    remaining_weight_g: int
