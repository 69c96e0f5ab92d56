"""Payout Service tables: payouts (one per attempt to pay a traveler or courier out of their
payable account: the ledger hold it placed, where the provider has it, how it ended),
payout_batches (what each finance batch run did) and sandbox_payouts (the sandbox
provider's own record of what it was asked to pay, as a real provider keeps on its side)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, TimestampMixin

STATUSES = "('pending', 'in_transit', 'paid', 'failed', 'canceled')"


class Payout(TimestampMixin, Base):
    __tablename__ = "payouts"
    __table_args__ = (
        Index("ix_payouts_user_time", "user_id", "created_at"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    destination: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    hold_transfer_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    resolve_transfer_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    held_at: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    settled_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)


class PayoutBatch(TimestampMixin, Base):
    __tablename__ = "payout_batches"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    requested_by: Mapped[uuid.UUID] = mapped_column(index=True)
    currency: Mapped[str | None] = mapped_column(String(3))
    created: Mapped[int] = mapped_column(default=0)
    submitted: Mapped[int] = mapped_column(default=0)
    paid: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class SandboxPayout(TimestampMixin, Base):
    __tablename__ = "sandbox_payouts"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[uuid.UUID] = mapped_column(unique=True, doc="The client's id for the payout (idempotency)")
    destination: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    failure_code: Mapped[str | None] = mapped_column(String(40))
