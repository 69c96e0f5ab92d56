"""Local Courier Service tables: local_courier_providers, local_service_areas, local_segments,
and the daily capacity they sell (local_capacity_days, with the holds that use it)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, IdMixin, TimestampMixin


class LocalCourierProvider(IdMixin, TimestampMixin, Base):
    __tablename__ = "local_courier_providers"
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(120))
    city_id: Mapped[str] = mapped_column(String(96), index=True)  # a Location Service id
    country: Mapped[str] = mapped_column(String(2), index=True)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    max_parcels_per_day: Mapped[int] = mapped_column()
    max_weight_g_per_day: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)


class LocalServiceArea(IdMixin, TimestampMixin, Base):
    """One GeoJSON Polygon or MultiPolygon, with its bounding box for a cheap first test."""

    __tablename__ = "local_service_areas"
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("local_courier_providers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)

    @property
    def bbox(self) -> list[float]:
        """[min_lon, min_lat, max_lon, max_lat], as GeoJSON orders a bounding box."""
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]

    @bbox.setter
    def bbox(self, box: tuple[float, float, float, float] | list[float]) -> None:
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = box


class LocalSegment(IdMixin, TimestampMixin, Base):
    __tablename__ = "local_segments"
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("local_courier_providers.id", ondelete="CASCADE"), index=True)
    from_location: Mapped[str] = mapped_column(String(96), index=True)
    to_location: Mapped[str] = mapped_column(String(96), index=True)
    duration_min: Mapped[int] = mapped_column()
    price_minor: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    max_weight_g: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True, index=True)
    version: Mapped[int] = mapped_column(default=1)


class LocalCapacityDay(Base):
    """What a provider has sold on one day; the checks keep it within the provider's limits
    even if two writers race (the update is conditional too)."""

    __tablename__ = "local_capacity_days"
    __table_args__ = (CheckConstraint("parcels >= 0 AND weight_g >= 0", name="non_negative"),)
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("local_courier_providers.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    parcels: Mapped[int] = mapped_column(default=0)
    weight_g: Mapped[int] = mapped_column(default=0)


class LocalCapacityHold(Base):
    """One use of a day's capacity, keyed by the caller (a booking leg), so a retry is a no-op."""

    __tablename__ = "local_capacity_holds"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("local_courier_providers.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    weight_g: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()
