"""Helpers for the money tests: ledger transfers, balances and reconciliation."""
from __future__ import annotations

import uuid

from tests.factories.identity import user_with


def ledger(platform):
    return platform.runtime.services["accounting"]


def move(debit: str, credit: str, amount: int, currency: str = "EUR", *, action: str = "post",
         code: str = "manual", id: str | None = None) -> dict:
    """A two-entry transfer body: `debit` and `credit` are account keys (`revenue`, `payable:<id>`)."""
    def entry(key: str, side: str) -> dict:
        kind, _, owner = key.partition(":")
        return {"kind": kind, "owner_id": owner or None, "side": side, "amount_minor": amount}

    return {"id": id or str(uuid.uuid4()), "action": action, "currency": currency, "code": code,
            "entries": [entry(debit, "debit"), entry(credit, "credit")]}


def admin(client, call, platform) -> dict:
    return user_with(client, call, platform, "admin")[1]


def finance(client, call, platform) -> dict:
    return user_with(client, call, platform, "finance")[1]


def balance(client, headers, account: str, currency: str = "EUR", **params) -> dict:
    r = client.get("/accounting/balance", params={"account": account, "currency": currency, **params},
                   headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def reconciled(client, headers) -> dict:
    """Reconcile and assert the books hold (showing each mismatch when they don't)."""
    r = client.post("/accounting/reconcile", headers=headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["ok"], out["mismatches"]
    return out
