"""Accounting Service (spec 10.25): the double-entry ledger under payments, escrow and payouts."""
from deployments.accounting.schemas import AccountRef, LedgerClaim, TransferIn, TransferOut, transfer_id
from deployments.accounting.service import SPEC, Accounting

__all__ = ["SPEC", "AccountRef", "Accounting", "LedgerClaim", "TransferIn", "TransferOut", "transfer_id"]
