"""Vehicle Verification Service tables: user_vehicles and vehicle_documents (the files
themselves live in the blob store, addressed by their sha256)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin


class UserVehicle(IdMixin, TimestampMixin, Base):
    __tablename__ = "user_vehicles"
    __table_args__ = (UniqueConstraint("owner_id", "plate"),)
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(16))
    plate: Mapped[str | None] = mapped_column(String(16))
    make: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(60))
    capacity_weight_g: Mapped[int] = mapped_column()
    capacity_volume_cm3: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="unverified")  # unverified|pending|verified|rejected
    review_reason: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    # Loaded with the vehicle (one extra IN query per batch of vehicles), oldest first: every
    # answer about a vehicle shows its documents. New documents are appended here.
    documents: Mapped[list[VehicleDocument]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
        order_by=lambda: (VehicleDocument.created_at, VehicleDocument.id))


class VehicleDocument(IdMixin, TimestampMixin, Base):
    __tablename__ = "vehicle_documents"
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_vehicles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # registration|insurance|inspection|photo
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[uuid.UUID] = mapped_column()
