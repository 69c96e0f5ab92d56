"""Payout Service schemas: a payout asked for, a batch run asked for, and what both answer.
Amounts are strict integers of minor units (a JSON `10.5` or `"100"` is refused)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from deployments.accounting.schemas import MAX_AMOUNT_MINOR
from deployments.kit import Schema
from p2p.money import Currency
from p2p.vocab import PayoutStatus, UserId

Amount = Annotated[int, Field(strict=True, gt=0, le=MAX_AMOUNT_MINOR, description="Integer minor units, > 0")]
Destination = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_]+$",
                                   description="The provider's token for a bank account or card, "
                                               "e.g. ba_sandbox_ok")]
SkipReason = Literal["below_minimum", "no_destination", "invalid_destination", "exceeds_balance", "batch_limit"]


class PayoutCreate(Schema):
    currency: Currency
    amount_minor: Amount | None = Field(default=None, description="Default: the whole available balance")
    destination: Destination


class PayoutOut(Schema):
    id: uuid.UUID
    user_id: UserId
    currency: str
    amount_minor: int
    destination: str
    status: PayoutStatus
    provider: str
    provider_ref: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    batch_id: uuid.UUID | None = None
    hold_transfer_id: uuid.UUID
    resolve_transfer_id: uuid.UUID | None = None
    held_at: datetime | None = None
    submitted_at: datetime | None = None
    settled_at: datetime | None = None
    version: int
    created_at: datetime


class BatchCreate(Schema):
    currency: Currency | None = Field(default=None, description="Only payable accounts in this currency")
    user_ids: list[UserId] | None = Field(default=None, max_length=1000, description="Only these users")
    destinations: dict[UserId, Destination] = Field(default={}, max_length=1000, description="Where to pay "
                                                    "each user; default the destination of their last payout")
    limit: int = Field(default=500, ge=1, le=1000, description="At most this many payouts created, and this "
                                                               "many submitted and polled")


class BatchSkip(Schema):
    user_id: UserId
    currency: str
    reason: SkipReason
    available_minor: int


class BatchOut(Schema):
    """What one batch run did: payouts created (one per payable account and currency with at
    least the minimum available), pending ones submitted, in_transit ones polled."""
    id: uuid.UUID
    currency: str | None
    created: int
    submitted: int
    paid: int
    failed: int
    in_transit: int = Field(description="Polled and still in transit")
    payout_ids: list[uuid.UUID] = Field(description="The payouts this batch created")
    skipped: list[BatchSkip]
    created_at: datetime
