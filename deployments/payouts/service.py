"""Payout Service (spec 9.21): pays travelers and couriers out of their payable ledger
account, through a payout provider (provider.py; the sandbox, sandbox.py, ships).

A payout: a row (pending) -> a ledger hold from `payable:<user>` to `processor_clearing`
(the account's `debits_must_not_exceed_credits` flag, which counts pending debits, is what
stops a payout above the balance, concurrent ones included) -> submitted to the provider
(in_transit) -> on a poll, paid (the hold is committed) or failed (voided: the money is back
in the payable account). Reading an in_transit payout polls it; so does a batch run.

Exactly once: the ledger ids derive from the payout's id (`transfer_id("payout", id,
"hold" | "paid" | "failed")`), so a repeated step finds the transfer it made, and a pending
hold resolves once; every status change here is a conditional UPDATE from the states it
may leave, and only the one that changes the row emits the event. A refused hold burns
its id, so each attempt is a new payout row (a refused one is deleted: it never held money).

Visibility: a payout, and a user's list of payouts, are seen by the user and by finance
(`payouts:read:any`); anyone else gets a 404 `payout.not_found`, as for an unknown id.
"""
from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import delete, select, update

from deployments.accounting import Accounting, AccountRef, LedgerClaim, TransferIn, transfer_id
from deployments.accounting.errors import ExceedsCredits, IdAlreadyFailed
from deployments.kit import Ctx, Limit, Page, Service, ServiceSpec, internal, op, uses
from deployments.payouts.errors import (
    BalanceBelowMinimum,
    BelowMinimum,
    ExceedsBalance,
    InvalidDestination,
    PayoutNotFound,
)
from deployments.payouts.events import PAYOUT_EVENTS, PayoutCreated, PayoutFailed, PayoutPaid
from deployments.payouts.provider import PayoutOrder, PayoutProvider, PayoutRejected, ProviderPayout
from deployments.payouts.sandbox import SandboxProvider
from deployments.payouts.schemas import BatchCreate, BatchOut, BatchSkip, PayoutCreate, PayoutOut
from p2p.errors import Unavailable
from p2p.money import Currency
from p2p.vocab import PayoutStatus
from storage.db import utcnow
from storage.models.payouts import Payout, PayoutBatch

OPEN = ("pending", "in_transit")
HOLD_STATE = {"pending": "pending", "in_transit": "pending", "paid": "committed", "failed": "voided",
              "canceled": "voided"}


