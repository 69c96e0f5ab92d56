"""Helpers and fixtures for the money tests (payouts): money on a payable account (as the
Escrow Service's release puts it there), payout bodies, and what the ledger and the outbox
say about a payout."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.factories.identity import user_with


def seed_payable(call, platform, user_id, amount_minor: int = 10_000, currency: str = "EUR") -> None:
    """Credit `payable:<user>` directly in the ledger (from processor_clearing)."""
    from deployments.accounting import AccountRef, TransferIn  # the ledger contract, imported when used

    call(platform.runtime.services["accounting"].post, [TransferIn.move(
        uuid.uuid4(), AccountRef(kind="processor_clearing"), AccountRef(kind="payable", owner_id=uuid.UUID(
            str(user_id))), amount_minor, currency, code="test.seed")])


def payable(call, platform, user_id, currency: str = "EUR"):
    """The user's payable balance (BalanceOut): `balance_minor` posted, `available_minor`."""
    return call(platform.runtime.services["accounting"].balance, "payable", uuid.UUID(str(user_id)), currency)


def transfers(call, platform, *ids) -> dict:
    """The ledger transfers among `ids` that exist, by id (as strings)."""
    found = call(platform.runtime.services["accounting"].transfers, [uuid.UUID(str(i)) for i in ids])
    return {str(t.id): t for t in found}


def payout_body(**kw) -> dict:
    return {"currency": "EUR", "destination": "ba_sandbox_ok", **kw}


def create_payout(client, headers, **kw) -> dict:
    r = client.post("/payouts", json=payout_body(**kw), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def events_of(call, platform, payout_id) -> list[str]:
    """The topics the outbox holds for the payout, in order."""
    from storage.models.events import OutboxEvent  # a test reads the outbox directly

    svc = platform.runtime.services["payouts"]

    async def read():
        async with svc.uow(read=True) as uow:
            return await uow.all(select(OutboxEvent.topic).where(OutboxEvent.entity_id == str(payout_id))
                                 .order_by(OutboxEvent.occurred_at))
    return call(read)


@pytest.fixture()
def earner(client, call, platform):
    """A traveler with EUR 100.00 on their payable account: (user, headers)."""
    user, headers = user_with(client, call, platform, "traveler")
    seed_payable(call, platform, user["id"])
    return user, headers


@pytest.fixture()
def finance(client, call, platform):
    """A finance user: (user, headers)."""
    return user_with(client, call, platform, "finance")
