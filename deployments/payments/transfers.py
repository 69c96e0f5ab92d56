"""What the Payment Service's modules share: its states, the ledger accounts and transfers
of a payment (the capture into the booking's escrow and the processor's fee), and the ids
that stay the same on every redelivery."""
from __future__ import annotations

import logging
import uuid
from typing import Any, Awaitable, Callable

from deployments.accounting import AccountRef, TransferIn, transfer_id
from deployments.payments.provider import Event

log = logging.getLogger("p2p.payments")
PAYABLE = ("pending", "confirmed")
LIVE = ("requires_confirmation", "requires_action", "processing")  # not finished, money not moved yet
OPEN_DISPUTE = ("needs_response", "under_review")
_NS = uuid.UUID("7d0f5a3e-2b64-4c8e-9f1d-5e6a7b8c9d0e")
LOOP_LOCK = "payments:sandbox:deliverer"
Handler = Callable[[str, Event], Awaitable[bool]]


def dispute_uuid(provider_ref: str) -> uuid.UUID:
    """The platform's id of a processor's dispute: the same on every redelivery."""
    return uuid.uuid5(_NS, f"dispute:{provider_ref}")


def escrow_of(p: Any) -> AccountRef:
    return AccountRef(kind="escrow", owner_id=p.booking_id)


CLEARING = AccountRef(kind="processor_clearing")


def capture_transfers(p: Any, fee_minor: int) -> list[TransferIn]:
    """The capture into the booking's escrow account and the processor's fee on it."""
    ref = f"payment:{p.id}"
    out = [TransferIn.move(transfer_id("payment", p.id, "capture"), debit=CLEARING, credit=escrow_of(p),
                           amount_minor=p.amount_minor, currency=p.currency, code="payment.capture", ref=ref)]
    if fee_minor:
        out.append(TransferIn.move(transfer_id("payment", p.id, "fee"), debit=AccountRef(kind="processor_fees"),
                                   credit=CLEARING, amount_minor=fee_minor, currency=p.currency,
                                   code="payment.processor_fee", ref=ref))
    return out

