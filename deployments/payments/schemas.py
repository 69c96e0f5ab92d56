"""Payment Service schemas: card tokens (sandbox), payment methods, payments (Stripe-like
payment intents), refunds, disputes and webhook acknowledgements. Money is integer minor
units of `currency` (ISO 4217)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from deployments.accounting.schemas import MAX_AMOUNT_MINOR
from deployments.kit import Schema
from p2p.vocab import BookingId, DisputeStatus, PaymentStatus, UserId

IntentRef = Annotated[str, Field(pattern=r"^pi_sbx_[0-9a-f]{24}$", description="The sandbox's payment intent id")]
RefundReason = Literal["requested_by_customer", "duplicate", "fraudulent", "service_not_provided", "other"]


class TokenCreate(Schema):
    """Card details, for the sandbox's tokenization endpoint only (Stripe.js's job)."""
    number: str = Field(min_length=12, max_length=23, pattern=r"^[0-9 ]+$", description="Card number (test cards)")
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(min_length=3, max_length=4, pattern=r"^[0-9]+$")


class CardOut(Schema):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class TokenOut(Schema):
    id: str = Field(description="The card token: store it with POST /payments/methods")
    object: Literal["token"] = "token"
    card: CardOut
    livemode: bool = False


class MethodCreate(Schema):
    token: str = Field(pattern=r"^tok_[0-9a-f]{24}$", description="A token from the processor's tokenization")


class MethodOut(Schema):
    id: uuid.UUID
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    created_at: datetime


class PaymentCreate(Schema):
    booking_id: BookingId
    payment_method_id: uuid.UUID


class PartOut(Schema):
    kind: Literal["carrier", "platform_fee", "tax"]
    beneficiary_id: UserId | None = None
    leg_seq: int | None = None
    amount_minor: int


class NextAction(Schema):
    type: Literal["redirect_to_url"] = "redirect_to_url"
    url: str
    expires_at: datetime | None = None


class LastError(Schema):
    code: str
    decline_code: str | None = None
    message: str | None = None


class RefundIn(Schema):
    amount_minor: int | None = Field(default=None, gt=0, le=MAX_AMOUNT_MINOR,
                                     description="Default: everything not refunded yet")
    reason: RefundReason = "requested_by_customer"


class RefundOut(Schema):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount_minor: int
    currency: str
    reason: str
    status: Literal["pending", "succeeded", "failed"]
    failure_code: str | None = None
    created_at: datetime


class DisputeOut(Schema):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount_minor: int
    currency: str
    reason: str
    status: DisputeStatus
    fee_minor: int
    created_at: datetime
    closed_at: datetime | None = None


class PaymentOut(Schema):
    """A payment intent: requires_confirmation -> (requires_action for 3-D Secure) ->
    processing -> succeeded; a decline returns it to requires_payment_method with
    `last_error`; canceled (abandoned 3-D Secure, ...)."""
    id: uuid.UUID
    booking_id: BookingId
    payer_id: UserId
    payment_method_id: uuid.UUID
    amount_minor: int
    currency: str
    status: PaymentStatus
    parts: list[PartOut]
    next_action: NextAction | None = None
    last_error: LastError | None = None
    cancellation_reason: str | None = None
    captured_minor: int
    fee_minor: int = Field(description="The processor's fee on the charge")
    refunded_minor: int
    charged_back_minor: int = Field(description="Taken back by lost disputes")
    refunds: list[RefundOut] = []
    disputes: list[DisputeOut] = []
    succeeded_at: datetime | None = None
    canceled_at: datetime | None = None
    version: int
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, v: Any) -> Any:
        if isinstance(v, dict) or not hasattr(v, "method_id"):
            return v
        action = None
        if v.status == "requires_action" and v.next_action_url:
            action = {"url": v.next_action_url, "expires_at": v.action_expires_at}
        fields = ("id", "booking_id", "payer_id", "amount_minor", "currency", "status", "parts", "last_error",
                  "cancellation_reason", "captured_minor", "fee_minor", "refunded_minor", "charged_back_minor",
                  "refunds", "disputes", "succeeded_at", "canceled_at", "version", "created_at", "updated_at")
        return {**{f: getattr(v, f) for f in fields}, "payment_method_id": v.method_id, "next_action": action}


class ThreeDSIn(Schema):
    outcome: Literal["complete", "fail"]


class ThreeDSOut(Schema):
    intent_id: str
    status: str
    return_url: str


class WebhookAck(Schema):
    received: bool = True
    duplicate: bool = False
    ignored: bool = False
