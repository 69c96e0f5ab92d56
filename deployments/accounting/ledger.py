"""The posting engine: applies a batch of transfers inside one database transaction, all or
none, and keeps each account's four balance columns equal to the sum of its entries.

- Every account a transfer names is opened on first use, in a short transaction of its
  own (`open_accounts`; its id is derived from kind, owner and currency, its flags come
  from the chart of accounts).
- Balance changes are summed per account; the accounts are locked in id order (no
  deadlocks between concurrent batches), each change checked against the account's flag
  (a refusal names the account and refuses the whole batch), then all applied by one
  executemany of a guarded UPDATE. The same flags are CHECK constraints, so no code path
  can break them.
- A commit or void locks its pending transfer and flips it from `pending` once; the
  resolving transfer's UNIQUE `pending_id` backs that in the database.
- A reversal mirrors a posted transfer (same accounts and amounts, sides swapped), once.

No floats: amounts are Python ints, columns BIGINT."""
from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, bindparam, insert, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from deployments.accounting.accounts import CHART, account_id, account_key
from deployments.accounting.errors import (
    ExceedsCredits,
    ExceedsDebits,
    PendingAlreadyResolved,
    PendingNotFound,
    Refused,
    ReversalMismatch,
    Unbalanced,
)
from deployments.accounting.schemas import EntryOut, TransferIn, TransferOut
from storage.db import utcnow
from storage.models.accounting import LedgerAccount, LedgerEntry, LedgerTransfer


def fingerprint(t: TransferIn) -> str:
    """What makes two requests with one transfer id the same transfer."""
    return hashlib.sha256(t.model_dump_json(exclude_none=True).encode()).hexdigest()


def check_balanced(t: TransferIn) -> None:
    """A 422 unless the transfer's debits equal its credits."""
    if t.action not in ("post", "hold"):
        return
    debits = sum(e.amount_minor for e in t.entries if e.side == "debit")
    credits = sum(e.amount_minor for e in t.entries if e.side == "credit")
    if debits != credits or not debits:
        raise Unbalanced(f"Transfer {t.id}: debits {debits} and credits {credits} must be equal.",
                         id=str(t.id), debits_minor=debits, credits_minor=credits)
    for e in t.entries:
        kind = CHART[e.kind]
        if (kind.owned_by == "platform") != (e.owner_id is None):
            raise Unbalanced(f"Transfer {t.id}: a {e.kind} account "
                             f"{'names no owner' if kind.owned_by == 'platform' else 'names its owner'}.",
                             id=str(t.id), kind=e.kind)


@dataclass
class _Line:
    account: uuid.UUID
    side: str
    phase: str
    amount: int


