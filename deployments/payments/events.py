"""The Payment Service's events. The Escrow Service follows them: a succeeded payment opens
the booking's escrow with the parts it was charged for; a dispute freezes it; a lost
dispute takes the money back."""
from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import BaseModel

from p2p.events import DomainEvent
from p2p.vocab import PaymentStatus


class ChargedPart(BaseModel):
    """One part of what the payment charged, as the booking's price named it."""
    kind: Literal["carrier", "platform_fee", "tax"]
    beneficiary_id: uuid.UUID | None = None
    leg_seq: int | None = None
    amount_minor: int


class PaymentEvent(DomainEvent):
    payment_id: uuid.UUID
    booking_id: uuid.UUID
    payer_id: uuid.UUID
    amount_minor: int
    currency: str
    status: PaymentStatus


class PaymentSucceeded(PaymentEvent):
    """Captured: the amount is in the booking's escrow account (ledger transfer
    `payment.capture`); `parts` say whom it pays."""
    topic: ClassVar[str] = "payment.succeeded"
    parts: list[ChargedPart]


class PaymentFailed(PaymentEvent):
    """An attempt was declined (`reason`: the processor's decline code)."""
    topic: ClassVar[str] = "payment.failed"
    reason: str


class PaymentCanceled(PaymentEvent):
    """The intent ended without money moving (`reason`: abandoned, requested_by_customer, ...)."""
    topic: ClassVar[str] = "payment.canceled"
    reason: str


class PaymentRefunded(PaymentEvent):
    """`refund_minor` went back to the payer; `refunded_minor` is the total refunded so far."""
    topic: ClassVar[str] = "payment.refunded"
    refund_id: uuid.UUID
    refund_minor: int
    refunded_minor: int


class PaymentDisputed(PaymentEvent):
    """The payer's bank opened a dispute (chargeback) on the payment."""
    topic: ClassVar[str] = "payment.disputed"
    dispute_id: uuid.UUID
    dispute_minor: int


class PaymentDisputeClosed(PaymentEvent):
    """The dispute ended: `won` leaves the money with the platform, `lost` means the
    processor took `dispute_minor` back."""
    topic: ClassVar[str] = "payment.dispute_closed"
    dispute_id: uuid.UUID
    dispute_minor: int
    outcome: Literal["won", "lost"]


PAYMENT_EVENTS = (PaymentSucceeded, PaymentFailed, PaymentCanceled, PaymentRefunded, PaymentDisputed,
                  PaymentDisputeClosed)
