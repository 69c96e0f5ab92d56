"""What the Payment Service needs of a card processor: a Protocol a real one (Stripe) could
implement as well as the sandbox does (sandbox.py).

The processor holds the card; the platform holds a token for it (brand, last4, expiry).
Confirming an intent answers at once whether the card needs 3-D Secure (a URL to send the
payer to) or was declined (a decline code); everything that moves money (a success, a
failure after 3-D Secure, a dispute and its outcome, a refund settling) arrives later as a
signed webhook (Standard Webhooks, webhooks.py) at `POST /payments/webhooks/<provider>`.
Every call is idempotent by the platform's reference, so a retry after a crash finds the
intent or refund it made.

Webhook events (Stripe's names and shapes, trimmed): `{"id", "type", "created", "data":
{"object": {...}}}` with types payment_intent.succeeded | payment_intent.payment_failed |
payment_intent.canceled (object: a payment intent with `metadata.payment_id`,
`latest_charge` {id, amount, fee}, `last_payment_error` {code, decline_code, message}),
charge.dispute.created | charge.dispute.updated | charge.dispute.closed (object: a dispute
with `payment_intent`, amount, fee, reason, status) and refund.created (object: a refund
with `metadata.refund_key`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class CardInfo:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class Confirmation:
    """The immediate answer to confirming an intent."""
    status: Literal["processing", "requires_action", "declined"]
    intent_ref: str
    next_action_url: str | None = None
    charge_ref: str | None = None
    code: str | None = None           # on a decline: card_declined, expired_card, processing_error, ...
    decline_code: str | None = None   # generic_decline, insufficient_funds, stolen_card, fraudulent, ...
    message: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_ref: str
    status: Literal["pending", "succeeded", "failed"]


class Provider(Protocol):
    name: str

    async def card(self, token: str) -> CardInfo | None:
        """The card a token stands for, or None if the processor does not know it."""
        ...

    async def confirm(self, *, reference: str, token: str, amount_minor: int, currency: str,
                      return_url: str) -> Confirmation:
        """Charge `amount_minor` on the token's card for the platform's payment `reference`
        (idempotent by it); `return_url` is where 3-D Secure sends the payer back."""
        ...

    async def cancel(self, intent_ref: str) -> bool:
        """Cancel an intent that has not moved money; False if it already did (or is doing so)."""
        ...

    async def refund(self, *, intent_ref: str, amount_minor: int, key: str) -> RefundResult:
        """Refund part or all of the intent's charge, idempotent by `key`."""
        ...


# -- incoming webhook payloads --------------------------------------------------------------
Ref = Annotated[str, Field(min_length=1, max_length=64)]
Minor = Annotated[int, Field(ge=0, le=10**15)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ChargeObj(_Loose):
    id: Ref
    amount: Minor
    fee: Minor = 0


class ErrorObj(_Loose):
    code: Annotated[str, Field(min_length=1, max_length=60)]
    decline_code: Annotated[str, Field(max_length=40)] | None = None
    message: Annotated[str, Field(max_length=500)] | None = None


class IntentObj(_Loose):
    id: Ref
    amount: Minor
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    status: str
    metadata: dict[str, str]
    latest_charge: ChargeObj | None = None
    last_payment_error: ErrorObj | None = None
    cancellation_reason: Annotated[str, Field(max_length=32)] | None = None


class DisputeObj(_Loose):
    id: Ref
    payment_intent: Ref
    amount: Minor
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    fee: Minor = 0
    reason: Annotated[str, Field(min_length=1, max_length=40)]
    status: Literal["needs_response", "under_review", "won", "lost"]
    metadata: dict[str, str]


class RefundObj(_Loose):
    id: Ref
    payment_intent: Ref
    amount: Minor
    status: str
    metadata: dict[str, str]


class Event(_Loose):
    id: Annotated[str, Field(min_length=1, max_length=100)]
    type: Annotated[str, Field(min_length=1, max_length=60)]
    created: int
    data: dict
