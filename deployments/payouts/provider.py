"""What the Payout Service needs of a payout provider: submit a payout to a destination, and
ask where it stands. Stripe Connect payouts (`POST /v1/payouts` with an Idempotency-Key,
`GET /v1/payouts/{id}`), Wise transfers (`customerTransactionId`, transfer status) or a bank's
API fit behind it; `sandbox.py` is the one the platform ships.

The contract:
- `submit` is idempotent by `reference` (the payout's id): submitting the same reference
  again answers the provider's payout already made, never a second one.
- `submit` raises `PayoutRejected` when the provider refuses the payout for good (the
  money goes back to the payable account) and `ProviderUnavailable` when it could not be
  reached (nothing is known; submit again later with the same reference).
- `status` answers the provider's payout as it is now: pending -> in_transit -> paid, or
  failed (with a failure code) / canceled.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from p2p.vocab import PayoutStatus


@dataclass(frozen=True)
class PayoutOrder:
    """One payout as the provider is asked for it: integer minor units of `currency`."""
    reference: uuid.UUID
    amount_minor: int
    currency: str
    destination: str


@dataclass(frozen=True)
class ProviderPayout:
    """The provider's payout as it answers it."""
    provider_ref: str
    status: PayoutStatus
    failure_code: str | None = None
    failure_message: str | None = None


class PayoutRejected(Exception):
    """The provider refused the payout for good (`failure_code` says why)."""

    def __init__(self, failure_code: str, message: str):
        super().__init__(message)
        self.failure_code, self.message = failure_code, message


class PayoutProvider(Protocol):
    name: str

    def accepts(self, destination: str) -> bool:
        """A cheap local check that `destination` names something this provider pays to."""
        ...

    async def submit(self, order: PayoutOrder) -> ProviderPayout: ...

    async def status(self, provider_ref: str) -> ProviderPayout: ...
