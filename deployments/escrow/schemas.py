"""Escrow Service schemas."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from deployments.kit import Schema
from p2p.vocab import EscrowEntryStatus, EscrowStatus


class EscrowCreate(Schema):
    payment_id: uuid.UUID = Field(description="A succeeded payment; its escrow opens once (the payment's "
                                              "success opens it too, so this only makes sure)")


class HoldIn(Schema):
    reason: str = Field(min_length=3, max_length=200, description="Why the money is frozen")


class ReleaseIn(Schema):
    reason: str | None = Field(default=None, max_length=200)


class RefundIn(Schema):
    reason: Literal["user_request", "no_show", "compliance", "other"] = "other"


class EntryOut(Schema):
    id: uuid.UUID
    seq: int
    kind: Literal["carrier", "platform_fee", "tax"]
    beneficiary_id: uuid.UUID | None
    leg_seq: int | None
    amount_minor: int
    status: EscrowEntryStatus
    hold_transfer_id: uuid.UUID
    resolve_transfer_id: uuid.UUID | None
    resolved_at: datetime | None


class EscrowOut(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    payment_id: uuid.UUID
    payer_id: uuid.UUID
    currency: str
    amount_minor: int
    status: EscrowStatus
    held_by: str | None
    hold_reason: str | None
    delivered_at: datetime | None
    released_at: datetime | None
    refunded_at: datetime | None
    refund_reason: str | None
    refunded_minor: int
    chargeback_minor: int
    entries: list[EntryOut]
    version: int
    created_at: datetime
