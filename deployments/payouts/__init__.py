"""Payout Service (spec 9.21): payouts out of payable balances through a payout provider."""
from deployments.payouts.events import PayoutCreated, PayoutFailed, PayoutPaid
from deployments.payouts.service import SPEC, Payouts

__all__ = ["SPEC", "PayoutCreated", "PayoutFailed", "PayoutPaid", "Payouts"]
