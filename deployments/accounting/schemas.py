"""Accounting Service schemas: transfers (balanced sets of entries in integer minor units,
one currency each), balances, reconciliation and reports.

A transfer's `action`:
- `post`: single-phase; its entries are posted at once.
- `hold`: the first phase of a two-phase transfer; its entries are pending.
- `commit`: posts the pending transfer `pending_id` (all of it), once.
- `void`: cancels the pending transfer `pending_id`, once.

Other services build transfers with `TransferIn.move(...)` (two entries: from -> to) and
post them through the Accounting Service's `post` call; every money service names its
transfers by ids it derives from its own records (`transfer_id(...)`), so a retry of any
step finds the transfer it already made."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from deployments.accounting.accounts import AccountKind, Side
from deployments.kit import Schema
from p2p.money import Currency

Action = Literal["post", "hold", "commit", "void"]
TransferState = Literal["posted", "pending", "committed", "voided"]
MAX_AMOUNT_MINOR = 10**15  # fits a signed 64-bit column with room for sums
AmountMinor = Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR, description="Integer minor units, > 0")]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+(\.[a-z_]+)*$",
                            description="What the transfer is for: payment.capture, escrow.hold, manual, ...")]
_TRANSFER_NS = uuid.UUID("0b7d2c8e-3f4a-4d5b-8e9f-1a2b3c4d5e6f")


def transfer_id(*parts: object) -> uuid.UUID:
    """A deterministic transfer id from a service's own record: `transfer_id("escrow", entry.id, "release")`."""
    return uuid.uuid5(_TRANSFER_NS, ":".join(str(p) for p in parts))


class AccountRef(Schema):
    kind: AccountKind
    owner_id: uuid.UUID | None = Field(default=None, description="The booking (escrow) or user (payable, wallet)")


class EntryIn(AccountRef):
    side: Side
    amount_minor: AmountMinor


class TransferIn(Schema):
    id: uuid.UUID = Field(description="The client's transfer id: the same id with the same body is the same "
                                      "transfer; a refused id stays refused")
    action: Action = "post"
    currency: Currency | None = Field(default=None, description="Required for post and hold")
    entries: list[EntryIn] = Field(default=[], max_length=64, description="Required for post and hold; "
                                   "debits and credits must be equal")
    pending_id: uuid.UUID | None = Field(default=None, description="The pending transfer a commit or void resolves")
    reverses_id: uuid.UUID | None = Field(default=None, description="The posted transfer this one corrects; its "
                                          "entries must mirror that transfer's")
    code: Code = "manual"
    ref: str | None = Field(default=None, max_length=120, description="What it belongs to: booking:<id>, ...")
    memo: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _shape(self) -> "TransferIn":
        if self.action in ("post", "hold"):
            if self.currency is None or len(self.entries) < 2 or self.pending_id is not None:
                raise ValueError("post and hold need a currency and at least two entries, and no pending_id")
        elif self.pending_id is None or self.entries or self.reverses_id is not None:
            raise ValueError("commit and void name pending_id and carry no entries")
        return self

    @classmethod
    def move(cls, id: uuid.UUID, debit: AccountRef, credit: AccountRef, amount_minor: int, currency: str, *,
             code: str, ref: str | None = None, action: Action = "post", memo: str | None = None) -> "TransferIn":
        """A two-entry transfer: `debit` is debited and `credit` credited by `amount_minor`."""
        return cls(id=id, action=action, currency=currency, code=code, ref=ref, memo=memo, entries=[
            EntryIn(kind=debit.kind, owner_id=debit.owner_id, side="debit", amount_minor=amount_minor),
            EntryIn(kind=credit.kind, owner_id=credit.owner_id, side="credit", amount_minor=amount_minor)])

    @classmethod
    def resolve(cls, id: uuid.UUID, pending_id: uuid.UUID, *, commit: bool, code: str,
                ref: str | None = None) -> "TransferIn":
        """Commit (post) or void the pending transfer `pending_id`."""
        return cls(id=id, action="commit" if commit else "void", pending_id=pending_id, code=code, ref=ref)


class EntryOut(Schema):
    account: str = Field(description="kind, or kind:owner")
    kind: AccountKind
    owner_id: uuid.UUID | None
    side: Side
    amount_minor: int
    phase: Literal["pending", "posted", "resolved"]


class TransferOut(Schema):
    id: uuid.UUID
    action: Action
    state: TransferState = Field(description="posted (single-phase, or a commit/void itself), pending, or how a "
                                             "pending transfer was resolved: committed | voided")
    currency: str
    amount_minor: int = Field(description="Sum of the debits")
    pending_id: uuid.UUID | None = None
    reverses_id: uuid.UUID | None = None
    code: str
    ref: str | None = None
    memo: str | None = None
    entries: list[EntryOut]
    created_at: datetime
    result: Literal["created", "exists"] = "created"


class ManualEntries(Schema):
    """One manual journal entry (admin): a balanced transfer, or a commit/void/reversal."""
    transfers: list[TransferIn] = Field(min_length=1, max_length=100, description="Posted together: all or none")


class BalanceOut(Schema):
    account: str
    kind: AccountKind
    owner_id: uuid.UUID | None
    currency: str
    normal: Side
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    balance_minor: int = Field(description="Posted balance on the normal side (credits - debits for a credit account)")
    available_minor: int = Field(description="Posted balance less pending debits (credit accounts) or pending "
                                             "credits (debit accounts): what can still be moved")
    at: datetime | None = Field(default=None, description="The point in time, when one was asked for")


class LedgerClaim(Schema):
    """What a money service believes about one ledger transfer; reconcile checks each claim."""
    transfer_id: uuid.UUID
    state: TransferState
    amount_minor: int
    currency: str
    source: str = Field(description="payments, escrow or payouts")
    subject: str = Field(description="The record behind it: payment:<id>, escrow_entry:<id>, payout:<id>")


class Mismatch(Schema):
    check: str
    detail: str
    subject: str | None = None


class CurrencyTotals(Schema):
    currency: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int


class ReconcileOut(Schema):
    ok: bool
    transfers: int
    accounts: int
    claims: int
    totals: list[CurrencyTotals]
    mismatches: list[Mismatch]
    checked_at: datetime


class TrialBalanceLine(Schema):
    kind: AccountKind
    currency: str
    accounts: int
    debits_posted: int
    credits_posted: int
    balance_minor: int


class PeriodLine(Schema):
    period: str
    kind: AccountKind
    currency: str
    amount_minor: int


class ReportOut(Schema):
    period: Literal["day", "month"]
    start: datetime | None
    end: datetime | None
    trial_balance: list[TrialBalanceLine]
    revenue_and_fees: list[PeriodLine] = Field(description="Net posted amount per period on revenue and fee accounts")
    escrow_outstanding: list[CurrencyTotals] = Field(description="Money held in escrow accounts, per currency")