@dataclass
class _Batch:
    """What a batch writes: transfer rows, entry lines, and the balance change per account."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[uuid.UUID, list[_Line]] = field(default_factory=dict)
    deltas: dict[uuid.UUID, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))

    def line(self, transfer: uuid.UUID, account: uuid.UUID, side: str, phase: str, amount: int) -> None:
        self.lines.setdefault(transfer, []).append(_Line(account, side, phase, amount))
        d = self.deltas[account]
        base = 0 if side == "debit" else 2
        if phase == "pending":
            d[base] += amount
        elif phase == "posted":
            d[base + 1] += amount
        else:  # resolved: the pending amount leaves the pending column
            d[base] -= amount


async def apply(session, transfers: list[TransferIn], fingerprints: dict[uuid.UUID, str]) -> list[uuid.UUID]:
    """Write `transfers` (none of which exists yet) in the session's transaction; raises a
    `Refused` naming the first transfer that cannot be made. Returns their ids in order."""
    now = utcnow()
    b = _Batch()
    for t in transfers:
        if t.action in ("post", "hold"):
            await _entries(session, b, t, now, fingerprints[t.id])
        else:
            await _resolve(session, b, t, now, fingerprints[t.id])
    await session.execute(insert(LedgerTransfer), b.rows)
    entries = [dict(transfer_id=tid, seq=i, account_id=ln.account, side=ln.side, phase=ln.phase,
                    amount_minor=ln.amount, created_at=now)
               for tid, lines in b.lines.items() for i, ln in enumerate(lines)]
    await session.execute(insert(LedgerEntry), entries)
    await _apply_deltas(session, b)
    return [t.id for t in transfers]


async def _entries(session, b: _Batch, t: TransferIn, now: datetime, fp: str) -> None:
    assert t.currency is not None
    if t.reverses_id is not None:
        await _check_reversal(session, t)
    phase = "pending" if t.action == "hold" else "posted"
    for e in t.entries:
        b.line(t.id, account_id(e.kind, e.owner_id, t.currency), e.side, phase, e.amount_minor)
    b.rows.append(dict(id=t.id, action=t.action, state="pending" if t.action == "hold" else "posted",
                       currency=t.currency, amount_minor=sum(e.amount_minor for e in t.entries if e.side == "debit"),
                       pending_id=None, reverses_id=t.reverses_id, code=t.code, ref=t.ref, memo=t.memo,
                       fingerprint=fp, created_at=now))


async def _check_reversal(session, t: TransferIn) -> None:
    orig = await session.get(LedgerTransfer, t.reverses_id)
    if orig is None or orig.state != "posted" or orig.action == "void":
        raise ReversalMismatch(f"Transfer {t.id} reverses {t.reverses_id}, which is not a posted transfer.",
                               id=str(t.id), reverses_id=str(t.reverses_id))
    if await session.scalar(select(LedgerTransfer.id).where(LedgerTransfer.reverses_id == orig.id)) is not None:
        raise ReversalMismatch(f"Transfer {orig.id} was already reversed.", id=str(t.id), reverses_id=str(orig.id))
    lines = (await session.execute(select(LedgerEntry.account_id, LedgerEntry.side, LedgerEntry.amount_minor)
                                   .where(LedgerEntry.transfer_id == orig.id, LedgerEntry.phase == "posted"))).all()
    want = sorted((a, "credit" if s == "debit" else "debit", m) for a, s, m in lines)
    have = sorted((account_id(e.kind, e.owner_id, t.currency or ""), e.side, e.amount_minor) for e in t.entries)
    if want != have or orig.currency != t.currency:
        raise ReversalMismatch(f"Transfer {t.id} must mirror {orig.id}: the same accounts and amounts, sides "
                               "swapped.", id=str(t.id), reverses_id=str(orig.id))


async def _resolve(session, b: _Batch, t: TransferIn, now: datetime, fp: str) -> None:
    """A commit (post the pending transfer) or void (cancel it), once."""
    pending = await session.get(LedgerTransfer, t.pending_id, with_for_update=True)
    if pending is None or pending.action != "hold":
        raise PendingNotFound(f"Transfer {t.id}: no pending transfer {t.pending_id}.", id=str(t.id),
                              pending_id=str(t.pending_id))
    to = "committed" if t.action == "commit" else "voided"
    done = await session.execute(update(LedgerTransfer).where(LedgerTransfer.id == pending.id,
                                                              LedgerTransfer.state == "pending").values(state=to))
    if done.rowcount != 1:
        raise PendingAlreadyResolved(f"Transfer {t.id}: the pending transfer {pending.id} was already resolved.",
                                     id=str(t.id), pending_id=str(pending.id))
    lines = (await session.execute(select(LedgerEntry.account_id, LedgerEntry.side, LedgerEntry.amount_minor)
                                   .where(LedgerEntry.transfer_id == pending.id).order_by(LedgerEntry.seq))).all()
    for account, side, amount in lines:
        b.line(t.id, account, side, "resolved", amount)
        if t.action == "commit":
            b.line(t.id, account, side, "posted", amount)
    b.rows.append(dict(id=t.id, action=t.action, state="posted", currency=pending.currency,
                       amount_minor=pending.amount_minor, pending_id=pending.id, reverses_id=None, code=t.code,
                       ref=t.ref if t.ref is not None else pending.ref, memo=t.memo, fingerprint=fp, created_at=now))


def accounts_of(transfers: list[TransferIn]) -> list[dict[str, Any]]:
    """The account rows the entries of `transfers` name (commits and voids reuse their
    pending transfer's), sorted by id."""
    now, rows = utcnow(), {}
    for t in transfers:
        for e in t.entries:
            aid = account_id(e.kind, e.owner_id, t.currency or "")
            kind = CHART[e.kind]
            rows.setdefault(aid, dict(
                id=aid, kind=e.kind, owner_id=e.owner_id, currency=t.currency, normal=kind.normal,
                debits_must_not_exceed_credits=kind.debits_must_not_exceed_credits,
                credits_must_not_exceed_debits=kind.credits_must_not_exceed_debits, created_at=now))
    return [rows[k] for k in sorted(rows)]


async def open_accounts(session, rows: list[dict[str, Any]]) -> None:
    """Open the accounts that do not exist yet, in a transaction of their own before the
    posting one: a posting transaction then only locks existing rows, in id order, and two
    of them never deadlock over an account one of them is creating. An opened account is an
    empty row; opening it again does nothing."""
    if rows:
        ins = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        await session.execute(ins(LedgerAccount.__table__).on_conflict_do_nothing(), rows)


def _delta_update():
    """The one UPDATE every account's change goes through (Core, so a list of parameters is
    an executemany), its flag in the WHERE clause: checked only when the change could break
    it (more debits, or fewer credits)."""
    c, b = LedgerAccount.__table__.c, bindparam
    return (update(LedgerAccount.__table__).where(
        c.id == b("b_id"),
        or_(not_(b("b_check_d", type_=Boolean)), c.debits_must_not_exceed_credits.is_(False),
            c.debits_pending + b("b_dp") + c.debits_posted + b("b_dpo") <= c.credits_posted + b("b_cpo")),
        or_(not_(b("b_check_c", type_=Boolean)), c.credits_must_not_exceed_debits.is_(False),
            c.credits_pending + b("b_cp") + c.credits_posted + b("b_cpo") <= c.debits_posted + b("b_dpo")))
        .values(debits_pending=c.debits_pending + b("b_dp"), debits_posted=c.debits_posted + b("b_dpo"),
                credits_pending=c.credits_pending + b("b_cp"), credits_posted=c.credits_posted + b("b_cpo")))


_UPDATE = _delta_update()


async def _apply_deltas(session, b: _Batch) -> None:
    """Lock the batch's accounts (FOR NO KEY UPDATE, which the entries' foreign keys do not
    conflict with; in id order: no deadlocks between batches), check each
    change against its flags, then apply every change in one executemany of the same
    guarded UPDATE. The guard and the CHECK constraints back the check; they never refuse
    what it allowed while the rows are locked."""
    rows = []
    for aid in sorted(b.deltas):
        dp, dpo, cp, cpo = b.deltas[aid]
        if dp or dpo or cp or cpo:
            rows.append(dict(b_id=aid, b_dp=dp, b_dpo=dpo, b_cp=cp, b_cpo=cpo, b_check_d=dp + dpo > 0 or cpo < 0,
                             b_check_c=cp + cpo > 0 or dpo < 0))
    if not rows:
        return
    A = LedgerAccount
    locked = {r.id: r for r in (await session.execute(
        select(A.id, A.kind, A.owner_id, A.currency, A.debits_must_not_exceed_credits,
               A.credits_must_not_exceed_debits, A.debits_pending, A.debits_posted, A.credits_pending,
               A.credits_posted).where(A.id.in_([r["b_id"] for r in rows])).order_by(A.id)
        .with_for_update(key_share=True))).all()}  # FOR NO KEY UPDATE
    for r in rows:
        _check_flags(locked[r["b_id"]], r)
    if session.bind.dialect.supports_sane_multi_rowcount:
        changed = (await session.execute(_UPDATE, rows)).rowcount
    else:
        changed = sum([(await session.execute(_UPDATE, [r])).rowcount for r in rows])
    if changed != len(rows):
        raise ExceedsCredits(f"{len(rows) - changed} account(s) changed under the batch; nothing was posted.")


def _check_flags(acc: Any, r: dict[str, Any]) -> None:
    key = account_key(acc.kind, acc.owner_id)
    if (r["b_check_d"] and acc.debits_must_not_exceed_credits and acc.debits_pending + r["b_dp"]
            + acc.debits_posted + r["b_dpo"] > acc.credits_posted + r["b_cpo"]):
        raise ExceedsCredits(f"Account {key} ({acc.currency}) would have more debits than credits.",
                             account=key, currency=acc.currency,
                             available_minor=acc.credits_posted - acc.debits_posted - acc.debits_pending)
    if (r["b_check_c"] and acc.credits_must_not_exceed_debits and acc.credits_pending + r["b_cp"]
            + acc.credits_posted + r["b_cpo"] > acc.debits_posted + r["b_dpo"]):
        raise ExceedsDebits(f"Account {key} ({acc.currency}) would have more credits than debits.",
                            account=key, currency=acc.currency)


async def load(session, ids: list[uuid.UUID]) -> dict[uuid.UUID, TransferOut]:
    """The transfers `ids` that exist, with their entries."""
    if not ids:
        return {}
    rows = (await session.scalars(select(LedgerTransfer).where(LedgerTransfer.id.in_(ids)))).all()
    out: dict[uuid.UUID, TransferOut] = {}
    if not rows:
        return out
    q = (select(LedgerEntry, LedgerAccount.kind, LedgerAccount.owner_id)
         .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
         .where(LedgerEntry.transfer_id.in_([r.id for r in rows])).order_by(LedgerEntry.transfer_id, LedgerEntry.seq))
    entries: dict[uuid.UUID, list[EntryOut]] = defaultdict(list)
    for e, kind, owner in (await session.execute(q)).all():
        entries[e.transfer_id].append(EntryOut(account=account_key(kind, owner), kind=kind, owner_id=owner,
                                               side=e.side, amount_minor=e.amount_minor, phase=e.phase))
    for r in rows:
        out[r.id] = TransferOut(id=r.id, action=r.action, state=r.state, currency=r.currency,
                                amount_minor=r.amount_minor, pending_id=r.pending_id, reverses_id=r.reverses_id,
                                code=r.code, ref=r.ref, memo=r.memo, entries=entries[r.id], created_at=r.created_at)
    return out


__all__ = ["Refused", "apply", "check_balanced", "fingerprint", "load"]
