"""Reading the books: balances (now, from the account's columns; at a point in time, from
its entries), reconciliation, and reports. Every figure is an integer sum in SQL."""
from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from deployments.accounting.accounts import CHART, account_key
from deployments.accounting.schemas import (
    BalanceOut,
    CurrencyTotals,
    LedgerClaim,
    Mismatch,
    PeriodLine,
    ReconcileOut,
    ReportOut,
    TrialBalanceLine,
)
from storage.db import utcnow
from storage.models.accounting import LedgerAccount, LedgerEntry, LedgerTransfer

FEE_KINDS = ("revenue", "processor_fees", "dispute_fees", "dispute_losses")
MAX_LISTED = 200  # mismatches listed per check at most (the count is exact)


class ClaimSource(Protocol):
    """What reconcile asks of each money service: the ledger transfers its records say it made."""

    async def ledger_claims(self) -> list[LedgerClaim]: ...


def _out(kind: str, owner: uuid.UUID | None, currency: str, dp: int, dpo: int, cp: int, cpo: int,
         at: datetime | None = None) -> BalanceOut:
    normal = CHART[kind].normal
    if normal == "credit":
        bal, avail = cpo - dpo, cpo - dpo - dp
    else:
        bal, avail = dpo - cpo, dpo - cpo - cp
    return BalanceOut(account=account_key(kind, owner), kind=kind, owner_id=owner, currency=currency, normal=normal,
                      debits_pending=dp, debits_posted=dpo, credits_pending=cp, credits_posted=cpo,
                      balance_minor=bal, available_minor=avail, at=at)


async def balance(session, aid: uuid.UUID, kind: str, owner: uuid.UUID | None, currency: str,
                  at: datetime | None) -> BalanceOut:
    if at is None:
        a = await session.get(LedgerAccount, aid)
        cols = (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted) if a else (0, 0, 0, 0)
        return _out(kind, owner, currency, *cols)
    E = LedgerEntry
    rows = (await session.execute(select(E.side, E.phase, func.sum(E.amount_minor))
                                  .where(E.account_id == aid, E.created_at <= at).group_by(E.side, E.phase))).all()
    return _out(kind, owner, currency, *_columns(rows), at=at)


def _columns(rows) -> tuple[int, int, int, int]:
    """(debits_pending, debits_posted, credits_pending, credits_posted) from sums by side and phase."""
    s: dict[tuple[str, str], int] = {(side, phase): int(total or 0) for side, phase, total in rows}
    return (s.get(("debit", "pending"), 0) - s.get(("debit", "resolved"), 0), s.get(("debit", "posted"), 0),
            s.get(("credit", "pending"), 0) - s.get(("credit", "resolved"), 0), s.get(("credit", "posted"), 0))


async def balances(session, kind: str, currency: str | None) -> list[BalanceOut]:
    A = LedgerAccount
    q = select(A).where(A.kind == kind, (A.debits_posted != A.credits_posted) | (A.debits_pending > 0)
                        | (A.credits_pending > 0)).order_by(A.currency, A.owner_id)
    if currency:
        q = q.where(A.currency == currency.upper())
    return [_out(a.kind, a.owner_id, a.currency, a.debits_pending, a.debits_posted, a.credits_pending,
                 a.credits_posted) for a in (await session.scalars(q)).all()]


async def gather_claims(sources: list[ClaimSource]) -> list[LedgerClaim]:
    """Every money service's claims, asked concurrently."""
    answers = await asyncio.gather(*(s.ledger_claims() for s in sources))
    return [c for claims in answers for c in claims]


