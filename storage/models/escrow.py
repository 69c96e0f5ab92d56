"""Escrow Service tables: escrows (one per paid booking: what the payment put in the
booking's escrow account and where it stands) and escrow_entries (one per beneficiary's
part: each traveler and courier for their leg, the platform for its fee; each held in the
ledger as a pending transfer from the escrow account, posted on release or voided on a
refund). Ids are derived from the payment, so a redelivered event finds the same rows."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, TimestampMixin


class Escrow(TimestampMixin, Base):
    __tablename__ = "escrows"
    __table_args__ = (
        CheckConstraint("amount_minor > 0 AND refunded_minor >= 0 AND chargeback_minor >= 0", name="amounts_valid"),
        CheckConstraint("status IN ('held', 'disputed', 'released', 'refunded')", name="status_known"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    payer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="held", index=True)
    held_by: Mapped[str | None] = mapped_column(String(60), doc="Why it is frozen: a dispute id or hold:<user>")
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()
    refunded_at: Mapped[datetime | None] = mapped_column()
    refund_reason: Mapped[str | None] = mapped_column(String(40))
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_id: Mapped[uuid.UUID | None] = mapped_column()
    chargeback_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    chargeback_transfer_id: Mapped[uuid.UUID | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    entries: Mapped[list[EscrowEntry]] = relationship(order_by="EscrowEntry.seq", lazy="selectin",
                                                      cascade="all, delete-orphan")


class EscrowEntry(Base):
    __tablename__ = "escrow_entries"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status IN ('held', 'disputed', 'released', 'refunded')", name="status_known"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    escrow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escrows.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    leg_seq: Mapped[int | None] = mapped_column()
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="held")
    hold_transfer_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    resolve_transfer_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    resolved_at: Mapped[datetime | None] = mapped_column()
