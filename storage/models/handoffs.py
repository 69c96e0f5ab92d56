"""Handoff Service tables: handoff_steps (one per leg boundary of a shipment's booking,
giver -> receiver, in order), handoff_scans (every scan, accepted or refused, keyed by the
client's scan id) and handoff_photos. The custody shards write them; the service reads them."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, IdMixin, utcnow


class HandoffStep(IdMixin, Base):
    __tablename__ = "handoff_steps"
    __table_args__ = (UniqueConstraint("shipment_id", "seq"),)
    shipment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column()
    giver_id: Mapped[uuid.UUID] = mapped_column(index=True)
    giver_role: Mapped[str] = mapped_column(String(16))
    receiver_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # None: the recipient
    receiver_role: Mapped[str] = mapped_column(String(16))
    leg_completed: Mapped[int | None] = mapped_column()
    leg_started: Mapped[int | None] = mapped_column()
    place: Mapped[str] = mapped_column(String(96))
    lat: Mapped[float | None] = mapped_column()
    lon: Mapped[float | None] = mapped_column()
    planned_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="planned")
    transferred_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoffScan(Base):
    """Its id is the client's scan id: a retried scan is the same row. At most one accepted
    scan of each kind per step (the partial unique index), whatever a shard decides."""

    __tablename__ = "handoff_scans"
    __table_args__ = (Index("uq_handoff_scans_one_ok", "step_id", "kind", unique=True,
                            sqlite_where=text("outcome = 'ok'"), postgresql_where=text("outcome = 'ok'")),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    step_id: Mapped[uuid.UUID] = mapped_column(index=True)
    shipment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # handoff | package
    scanner_id: Mapped[uuid.UUID] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(12))  # ok | invalid | expired | replayed
    code: Mapped[str] = mapped_column(String(40))
    qr_id: Mapped[uuid.UUID | None] = mapped_column()
    lat: Mapped[float] = mapped_column()
    lon: Mapped[float] = mapped_column()
    distance_m: Mapped[int | None] = mapped_column()
    scanned_at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoffPhoto(IdMixin, Base):
    __tablename__ = "handoff_photos"
    step_id: Mapped[uuid.UUID] = mapped_column(index=True)
    shipment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column()
    uploaded_by: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
