"""Payout Service errors."""
from __future__ import annotations

from p2p.errors import Conflict, NotFound, Unavailable, Unprocessable


class PayoutNotFound(NotFound):
    """No such payout, or one the caller may not see (also another user's payout list)."""
    code = "payout.not_found"


class ExceedsBalance(Conflict):
    """The payout is above what the payable account can still pay out (`available_minor`)."""
    code = "payout.exceeds_balance"


class BalanceBelowMinimum(Conflict):
    """A payout of the whole balance was asked for, and what is available is below the minimum."""
    code = "payout.balance_below_minimum"


class BelowMinimum(Unprocessable):
    """The amount asked for is below the smallest payout (`payout_min_minor`)."""
    code = "payout.below_minimum"


class InvalidDestination(Unprocessable):
    """The provider pays to no such destination (see the sandbox's destinations)."""
    code = "payout.invalid_destination"


class ProviderUnavailable(Unavailable):
    """The payout provider did not answer; the payout stays as it was and is retried."""
    code = "payout.provider_unavailable"
