"""Booking Service tables: leg_bookings (one booking of a whole itinerary by a sender) and
leg_assignments (per leg: who carries it, whether they accepted, what capacity is held)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin


class Booking(IdMixin, TimestampMixin, Base):
    __tablename__ = "leg_bookings"
    __table_args__ = (CheckConstraint("weight_g > 0 AND volume_cm3 > 0 AND items > 0", name="amounts_positive"),)
    sender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    itinerary_id: Mapped[uuid.UUID] = mapped_column(index=True)
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    weight_g: Mapped[int] = mapped_column()
    volume_cm3: Mapped[int] = mapped_column()
    items: Mapped[int] = mapped_column()
    category: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    # Loaded with the booking (selectin), so a BookingOut validates from the row.
    legs: Mapped[list[LegAssignment]] = relationship(order_by="LegAssignment.seq", lazy="selectin",
                                                     cascade="all, delete-orphan", passive_deletes=True)


class LegAssignment(IdMixin, Base):
    __tablename__ = "leg_assignments"
    __table_args__ = (UniqueConstraint("booking_id", "seq"),)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leg_bookings.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column()
    itinerary_leg_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    trip_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    trip_leg_id: Mapped[uuid.UUID | None] = mapped_column()
    segment_id: Mapped[uuid.UUID | None] = mapped_column()
    carrier_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    hold: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column()