async def reconcile(session, claims: list[LedgerClaim]) -> ReconcileOut:
    mismatches: list[Mismatch] = []
    A, E, T = LedgerAccount, LedgerEntry, LedgerTransfer
    # 1. Debits equal credits per currency, posted and pending.
    totals = []
    for cur, dp, dpo, cp, cpo in (await session.execute(
            select(A.currency, func.sum(A.debits_pending), func.sum(A.debits_posted), func.sum(A.credits_pending),
                   func.sum(A.credits_posted)).group_by(A.currency).order_by(A.currency))).all():
        t = CurrencyTotals(currency=cur, debits_pending=int(dp), debits_posted=int(dpo), credits_pending=int(cp),
                           credits_posted=int(cpo))
        totals.append(t)
        if t.debits_posted != t.credits_posted or t.debits_pending != t.credits_pending:
            mismatches.append(Mismatch(check="currency_balanced", subject=cur, detail=(
                f"posted debits {t.debits_posted} vs credits {t.credits_posted}; pending debits "
                f"{t.debits_pending} vs credits {t.credits_pending}")))
    # 2. Each account's columns equal the sums of its entries, and keep its flags.
    sums: dict[uuid.UUID, list] = defaultdict(list)
    for aid, side, phase, total in (await session.execute(
            select(E.account_id, E.side, E.phase, func.sum(E.amount_minor)).group_by(E.account_id, E.side,
                                                                                      E.phase))).all():
        sums[aid].append((side, phase, total))
    accounts = (await session.scalars(select(A))).all()
    for a in accounts:
        cols = (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
        key = f"{account_key(a.kind, a.owner_id)} {a.currency}"
        if _columns(sums.get(a.id, [])) != cols:
            mismatches.append(Mismatch(check="account_entries", subject=key,
                                       detail=f"columns {cols} but entries sum to {_columns(sums.get(a.id, []))}"))
        if a.debits_must_not_exceed_credits and a.debits_pending + a.debits_posted > a.credits_posted:
            mismatches.append(Mismatch(check="account_flags", subject=key, detail="debits exceed credits"))
        if a.credits_must_not_exceed_debits and a.credits_pending + a.credits_posted > a.debits_posted:
            mismatches.append(Mismatch(check="account_flags", subject=key, detail="credits exceed debits"))
    # 3. Every transfer balances in each phase.
    signed = func.sum(case((E.side == "debit", E.amount_minor), else_=-E.amount_minor))
    for tid, phase, diff in (await session.execute(
            select(E.transfer_id, E.phase, signed).group_by(E.transfer_id, E.phase).having(signed != 0)
            .limit(MAX_LISTED))).all():
        mismatches.append(Mismatch(check="transfer_balanced", subject=str(tid),
                                   detail=f"{phase} entries differ by {diff}"))
    # 4. A pending transfer is resolved iff one commit/void names it (UNIQUE keeps it to one).
    R = aliased(T)
    for tid, state, rid in (await session.execute(
            select(T.id, T.state, R.id).outerjoin(R, R.pending_id == T.id).where(T.action == "hold")
            .where(((T.state == "pending") & R.id.is_not(None)) | ((T.state != "pending") & R.id.is_(None)))
            .limit(MAX_LISTED))).all():
        mismatches.append(Mismatch(check="pending_resolution", subject=str(tid),
                                   detail=f"state {state} but resolved by {rid}"))
    n_transfers = int(await session.scalar(select(func.count()).select_from(T)) or 0)
    mismatches += await _check_claims(session, claims)
    return ReconcileOut(ok=not mismatches, transfers=n_transfers, accounts=len(accounts), claims=len(claims),
                        totals=totals, mismatches=mismatches, checked_at=utcnow())


async def _check_claims(session, claims: list[LedgerClaim]) -> list[Mismatch]:
    """Each claim names a transfer with its state, amount and currency; each transfer a money
    service makes (code payment.*, escrow.*, payout.*) is claimed by it."""
    T = LedgerTransfer
    out: list[Mismatch] = []
    found: dict[uuid.UUID, Any] = {}
    ids = [c.transfer_id for c in claims]
    for i in range(0, len(ids), 5000):
        for row in (await session.execute(select(T.id, T.state, T.amount_minor, T.currency)
                                          .where(T.id.in_(ids[i:i + 5000])))).all():
            found[row[0]] = row
    for c in claims:
        row = found.get(c.transfer_id)
        if row is None:
            out.append(Mismatch(check="claim_missing", subject=c.subject,
                                detail=f"{c.source} names transfer {c.transfer_id}, which the ledger lacks"))
        elif (row[1], row[2], row[3]) != (c.state, c.amount_minor, c.currency):
            out.append(Mismatch(check="claim_differs", subject=c.subject, detail=(
                f"{c.source} expects {c.state} {c.amount_minor} {c.currency}; ledger has {row[1]} {row[2]} {row[3]}")))
    claimed = set(ids)
    services = or_(*(T.code.like(f"{p}.%") for p in ("payment", "escrow", "payout")))
    unclaimed = 0
    for tid, code, ref in (await session.execute(select(T.id, T.code, T.ref).where(services))).all():
        if tid not in claimed:
            unclaimed += 1
            if unclaimed <= MAX_LISTED:
                out.append(Mismatch(check="transfer_unclaimed", subject=ref or str(tid),
                                    detail=f"ledger transfer {tid} ({code}) is in no service's records"))
    if unclaimed > MAX_LISTED:
        out.append(Mismatch(check="transfer_unclaimed", detail=f"{unclaimed - MAX_LISTED} more not listed"))
    return out


def _period(session, period: str, column):
    if session.bind.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD" if period == "day" else "YYYY-MM")
    return func.strftime("%Y-%m-%d" if period == "day" else "%Y-%m", column)


async def report(session, period: str, start: datetime | None, end: datetime | None) -> ReportOut:
    A, E = LedgerAccount, LedgerEntry
    trial = []
    for kind, cur, n, dpo, cpo in (await session.execute(
            select(A.kind, A.currency, func.count(), func.sum(A.debits_posted), func.sum(A.credits_posted))
            .group_by(A.kind, A.currency).order_by(A.kind, A.currency))).all():
        bal = int(cpo) - int(dpo) if CHART[kind].normal == "credit" else int(dpo) - int(cpo)
        trial.append(TrialBalanceLine(kind=kind, currency=cur, accounts=n, debits_posted=int(dpo),
                                      credits_posted=int(cpo), balance_minor=bal))
    p = _period(session, period, E.created_at)
    q = (select(p, A.kind, A.currency, E.side, func.sum(E.amount_minor)).join(A, A.id == E.account_id)
         .where(A.kind.in_(FEE_KINDS), E.phase == "posted").group_by(p, A.kind, A.currency, E.side))
    if start is not None:
        q = q.where(E.created_at >= start)
    if end is not None:
        q = q.where(E.created_at < end)
    net: dict[tuple[str, str, str], int] = defaultdict(int)
    for per, kind, cur, side, total in (await session.execute(q)).all():
        sign = 1 if (side == CHART[kind].normal) else -1
        net[(per, kind, cur)] += sign * int(total)
    lines = [PeriodLine(period=k[0], kind=k[1], currency=k[2], amount_minor=v) for k, v in sorted(net.items())]
    escrow = [CurrencyTotals(currency=cur, debits_pending=int(dp), debits_posted=int(dpo), credits_pending=int(cp),
                             credits_posted=int(cpo))
              for cur, dp, dpo, cp, cpo in (await session.execute(
                  select(A.currency, func.sum(A.debits_pending), func.sum(A.debits_posted),
                         func.sum(A.credits_pending), func.sum(A.credits_posted))
                  .where(A.kind == "escrow").group_by(A.currency).order_by(A.currency))).all()]
    return ReportOut(period=period, start=start, end=end, trial_balance=trial, revenue_and_fees=lines,
                     escrow_outstanding=escrow)
