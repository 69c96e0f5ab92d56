"""Location Service tables: countries, cities, airports (reference data loaded by the
migration), locations (one search and resolve index over all three) and geocoded addresses."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, utcnow


class Country(Base):
    __tablename__ = "countries"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2
    alpha3: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    official_name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str | None] = mapped_column(String(64))  # only where the country has one zone


class City(Base):
    __tablename__ = "cities"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)  # city:GB:london
    country: Mapped[str] = mapped_column(String(2), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    tz: Mapped[str] = mapped_column(String(64))
    airport_count: Mapped[int] = mapped_column(default=0)


class Airport(Base):
    __tablename__ = "airports"
    iata: Mapped[str] = mapped_column(String(3), primary_key=True)
    icao: Mapped[str | None] = mapped_column(String(4), index=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(100))
    city_id: Mapped[str | None] = mapped_column(String(96), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    subdivision: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    tz: Mapped[str] = mapped_column(String(64))
    elevation_ft: Mapped[float | None] = mapped_column(Float)

    @property
    def id(self) -> str:
        """Its Location Service id, `apt:<IATA>`."""
        return f"apt:{self.iata}"


class Location(Base):
    """Every country, city and airport under its stable id, with folded search keys."""

    __tablename__ = "locations"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)  # apt:LHR, city:GB:london, ctry:GB
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str | None] = mapped_column(String(4), index=True)
    alt_code: Mapped[str | None] = mapped_column(String(4), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    city_id: Mapped[str | None] = mapped_column(String(96), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    tz: Mapped[str | None] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(120), index=True)
    city_key: Mapped[str | None] = mapped_column(String(100), index=True)
    terms: Mapped[str] = mapped_column(String(400))
    weight: Mapped[int] = mapped_column(default=0)


class Address(Base):
    """A normalised, geocoded address (`addr:<id>`), resolved to a city or an airport."""

    __tablename__ = "addresses"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    lines: Mapped[list[str]] = mapped_column(JSON, default=list)
    city: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    normalized: Mapped[str] = mapped_column(String(600))
    resolved_id: Mapped[str] = mapped_column(String(96), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    tz: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
