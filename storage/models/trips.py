"""Trip Service tables: trips, trip_legs, trip_constraints, trip_documents, and the
capacity ledger its shard actors keep (trip_capacity, capacity_holds).

`trip_capacity` has one row per trip leg: what the traveler offers on that flight and what
is held (pending bookings) or booked (confirmed). The CHECK constraints are the database's
own guard against overselling, behind the shard actors' conditional updates.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin, utcnow

DIMENSIONS = ("g", "cm3", "items")


class Trip(IdMixin, TimestampMixin, Base):
    __tablename__ = "trips"
    __table_args__ = (
        CheckConstraint("capacity_g > 0", name="capacity_g_positive"),
        CheckConstraint("capacity_cm3 > 0", name="capacity_cm3_positive"),
        CheckConstraint("capacity_items > 0", name="capacity_items_positive"),
        CheckConstraint("price_per_kg_minor >= 0 AND min_price_minor >= 0", name="price_not_negative"),
    )
    traveler_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    capacity_g: Mapped[int] = mapped_column()
    capacity_cm3: Mapped[int] = mapped_column()
    capacity_items: Mapped[int] = mapped_column()
    price_per_kg_minor: Mapped[int] = mapped_column()
    min_price_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(default=1)
    published_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # Loaded with the trip (selectin), so a TripOut validates from the row.
    legs: Mapped[list[TripLeg]] = relationship(order_by="TripLeg.seq", lazy="selectin", cascade="all, delete-orphan",
                                               passive_deletes=True)
    constraints: Mapped[TripConstraint] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                       passive_deletes=True)
    documents: Mapped[list[TripDocument]] = relationship(order_by="TripDocument.created_at", lazy="selectin",
                                                         cascade="all, delete-orphan", passive_deletes=True)

    @property
    def capacity(self) -> dict[str, int]:
        return {"weight_g": self.capacity_g, "volume_cm3": self.capacity_cm3, "items": self.capacity_items}

    @property
    def price(self) -> dict[str, int | str]:
        return {"per_kg_minor": self.price_per_kg_minor, "min_price_minor": self.min_price_minor,
                "currency": self.currency}


class TripLeg(IdMixin, Base):
    __tablename__ = "trip_legs"
    __table_args__ = (UniqueConstraint("trip_id", "seq"),)
    trip_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column()
    origin_iata: Mapped[str] = mapped_column(String(3))
    destination_iata: Mapped[str] = mapped_column(String(3))
    origin_location: Mapped[str] = mapped_column(String(64), index=True)
    destination_location: Mapped[str] = mapped_column(String(64), index=True)
    origin_tz: Mapped[str] = mapped_column(String(64))
    destination_tz: Mapped[str] = mapped_column(String(64))
    departs_at: Mapped[datetime] = mapped_column(index=True)
    arrives_at: Mapped[datetime] = mapped_column()
    carrier: Mapped[str] = mapped_column(String(3))
    flight_number: Mapped[str] = mapped_column(String(8))

    @property
    def origin(self) -> str:
        return self.origin_iata

    @property
    def destination(self) -> str:
        return self.destination_iata


class TripConstraint(Base):
    __tablename__ = "trip_constraints"
    trip_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"), primary_key=True)
    max_item_weight_g: Mapped[int | None] = mapped_column()
    max_length_mm: Mapped[int | None] = mapped_column()
    max_width_mm: Mapped[int | None] = mapped_column()
    max_height_mm: Mapped[int | None] = mapped_column()
    allowed_categories: Mapped[list[str] | None] = mapped_column(JSON)
    banned_categories: Mapped[list[str]] = mapped_column(JSON, default=list)


class TripDocument(IdMixin, TimestampMixin, Base):
    __tablename__ = "trip_documents"
    trip_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    sha256: Mapped[str] = mapped_column(String(64))  # the blob store's name for the bytes
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column()
    uploaded_by: Mapped[uuid.UUID] = mapped_column()


class LegCapacity(Base):
    __tablename__ = "trip_capacity"
    __table_args__ = tuple(
        c for d in DIMENSIONS for c in (
            CheckConstraint(f"held_{d} >= 0 AND booked_{d} >= 0", name=f"{d}_not_negative"),
            CheckConstraint(f"held_{d} + booked_{d} <= capacity_{d}", name=f"{d}_not_oversold"),
        )
    )
    trip_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"), primary_key=True)
    leg_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trip_legs.id", ondelete="CASCADE"), primary_key=True)
    open: Mapped[bool] = mapped_column(default=True)
    capacity_g: Mapped[int] = mapped_column()
    capacity_cm3: Mapped[int] = mapped_column()
    capacity_items: Mapped[int] = mapped_column()
    held_g: Mapped[int] = mapped_column(default=0)
    held_cm3: Mapped[int] = mapped_column(default=0)
    held_items: Mapped[int] = mapped_column(default=0)
    booked_g: Mapped[int] = mapped_column(default=0)
    booked_cm3: Mapped[int] = mapped_column(default=0)
    booked_items: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CapacityHold(Base):
    """One booking's claim on one trip (on one or more of its legs). Status moves
    held -> confirmed | released | expired, confirmed -> released, each by a conditional
    update on this row, so a claim is released exactly once."""

    __tablename__ = "capacity_holds"
    __table_args__ = (
        Index("ix_capacity_holds_status_expires_at", "status", "expires_at"),
        CheckConstraint("weight_g > 0 AND volume_cm3 > 0 AND items > 0", name="amounts_positive"),
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    trip_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"), primary_key=True)
    leg_ids: Mapped[list[str]] = mapped_column(JSON)
    weight_g: Mapped[int] = mapped_column()
    volume_cm3: Mapped[int] = mapped_column()
    items: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="held")
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
