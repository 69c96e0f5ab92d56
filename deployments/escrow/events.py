"""The Escrow Service's events (Payouts, notifications and invoices follow them)."""
from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from pydantic import BaseModel

from p2p.events import DomainEvent
from p2p.vocab import EscrowStatus


class Part(BaseModel):
    beneficiary_id: uuid.UUID | None
    kind: str
    amount_minor: int


class EscrowEvent(DomainEvent):
    escrow_id: uuid.UUID
    booking_id: uuid.UUID
    payment_id: uuid.UUID
    currency: str
    amount_minor: int
    status: EscrowStatus

    @classmethod
    def of(cls, e: Any, **extra: Any) -> Self:
        return cls(escrow_id=e.id, booking_id=e.booking_id, payment_id=e.payment_id, currency=e.currency,
                   amount_minor=e.amount_minor, status=e.status, **extra)


class EscrowHeld(EscrowEvent):
    """The payment's money is held for its beneficiaries."""
    topic: ClassVar[str] = "escrow.held"


class EscrowReleased(EscrowEvent):
    """Each beneficiary's part moved to their payable account (the platform's to revenue)."""
    topic: ClassVar[str] = "escrow.released"
    parts: list[Part]


class EscrowRefunded(EscrowEvent):
    """The holds were voided and the money went back (`reason`), or a lost dispute took it."""
    topic: ClassVar[str] = "escrow.refunded"
    reason: str
    refunded_minor: int
    chargeback_minor: int


class EscrowDisputed(EscrowEvent):
    """Frozen: no release until the dispute or hold is resolved."""
    topic: ClassVar[str] = "escrow.disputed"
    held_by: str


ESCROW_EVENTS = (EscrowHeld, EscrowReleased, EscrowRefunded, EscrowDisputed)
