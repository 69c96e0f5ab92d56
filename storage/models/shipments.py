"""Shipment Service tables: shipments (a sender's consignment: pickup and recipient, windows,
declared value, its booking and carriers), packages, package_items and package_photos."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin, utcnow


class Shipment(IdMixin, TimestampMixin, Base):
    __tablename__ = "shipments"
    __table_args__ = (CheckConstraint("declared_value_minor >= 0", name="value_not_negative"),)
    sender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    carrier_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_phone: Mapped[str] = mapped_column(String(16))
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    origin_location: Mapped[str] = mapped_column(String(96))
    origin_country: Mapped[str] = mapped_column(String(2))
    origin_lat: Mapped[float | None] = mapped_column(Float)
    origin_lon: Mapped[float | None] = mapped_column(Float)
    destination_location: Mapped[str] = mapped_column(String(96))
    destination_country: Mapped[str] = mapped_column(String(2))
    destination_lat: Mapped[float | None] = mapped_column(Float)
    destination_lon: Mapped[float | None] = mapped_column(Float)
    international: Mapped[bool] = mapped_column(default=False)
    pickup_start: Mapped[datetime] = mapped_column()
    pickup_end: Mapped[datetime] = mapped_column()
    delivery_start: Mapped[datetime] = mapped_column()
    delivery_end: Mapped[datetime] = mapped_column()
    declared_value_minor: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    # Loaded with the shipment (selectin), so a ShipmentOut validates from the row.
    packages: Mapped[list[Package]] = relationship(order_by="Package.seq", lazy="selectin",
                                                   cascade="all, delete-orphan", passive_deletes=True)


class Package(IdMixin, TimestampMixin, Base):
    __tablename__ = "packages"
    __table_args__ = (UniqueConstraint("shipment_id", "seq"),
                      CheckConstraint("weight_g > 0 AND length_mm > 0 AND width_mm > 0 AND height_mm > 0",
                                      name="sizes_positive"))
    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="draft")
    weight_g: Mapped[int] = mapped_column()
    length_mm: Mapped[int] = mapped_column()
    width_mm: Mapped[int] = mapped_column()
    height_mm: Mapped[int] = mapped_column()
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(500))
    items: Mapped[list[PackageItem]] = relationship(order_by="PackageItem.seq", lazy="selectin",
                                                    cascade="all, delete-orphan", passive_deletes=True)
    photos: Mapped[list[PackagePhoto]] = relationship(order_by="PackagePhoto.created_at", lazy="selectin",
                                                      cascade="all, delete-orphan", passive_deletes=True)


class PackageItem(IdMixin, Base):
    __tablename__ = "package_items"
    __table_args__ = (UniqueConstraint("package_id", "seq"),
                      CheckConstraint("quantity > 0 AND (value_minor IS NULL OR value_minor >= 0)",
                                      name="amounts_valid"))
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column()
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column()
    value_minor: Mapped[int | None] = mapped_column()


class PackagePhoto(IdMixin, Base):
    __tablename__ = "package_photos"
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column()
    uploaded_by: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
