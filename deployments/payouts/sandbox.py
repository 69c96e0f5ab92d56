"""The sandbox payout provider: answers by destination, the same way every time, like a
provider's test bank accounts. It keeps what it was asked in its own table
(sandbox_payouts), as a real provider keeps its payouts on its side.

A submitted payout is `in_transit`; it settles on the first status poll after submission:

| destination                          | outcome                                                 |
|--------------------------------------|---------------------------------------------------------|
| `ba_sandbox_ok`                      | paid                                                    |
| `ba_sandbox_in_transit`              | stays in_transit (as a real payout does for days)       |
| `ba_sandbox_fail_account_closed`     | failed: `account_closed`                                |
| `ba_sandbox_fail_insufficient_funds` | failed: `insufficient_funds` (the platform's balance)   |
| `ba_sandbox_fail_no_account`         | failed: `no_account`                                    |
| `ba_sandbox_reject`                  | refused at submission: `could_not_process`              |

Any other destination is not one the sandbox pays to (`accepts` is false). The failure
codes are Stripe's payout failure codes.
"""
from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any, Callable

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from deployments.payouts.provider import PayoutOrder, PayoutRejected, ProviderPayout
from storage.models.payouts import SandboxPayout

PAID = "ba_sandbox_ok"
IN_TRANSIT = "ba_sandbox_in_transit"
REJECT = "ba_sandbox_reject"
FAILURES = {
    "ba_sandbox_fail_account_closed": ("account_closed", "The bank account has been closed."),
    "ba_sandbox_fail_insufficient_funds": ("insufficient_funds", "The platform's balance could not cover it."),
    "ba_sandbox_fail_no_account": ("no_account", "The bank account details on file are probably incorrect."),
}
DESTINATIONS = (PAID, IN_TRANSIT, REJECT, *FAILURES)


class UnknownSandboxPayout(LookupError):
    """The sandbox made no payout with this id (a bug in the caller)."""


class SandboxProvider:
    """`uow` opens a unit of work on the platform's database (the Payout Service's)."""

    name = "sandbox"

    def __init__(self, uow: Callable[..., AbstractAsyncContextManager[Any]]):
        self.uow = uow

    def accepts(self, destination: str) -> bool:
        return destination in DESTINATIONS

    async def submit(self, order: PayoutOrder) -> ProviderPayout:
        if order.destination == REJECT:
            raise PayoutRejected("could_not_process", "The sandbox refuses payouts to ba_sandbox_reject.")
        if not self.accepts(order.destination):
            raise PayoutRejected("invalid_destination", f"The sandbox pays to no {order.destination!r}.")
        try:
            async with self.uow() as uow:
                found = await uow.repo(SandboxPayout).find(reference=order.reference)
                if found is None:
                    found = uow.add(SandboxPayout(
                        id=f"po_sb_{uuid.uuid4().hex}", reference=order.reference, destination=order.destination,
                        currency=order.currency, amount_minor=order.amount_minor, status="in_transit"))
                return _answer(found)
        except IntegrityError:  # submitted concurrently under the same reference: answer that one
            async with self.uow(read=True) as uow:
                return _answer(await uow.repo(SandboxPayout).find(reference=order.reference))

    async def status(self, provider_ref: str) -> ProviderPayout:
        async with self.uow() as uow:
            row = await uow.repo(SandboxPayout).get(provider_ref)
            if row is None:
                raise UnknownSandboxPayout(provider_ref)
            if row.status == "in_transit" and row.destination != IN_TRANSIT:
                code = FAILURES.get(row.destination, (None, None))[0]
                await uow.session.execute(update(SandboxPayout).where(
                    SandboxPayout.id == row.id, SandboxPayout.status == "in_transit").values(
                    status="failed" if code else "paid", failure_code=code))
                await uow.session.refresh(row)
            return _answer(row)


def _answer(row: Any) -> ProviderPayout:
    message = FAILURES[row.destination][1] if row.failure_code and row.destination in FAILURES else None
    return ProviderPayout(provider_ref=row.id, status=row.status, failure_code=row.failure_code,
                          failure_message=message)
