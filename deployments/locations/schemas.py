"""What the Location Service answers and accepts."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from deployments.kit import Schema

Kind = Literal["airport", "city", "country", "address"]
SPACES = re.compile(r"\s+")


class LocationOut(Schema):
    id: str
    kind: Kind
    name: str
    code: str | None = Field(default=None, description="IATA for airports, ISO alpha-2 for countries")
    country: str
    city_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    tz: str | None = Field(default=None, description="IANA zone; countries only when they have one")


class AirportOut(Schema):
    id: str
    iata: str
    icao: str | None
    name: str
    city: str | None
    city_id: str | None
    country: str
    subdivision: str | None = None
    lat: float
    lon: float
    tz: str


class GeocodeIn(Schema):
    lines: list[str] = Field(min_length=1, max_length=4, description="Street address lines")
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=2, max_length=60, description="ISO 3166-1 alpha-2, alpha-3 or name")
    postcode: str | None = Field(default=None, max_length=16)

    @field_validator("lines")
    @classmethod
    def _lines(cls, v: list[str]) -> list[str]:
        v = [SPACES.sub(" ", line).strip() for line in v]
        if not all(v) or any(len(line) > 200 for line in v):
            raise ValueError("each line needs 1-200 characters")
        return v


class GeocodeOut(Schema):
    id: str
    location_id: str = Field(description="The city or airport the address resolved to")
    level: Literal["airport", "city"]
    normalized: str
    lines: list[str]
    city: str
    postcode: str | None
    country: str
    lat: float
    lon: float
    tz: str
