"""A property test of the ledger: random sequences of payments, holds, releases, refunds and
payouts against an auditor that predicts every answer (TigerBeetle's VOPR in miniature).
After each sequence every transfer balances, no flagged account crossed its limit, each
account's balance equals the sum of its entries and the auditor's figures, and reconcile
finds nothing wrong with the accounts the sequence touched."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployments.accounting import AccountRef, TransferIn
from deployments.accounting import books as b
from deployments.accounting.accounts import CHART
from deployments.accounting.errors import ExceedsCredits, PendingAlreadyResolved
from tests.factories.money import ledger

OPS = st.lists(st.tuples(st.sampled_from(["pay", "hold", "commit", "void", "refund", "payout"]),
                         st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=5_000)),
               min_size=1, max_size=25)


@dataclass
class Auditor:
    """The expected state: per account (kind, owner) the four columns; pending transfers."""
    accounts: dict[tuple[str, uuid.UUID | None], list[int]] = field(default_factory=dict)
    pending: dict[uuid.UUID, tuple[tuple, tuple, int]] = field(default_factory=dict)
    resolved: list[uuid.UUID] = field(default_factory=list)

    def cols(self, ref: tuple) -> list[int]:
        return self.accounts.setdefault(ref, [0, 0, 0, 0])

    def allows(self, debit: tuple, amount: int) -> bool:
        dp, dpo, _cp, cpo = self.cols(debit)
        return not CHART[debit[0]].debits_must_not_exceed_credits or dp + dpo + amount <= cpo

    def move(self, debit: tuple, credit: tuple, amount: int, *, pending: bool) -> None:
        self.cols(debit)[0 if pending else 1] += amount
        self.cols(credit)[2 if pending else 3] += amount

    def resolve(self, pid: uuid.UUID, commit: bool) -> None:
        debit, credit, amount = self.pending.pop(pid)
        self.cols(debit)[0] -= amount
        self.cols(credit)[2] -= amount
        if commit:
            self.move(debit, credit, amount, pending=False)
        self.resolved.append(pid)


def ref(t: tuple) -> AccountRef:
    return AccountRef(kind=t[0], owner_id=t[1])


class Run:
    """One sequence: two bookings' escrow accounts, two users' payable accounts, the auditor."""

    def __init__(self, call, svc):
        self.call, self.svc, self.audit = call, svc, Auditor()
        self.bookings = [("escrow", uuid.uuid4()) for _ in range(2)]
        self.users = [("payable", uuid.uuid4()) for _ in range(2)]

    def attempt(self, transfer: TransferIn, expect_ok: bool, refusal: type) -> bool:
        try:
            self.call(self.svc.post, [transfer])
        except refusal:
            assert not expect_ok, f"refused but the auditor predicted success: {transfer}"
            return False
        assert expect_ok, f"made but the auditor predicted a refusal: {transfer}"
        return True

    def step(self, op: str, which: int, amount: int) -> None:
        booking, user, clearing = self.bookings[which % 2], self.users[which // 2 % 2], ("processor_clearing", None)
        tid, audit = uuid.uuid4(), self.audit
        if op == "pay":  # a captured payment into a booking's escrow
            self.attempt(TransferIn.move(tid, ref(clearing), ref(booking), amount, "EUR", code="test.pay"), True,
                         ExceedsCredits)
            audit.move(clearing, booking, amount, pending=False)
        elif op in ("hold", "refund", "payout"):
            debit, credit = {"hold": (booking, user), "refund": (booking, clearing), "payout": (user, clearing)}[op]
            pending = op != "refund"
            t = TransferIn.move(tid, ref(debit), ref(credit), amount, "EUR", code=f"test.{op}",
                                action="hold" if pending else "post")
            if self.attempt(t, audit.allows(debit, amount), ExceedsCredits):
                audit.move(debit, credit, amount, pending=pending)
                if pending:
                    audit.pending[tid] = (debit, credit, amount)
        else:  # commit or void a pending transfer, or one already resolved
            choices = list(audit.pending) + audit.resolved[-1:]
            if choices:
                pid = choices[which % len(choices)]
                if self.attempt(TransferIn.resolve(tid, pid, commit=op == "commit", code="test.resolve"),
                                pid in audit.pending, PendingAlreadyResolved):
                    audit.resolve(pid, op == "commit")

    def check(self) -> None:
        for (kind, owner), want in self.audit.accounts.items():
            if kind == "processor_clearing":
                continue  # shared by every example; reconcile checks it below
            got = self.call(self.svc.balance, kind, owner, "EUR")
            assert [got.debits_pending, got.debits_posted, got.credits_pending, got.credits_posted] == want
            if CHART[kind].debits_must_not_exceed_credits:
                assert got.debits_pending + got.debits_posted <= got.credits_posted

        async def books():
            async with self.svc.uow(read=True) as uow:
                return await b.reconcile(uow.session, [])

        out = self.call(books)
        touched = {str(o) for _k, o in self.audit.accounts if o}
        broken = [m for m in out.mismatches if m.check in GLOBAL_CHECKS
                  or m.check != "transfer_unclaimed" and any(o in (m.subject or "") for o in touched)]
        assert not broken, broken


GLOBAL_CHECKS = ("currency_balanced", "transfer_balanced", "pending_resolution")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_money_movements_keep_the_books(call, platform, ops):
    run = Run(call, ledger(platform))
    for op, which, amount in ops:
        run.step(op, which, amount)
    run.check()