class Payouts(Service):
    ledger = uses(Accounting)

    def __init__(self, runtime: Any):
        super().__init__(runtime)
        self.provider: PayoutProvider = SandboxProvider(self.uow)

    # -- HTTP (the literal paths before /payouts/{id}) --------------------------------------
    @op("POST /payouts/batch", status=201, perm="payouts:batch")
    async def batch(self, ctx: Ctx, body: BatchCreate) -> BatchOut:
        """Run payouts (finance): a payout of the whole available balance for every payable
        account (one per currency) with at least `payout_min_minor` available, to the given
        destination or the user's last one; then submit the pending payouts and poll the
        in_transit ones in scope. Answers what it did, with the accounts skipped and why."""
        async with self.uow() as uow:
            run = uow.add(PayoutBatch(id=uuid.uuid4(), requested_by=ctx.user_id, currency=body.currency, skipped=[]))
        created, skipped = await self._create_all(run.id, body)
        submitted, ended = 0, Counter[str]()
        for p in await self._open_in_scope(body, "pending"):
            p = await self._submit(p)
            submitted += p.status not in ("pending", "canceled")
            ended[p.status] += p.status in ("paid", "failed")
        for p in await self._open_in_scope(body, "in_transit"):
            ended[(await self._poll(p)).status] += 1
        tally = {"submitted": submitted, "paid": ended["paid"], "failed": ended["failed"] + ended["canceled"],
                 "in_transit": ended["in_transit"]}
        async with self.uow() as uow:
            row = await uow.repo(PayoutBatch).get_or_404(run.id)
            row.created, row.submitted, row.paid, row.failed = (len(created), tally["submitted"], tally["paid"],
                                                                tally["failed"])
            row.skipped = [s.model_dump(mode="json") for s in skipped]
        return BatchOut(id=run.id, currency=body.currency, created=len(created), submitted=tally["submitted"],
                        paid=tally["paid"], failed=tally["failed"], in_transit=tally["in_transit"],
                        payout_ids=[p.id for p in created], skipped=skipped, created_at=run.created_at)

    @op("GET /payouts/user/{id}", perm="payouts:read")
    async def of_user(self, ctx: Ctx, id: uuid.UUID, limit: Limit = 20, cursor: str | None = None,
                      status: PayoutStatus | None = None, currency: Currency | None = None) -> Page[PayoutOut]:
        """A user's payouts, oldest first, cursor-paginated; for the user and finance
        (others: 404 `payout.not_found`). Narrowed by `status` and `currency` when given."""
        if id != ctx.user_id and not await self.can(ctx, "payouts:read:any"):
            raise PayoutNotFound("No such user's payouts.", user_id=str(id))
        by = {k: v for k, v in (("status", status), ("currency", currency)) if v is not None}
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.repo(Payout).page(limit=limit, cursor=cursor, user_id=id, **by)
            return Page[PayoutOut](items=[PayoutOut.model_validate(r) for r in rows], next_cursor=nxt)

    @op("POST /payouts", status=201, perm="payouts:write")
    async def create(self, ctx: Ctx, body: PayoutCreate) -> PayoutOut:
        """Pay out of one's own payable balance in `currency`: `amount_minor`, or the whole
        available balance, to `destination`, submitted to the provider at once (in_transit).
        Above the available balance: 409 `payout.exceeds_balance`; below `payout_min_minor`:
        422 `payout.below_minimum` (409 `payout.balance_below_minimum` for a whole balance)."""
        least = self.settings.payout_min_minor
        if body.amount_minor is not None and body.amount_minor < least:
            raise BelowMinimum(f"The smallest payout is {least} minor units.", amount_minor=body.amount_minor,
                               min_minor=least, currency=body.currency)
        if not self.provider.accepts(body.destination):
            raise InvalidDestination(f"The {self.provider.name} provider pays to no {body.destination!r}.",
                                     destination=body.destination)
        available = (await self.ledger.balance("payable", ctx.user_id, body.currency)).available_minor
        amount = body.amount_minor if body.amount_minor is not None else available
        if body.amount_minor is None and available < least:
            raise BalanceBelowMinimum(f"{available} minor units are available; the smallest payout is {least}.",
                                      available_minor=available, min_minor=least, currency=body.currency)
        if amount > available:
            raise self._exceeds(amount, available, body.currency)
        p = await self._open(ctx.user_id, body.currency, amount, body.destination)
        return await self._submit(p)

    @op("GET /payouts/{id}", perm="payouts:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> PayoutOut:
        """A payout, for its user and finance; reading a pending or in_transit one asks the
        provider where it stands and settles it (paid: the hold is committed; failed: voided,
        the money back in the payable account)."""
        async with self.uow(read=True) as uow:
            row = await uow.repo(Payout).get(id)
            p = PayoutOut.model_validate(row) if row is not None else None
        if p is None or (p.user_id != ctx.user_id and not await self.can(ctx, "payouts:read:any")):
            raise PayoutNotFound("No such payout.", id=str(id))
        if p.status == "pending":
            p = await self._submit(p)
        return await self._poll(p) if p.status == "in_transit" else p

    # -- for the Accounting Service's reconcile ----------------------------------------------
    @internal
    async def ledger_claims(self) -> list[LedgerClaim]:
        """Each payout's hold (pending while the payout is open, committed once paid, voided
        once failed) and its resolving transfer (posted)."""
        async with self.uow(read=True) as uow:
            rows = (await uow.session.execute(
                select(Payout.id, Payout.status, Payout.amount_minor, Payout.currency, Payout.hold_transfer_id,
                       Payout.resolve_transfer_id).where(Payout.held_at.is_not(None)))).all()
        claims = []
        for pid, status, amount, currency, hold, resolve in rows:
            claims.append(LedgerClaim(transfer_id=hold, state=HOLD_STATE[status], amount_minor=amount,
                                      currency=currency, source="payouts", subject=f"payout:{pid}"))
            if resolve is not None:
                claims.append(LedgerClaim(transfer_id=resolve, state="posted", amount_minor=amount, currency=currency,
                                          source="payouts", subject=f"payout:{pid}"))
        return claims

    # -- steps -------------------------------------------------------------------------------
    async def _open(self, user_id: uuid.UUID, currency: str, amount: int, destination: str,
                    batch_id: uuid.UUID | None = None) -> PayoutOut:
        """A new payout row, then its hold in the ledger; a refused hold deletes the row."""
        pid = uuid.uuid4()
        async with self.uow() as uow:
            uow.add(Payout(id=pid, user_id=user_id, currency=currency, amount_minor=amount, destination=destination,
                           status="pending", provider=self.provider.name, batch_id=batch_id,
                           hold_transfer_id=transfer_id("payout", pid, "hold")))
        try:
            await self.ledger.post([self._hold_of(pid, user_id, currency, amount)])
        except ExceedsCredits as exc:
            async with self.uow() as uow:
                await uow.session.execute(delete(Payout).where(Payout.id == pid))
            raise self._exceeds(amount, exc.data.get("available_minor"), currency) from None
        return await self._held(pid)

    async def _held(self, pid: uuid.UUID) -> PayoutOut:
        """Record that the hold exists; the first to record it emits PayoutCreated."""
        async with self.uow() as uow:
            done = await uow.session.execute(update(Payout).where(Payout.id == pid, Payout.held_at.is_(None))
                                             .values(held_at=utcnow()))
            row = await uow.repo(Payout).get_or_404(pid)
            if done.rowcount == 1:  # type: ignore[attr-defined]
                uow.emit(PayoutCreated.of(row), entity_id=row.id, version=row.version)
            return PayoutOut.model_validate(row)

    async def _ensure_hold(self, p: PayoutOut) -> PayoutOut:
        """A pending payout left without its hold recorded (a crash in between): place it
        again (the same id answers the hold already made), or cancel the payout if refused."""
        try:
            await self.ledger.post([self._hold_of(p.id, p.user_id, p.currency, p.amount_minor)])
        except (ExceedsCredits, IdAlreadyFailed):
            return await self._move(p, ("pending",), status="canceled", failure_code="exceeds_balance",
                                    failure_message="The payable balance no longer covered the payout.")
        return await self._held(p.id)

    async def _submit(self, p: PayoutOut) -> PayoutOut:
        """Hand a pending payout to the provider; it stays pending if the provider is down."""
        if p.status != "pending":
            return p
        if p.held_at is None:
            p = await self._ensure_hold(p)
            if p.status != "pending":
                return p
        try:
            answer = await self.provider.submit(PayoutOrder(p.id, p.amount_minor, p.currency, p.destination))
        except PayoutRejected as exc:
            return await self._settle(p, ProviderPayout("", "failed", exc.failure_code, exc.message))
        except Unavailable:
            return p
        moved = await self._move(p, ("pending",), status="in_transit", provider_ref=answer.provider_ref,
                                 submitted_at=utcnow())
        return await self._settle(moved, answer) if answer.status in ("paid", "failed", "canceled") else moved

    async def _poll(self, p: PayoutOut) -> PayoutOut:
        if p.status != "in_transit" or p.provider_ref is None:
            return p
        try:
            answer = await self.provider.status(p.provider_ref)
        except Unavailable:
            return p
        return await self._settle(p, answer) if answer.status in ("paid", "failed", "canceled") else p

    async def _settle(self, p: PayoutOut, answer: ProviderPayout) -> PayoutOut:
        """Commit (paid) or void (failed, canceled) the hold, then record it; only the call
        that changes the row emits PayoutPaid or PayoutFailed."""
        paid = answer.status == "paid"
        outcome = "paid" if paid else "failed"
        rid = transfer_id("payout", p.id, outcome)
        await self.ledger.post([TransferIn.resolve(rid, p.hold_transfer_id, commit=paid, code=f"payout.{outcome}",
                                                   ref=f"payout:{p.id}")])
        failure = {} if paid else {"failure_code": answer.failure_code or "could_not_process",
                                   "failure_message": answer.failure_message}
        async with self.uow() as uow:
            row = await self._transition(uow, p.id, OPEN, status=answer.status if not paid else "paid",
                                         resolve_transfer_id=rid, settled_at=utcnow(), **failure)
            if row is None:
                return PayoutOut.model_validate(await uow.repo(Payout).get_or_404(p.id))
            event = PayoutPaid.of(row) if paid else PayoutFailed.of(row, **failure)
            uow.emit(event, entity_id=row.id, version=row.version)
            return PayoutOut.model_validate(row)

    async def _move(self, p: PayoutOut, frm: tuple[str, ...], **values: Any) -> PayoutOut:
        """A status change without ledger or event; answers the row as it is either way."""
        async with self.uow() as uow:
            row = await self._transition(uow, p.id, frm, **values)
            return PayoutOut.model_validate(row or await uow.repo(Payout).get_or_404(p.id))

    @staticmethod
    async def _transition(uow: Any, pid: uuid.UUID, frm: tuple[str, ...], **values: Any) -> Payout | None:
        """UPDATE the payout if its status is one of `frm`; the changed row, or None."""
        done = await uow.session.execute(update(Payout).where(Payout.id == pid, Payout.status.in_(frm))
                                         .values(version=Payout.version + 1, **values))
        return await uow.repo(Payout).get(pid) if done.rowcount == 1 else None

    # -- batch -------------------------------------------------------------------------------
    async def _create_all(self, batch_id: uuid.UUID, body: BatchCreate) -> tuple[list[PayoutOut], list[BatchSkip]]:
        least, wanted = self.settings.payout_min_minor, set(body.user_ids or ())
        accounts = sorted((b for b in await self.ledger.balances("payable", body.currency)
                           if b.owner_id is not None and b.available_minor > 0
                           and (body.user_ids is None or b.owner_id in wanted)),
                          key=lambda b: (b.currency, str(b.owner_id)))
        last = await self._last_destinations({b.owner_id for b in accounts if b.owner_id not in body.destinations})
        created: list[PayoutOut] = []
        skipped: list[BatchSkip] = []
        for b in accounts:
            assert b.owner_id is not None
            dest = body.destinations.get(b.owner_id) or last.get(b.owner_id)
            reason = ("below_minimum" if b.available_minor < least else "no_destination" if dest is None
                      else "invalid_destination" if not self.provider.accepts(dest)
                      else "batch_limit" if len(created) >= body.limit else None)
            if reason is None and dest is not None:
                try:
                    created.append(await self._open(b.owner_id, b.currency, b.available_minor, dest, batch_id))
                    continue
                except ExceedsBalance:
                    reason = "exceeds_balance"  # paid out concurrently meanwhile
            skipped.append(BatchSkip(user_id=b.owner_id, currency=b.currency, reason=reason or "no_destination",
                                     available_minor=b.available_minor))
        return created, skipped

    async def _last_destinations(self, users: set[Any]) -> dict[uuid.UUID, str]:
        """Each user's destination of their latest payout that did not fail."""
        out: dict[uuid.UUID, str] = {}
        ids = list(users)
        async with self.uow(read=True) as uow:
            for i in range(0, len(ids), 500):
                for user, dest in (await uow.session.execute(
                        select(Payout.user_id, Payout.destination)
                        .where(Payout.user_id.in_(ids[i:i + 500]), Payout.status != "failed")
                        .order_by(Payout.created_at, Payout.id))).all():
                    out[user] = dest
        return out

    async def _open_in_scope(self, body: BatchCreate, status: str) -> list[PayoutOut]:
        q = select(Payout).where(Payout.status == status)
        if body.currency is not None:
            q = q.where(Payout.currency == body.currency)
        if body.user_ids is not None:
            q = q.where(Payout.user_id.in_(body.user_ids))
        async with self.uow(read=True) as uow:
            rows = await uow.all(q.order_by(Payout.created_at, Payout.id).limit(body.limit))
            return [PayoutOut.model_validate(r) for r in rows]

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _hold_of(pid: uuid.UUID, user_id: uuid.UUID, currency: str, amount: int) -> TransferIn:
        return TransferIn.move(transfer_id("payout", pid, "hold"), AccountRef(kind="payable", owner_id=user_id),
                               AccountRef(kind="processor_clearing"), amount, currency, code="payout.hold",
                               ref=f"payout:{pid}", action="hold")

    @staticmethod
    def _exceeds(amount: int, available: Any, currency: str) -> ExceedsBalance:
        return ExceedsBalance(f"The payout of {amount} is above the available balance of {available} minor units.",
                              amount_minor=amount, available_minor=available, currency=currency)


SPEC = ServiceSpec("Payout Service", key="payouts", prefix="/payouts", service=Payouts, models="storage.models.payouts",
                   emits=PAYOUT_EVENTS,
                   grants={"traveler": ("payouts:read", "payouts:write"), "courier": ("payouts:read", "payouts:write"),
                           "finance": ("payouts:read", "payouts:read:any", "payouts:batch")})
