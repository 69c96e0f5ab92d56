"""Itinerary Service tables: itineraries and their ordered legs (flight legs on a traveler's
trip, courier legs on a local courier segment)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin


class Itinerary(IdMixin, TimestampMixin, Base):
    __tablename__ = "itineraries"
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    booking_id: Mapped[uuid.UUID | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    # Loaded with the itinerary (selectin), so an ItineraryOut validates from the row.
    legs: Mapped[list[ItineraryLeg]] = relationship(order_by="ItineraryLeg.seq", lazy="selectin",
                                                    cascade="all, delete-orphan", passive_deletes=True)


class ItineraryLeg(IdMixin, Base):
    __tablename__ = "itinerary_legs"
    __table_args__ = (UniqueConstraint("itinerary_id", "seq"),)
    itinerary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("itineraries.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    trip_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    trip_leg_id: Mapped[uuid.UUID | None] = mapped_column()
    segment_id: Mapped[uuid.UUID | None] = mapped_column()
    carrier_id: Mapped[uuid.UUID | None] = mapped_column()
    from_location: Mapped[str] = mapped_column(String(64))
    to_location: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="planned")
