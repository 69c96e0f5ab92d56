"""The Payout Service's events (notifications, invoices and tax reports follow them)."""
from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from p2p.events import DomainEvent
from p2p.vocab import PayoutStatus, UserId


class PayoutEvent(DomainEvent):
    payout_id: uuid.UUID
    user_id: UserId
    currency: str
    amount_minor: int
    status: PayoutStatus
    batch_id: uuid.UUID | None = None

    @classmethod
    def of(cls, p: Any, **extra: Any) -> Self:
        """The event for the payout row `p` as it is now."""
        return cls(payout_id=p.id, user_id=p.user_id, currency=p.currency, amount_minor=p.amount_minor,
                   status=p.status, batch_id=p.batch_id, **extra)


class PayoutCreated(PayoutEvent):
    """The money is held in the ledger for the payout (out of the payable balance)."""
    topic: ClassVar[str] = "payout.created"


class PayoutPaid(PayoutEvent):
    """The provider paid the destination; the ledger hold is committed."""
    topic: ClassVar[str] = "payout.paid"


class PayoutFailed(PayoutEvent):
    """The provider could not pay (`failure_code`); the hold is voided, the money is back in
    the payable account."""
    topic: ClassVar[str] = "payout.failed"
    failure_code: str
    failure_message: str | None = None


PAYOUT_EVENTS = (PayoutCreated, PayoutPaid, PayoutFailed)
