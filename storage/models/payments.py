"""Payment Service tables.

The platform's side: payment_methods (provider tokens with brand, last4 and expiry, never a
card number), payments (Stripe-like payment intents; `active_booking_id` is the booking
while the intent is live or succeeded, NULL once it failed or was canceled, and UNIQUE, so
a booking has at most one live payment whatever the concurrency), payment_charges (one per
attempt the processor reported), payment_refunds (a conditional UPDATE of
`payments.refunded_minor` reserves each one; a CHECK keeps refunds within the capture),
payment_disputes and payment_webhooks (the ids of processed webhooks: exactly once).

The sandbox processor's own side (deployments/payments/sandbox.py, standing in for
Stripe's test mode): sandbox_cards (token, brand, last4, expiry and the test behaviour;
no card number), sandbox_intents, sandbox_refunds and sandbox_webhooks (its outgoing
queue, in order)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin, utcnow

PAYMENT_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action", "processing",
                    "succeeded", "failed", "canceled")


class PaymentMethod(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_methods"
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    provider: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column()
    exp_year: Mapped[int] = mapped_column()


class Payment(IdMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status IN ('" + "', '".join(PAYMENT_STATUSES) + "')", name="status_known"),
        CheckConstraint("captured_minor >= 0 AND fee_minor >= 0 AND refunded_minor >= 0 AND charged_back_minor >= 0",
                        name="sums_not_negative"),
        CheckConstraint("captured_minor <= amount_minor AND refunded_minor + charged_back_minor <= captured_minor",
                        name="refunds_within_capture"),
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(index=True)
    active_booking_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    payer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    method_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_methods.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    next_action_url: Mapped[str | None] = mapped_column(String(300))
    action_expires_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cancellation_reason: Mapped[str | None] = mapped_column(String(32))
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    charged_back_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    succeeded_at: Mapped[datetime | None] = mapped_column()
    canceled_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    refunds: Mapped[list[PaymentRefund]] = relationship(order_by="PaymentRefund.created_at", lazy="selectin",
                                                        viewonly=True)
    disputes: Mapped[list[PaymentDispute]] = relationship(order_by="PaymentDispute.created_at", lazy="selectin",
                                                          viewonly=True)


class PaymentCharge(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_charges"
    __table_args__ = (CheckConstraint("amount_minor > 0 AND fee_minor >= 0", name="amounts_valid"),
                      CheckConstraint("status IN ('succeeded', 'failed')", name="status_known"))
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    provider_ref: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    decline_code: Mapped[str | None] = mapped_column(String(40))


class PaymentRefund(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_refunds"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),
                      CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"))
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    provider_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    ledger_transfer_id: Mapped[uuid.UUID | None] = mapped_column()
    requested_by: Mapped[uuid.UUID | None] = mapped_column()
    failure_code: Mapped[str | None] = mapped_column(String(60))


class PaymentDispute(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_disputes"
    __table_args__ = (CheckConstraint("amount_minor > 0 AND fee_minor >= 0", name="amounts_valid"),
                      CheckConstraint("status IN ('needs_response', 'under_review', 'won', 'lost')",
                                      name="status_known"))
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    provider_ref: Mapped[str] = mapped_column(String(64), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column()


class PaymentWebhook(Base):
    """A processed incoming webhook, by its `webhook-id`: written in the transaction of its effect."""
    __tablename__ = "payment_webhooks"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(60))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- the sandbox processor's own tables -----------------------------------------------------
class SandboxCard(Base):
    __tablename__ = "sandbox_cards"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column()
    exp_year: Mapped[int] = mapped_column()
    behaviour: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxIntent(Base):
    __tablename__ = "sandbox_intents"
    __table_args__ = (CheckConstraint("amount_minor > 0 AND refunded_minor >= 0 AND refunded_minor <= amount_minor",
                                      name="amounts_valid"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    card_token: Mapped[str] = mapped_column(ForeignKey("sandbox_cards.token"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))
    behaviour: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    return_url: Mapped[str] = mapped_column(String(300))
    charge_id: Mapped[str | None] = mapped_column(String(64))
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    dispute_id: Mapped[str | None] = mapped_column(String(64))
    dispute_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("sandbox_intents.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxWebhook(Base):
    """The sandbox's outgoing queue: delivered in `seq` order per intent, with retries."""
    __tablename__ = "sandbox_webhooks"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    intent_id: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)
    dead_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
