"""Tracking Service tables: custody_states (one per shipment: its public status, who holds
it, the next step and when it is due), tracking_events (append-only, numbered per
shipment) and delivery_proofs. The custody shards write them; the service reads them."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, IdMixin, utcnow


class CustodyState(Base):
    __tablename__ = "custody_states"
    shipment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(index=True)
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    holder_id: Mapped[uuid.UUID | None] = mapped_column()
    holder_role: Mapped[str] = mapped_column(String(16))
    next_seq: Mapped[int | None] = mapped_column()  # the next step to complete; None once closed
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    steps: Mapped[int] = mapped_column()
    code_hash: Mapped[str] = mapped_column(String(200))
    code_attempts: Mapped[int] = mapped_column(default=0)
    events: Mapped[int] = mapped_column(default=0)
    last_event_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)


class TrackingEvent(IdMixin, Base):
    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "seq"),)
    shipment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    place: Mapped[str | None] = mapped_column(String(96))
    lat: Mapped[float | None] = mapped_column()
    lon: Mapped[float | None] = mapped_column()
    holder_id: Mapped[uuid.UUID | None] = mapped_column()
    holder_role: Mapped[str | None] = mapped_column(String(16))
    step_id: Mapped[uuid.UUID | None] = mapped_column()
    proof_id: Mapped[uuid.UUID | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))  # custody | carrier | system | person
    raw: Mapped[dict] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryProof(IdMixin, Base):
    __tablename__ = "delivery_proofs"
    shipment_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    step_id: Mapped[uuid.UUID] = mapped_column()
    method: Mapped[str] = mapped_column(String(16))  # code | signature
    photo_sha256: Mapped[str] = mapped_column(String(64))
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[uuid.UUID] = mapped_column()
    lat: Mapped[float | None] = mapped_column()
    lon: Mapped[float | None] = mapped_column()
    delivered_at: Mapped[datetime] = mapped_column()
