"""The chart of accounts: every kind of ledger account, its normal side and its flags
(TigerBeetle's `debits_must_not_exceed_credits` and its mirror), and the one rule that maps
(kind, owner, currency) to an account id, so a caller names an account without a lookup and
the ledger opens it on first use."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Side = Literal["debit", "credit"]
AccountKind = Literal[
    "processor_clearing", "processor_fees", "dispute_fees", "dispute_losses",
    "escrow", "payable", "wallet", "revenue", "tax_payable", "fx", "equity",
]
_NAMESPACE = uuid.UUID("6f1c3a52-95a4-4c1e-9c61-5d0a1e6a0b10")


@dataclass(frozen=True)
class Kind:
    description: str
    normal: Side
    owned_by: Literal["platform", "user", "booking"] = "platform"
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False


CHART: dict[str, Kind] = {
    "processor_clearing": Kind("Money the card processor holds for the platform (asset)", "debit"),
    "processor_fees": Kind("Fees the card processor kept (expense)", "debit"),
    "dispute_fees": Kind("Fees for chargebacks (expense)", "debit"),
    "dispute_losses": Kind("Chargebacks lost after the money was released (expense)", "debit"),
    "escrow": Kind("A booking's money held until delivery (liability)", "credit", "booking",
                   debits_must_not_exceed_credits=True),
    "payable": Kind("What the platform owes a traveler or courier, paid out on request (liability)", "credit",
                    "user", debits_must_not_exceed_credits=True),
    "wallet": Kind("A user's stored balance (liability)", "credit", "user", debits_must_not_exceed_credits=True),
    "revenue": Kind("Platform fees earned (income)", "credit"),
    "tax_payable": Kind("Tax collected, owed to tax authorities (liability)", "credit"),
    "fx": Kind("Currency conversion; one per currency, paired across a conversion", "credit"),
    "equity": Kind("Owners' funds and manual adjustments", "credit"),
}
KINDS: tuple[str, ...] = tuple(CHART)


def account_id(kind: str, owner_id: uuid.UUID | None, currency: str) -> uuid.UUID:
    """The id of the account (kind, owner, currency): the same everywhere, forever."""
    return uuid.uuid5(_NAMESPACE, f"{kind}:{owner_id or ''}:{currency.upper()}")


def account_key(kind: str, owner_id: uuid.UUID | None) -> str:
    """How an account is named on the wire: `revenue`, `escrow:<booking id>`, `payable:<user id>`."""
    return f"{kind}:{owner_id}" if owner_id else kind


def parse_key(key: str) -> tuple[str, uuid.UUID | None]:
    """`payable:<uuid>` -> ("payable", uuid); raises ValueError for an unknown kind, a
    missing or unexpected owner."""
    kind, _, owner = key.partition(":")
    if kind not in CHART:
        raise ValueError(f"unknown account kind {kind!r}; known: {', '.join(KINDS)}")
    owned = CHART[kind].owned_by != "platform"
    if owned and not owner:
        raise ValueError(f"a {kind} account names its owner: {kind}:<uuid>")
    if not owned and owner:
        raise ValueError(f"the {kind} account is the platform's; it names no owner")
    return kind, (uuid.UUID(owner) if owner else None)
