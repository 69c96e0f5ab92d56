"""Accounting Service tables: ledger_accounts (balances kept in four columns, TigerBeetle
style, with the flags as CHECK constraints the database enforces whatever the code does),
ledger_transfers (one per client transfer id; a pending transfer resolves at most once, by
a UNIQUE pending_id), ledger_entries (the immutable, balanced debit and credit lines of each
transfer) and ledger_failures (refused transfer ids, burned so a retry never flips)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, utcnow


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_id", "currency"),
        CheckConstraint("debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
                        "AND credits_posted >= 0", name="amounts_not_negative"),
        CheckConstraint("NOT debits_must_not_exceed_credits OR debits_pending + debits_posted <= credits_posted",
                        name="debits_within_credits"),
        CheckConstraint("NOT credits_must_not_exceed_debits OR credits_pending + credits_posted <= debits_posted",
                        name="credits_within_debits"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3))
    normal: Mapped[str] = mapped_column(String(6))
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(default=False)
    credits_must_not_exceed_debits: Mapped[bool] = mapped_column(default=False)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerTransfer(Base):
    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("action IN ('post', 'hold', 'commit', 'void')", name="action_known"),
        CheckConstraint("state IN ('posted', 'pending', 'committed', 'voided')", name="state_known"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    pending_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_transfers.id"), unique=True)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_transfers.id"), unique=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    ref: Mapped[str | None] = mapped_column(String(120), index=True)
    memo: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("transfer_id", "seq"),
        Index("ix_ledger_entries_account_time", "account_id", "created_at"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("side IN ('debit', 'credit')", name="side_known"),
        CheckConstraint("phase IN ('pending', 'posted', 'resolved')", name="phase_known"),
    )
    # BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY is the rowid.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_transfers.id"))
    seq: Mapped[int] = mapped_column()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    side: Mapped[str] = mapped_column(String(6))
    phase: Mapped[str] = mapped_column(String(8))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerFailure(Base):
    __tablename__ = "ledger_failures"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
