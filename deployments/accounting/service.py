"""Accounting Service (spec 10.25): the double-entry ledger everything that moves money writes
to (ledger.py posts; books.py reconciles and reports).

Transfers are idempotent by the client's transfer id, TigerBeetle style: the same id with
the same body answers the transfer already made (`result: exists`), another body is a 409
`accounting.id_reused`, and an id whose transfer was refused is burned: it answers
`accounting.id_already_failed` with the first reason forever, so a retry never flips an
outcome. Corrections are reversing transfers, never edits."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from deployments.accounting import books, ledger
from deployments.accounting.accounts import CHART, account_id, account_key, parse_key
from deployments.accounting.errors import (
    AccountNotVisible,
    BadAccount,
    IdAlreadyFailed,
    IdReused,
    LinkedFailed,
    Refused,
)
from deployments.accounting.schemas import BalanceOut, ManualEntries, ReconcileOut, ReportOut, TransferIn, TransferOut
from deployments.kit import Ctx, Service, ServiceSpec, internal, op, uses
from p2p.money import Currency
from storage.models.accounting import LedgerAccount, LedgerFailure, LedgerTransfer

AccountKey = Annotated[str, Field(min_length=2, max_length=60, description="kind or kind:<owner id>, e.g. "
                                  "payable:<user id>, escrow:<booking id>, revenue")]
_RETRIES = 3


class Accounting(Service):
    # The money services whose records name ledger transfers: reconcile asks each for its claims.
    payments = uses(books.ClaimSource, "payments")
    escrow = uses(books.ClaimSource, "escrow")
    payouts = uses(books.ClaimSource, "payouts")

    # -- HTTP ----------------------------------------------------------------------------
    @op("POST /accounting/entries", status=201, perm="accounting:write")
    async def entries(self, ctx: Ctx, body: ManualEntries) -> list[TransferOut]:
        """Post manual ledger entries (admin): balanced transfers, commits or voids of
        pending ones, or reversals of posted ones, all or none. Idempotent by transfer id."""
        return await self.post(body.transfers)

    @op("GET /accounting/balance", perm="accounting:read")
    async def get_balance(self, ctx: Ctx, account: AccountKey, currency: Currency,
                          at: AwareDatetime | None = None) -> BalanceOut:
        """An account's balance in one currency, now or at a point in time (`at`). A user
        reads their own payable and wallet accounts; finance reads every account."""
        try:
            kind, owner = parse_key(account)
        except ValueError as exc:
            raise BadAccount(str(exc), account=account) from None
        if not (owner is not None and owner == ctx.user_id and CHART[kind].owned_by == "user"
                or await self.can(ctx, "accounting:read:any")):
            raise AccountNotVisible("No such account.", account=account)
        return await self.balance(kind, owner, currency, at)

    @op("POST /accounting/reconcile", perm="accounting:reconcile")
    async def reconcile(self, ctx: Ctx) -> ReconcileOut:
        """Prove the books: debits equal credits per currency (posted and pending), every
        account's balance equals the sum of its entries and keeps its flags, every transfer
        balances, every pending transfer resolved at most once, and every payment, escrow
        entry and payout matches its ledger transfers. Lists each mismatch."""
        claims = await books.gather_claims([self.payments, self.escrow, self.payouts])
        async with self.uow(read=True) as uow:
            return await books.reconcile(uow.session, claims)

    @op("GET /accounting/reports", perm="accounting:read:any")
    async def reports(self, ctx: Ctx, period: Literal["day", "month"] = "month", start: AwareDatetime | None = None,
                      end: AwareDatetime | None = None) -> ReportOut:
        """Trial balance (per kind of account and currency), revenue and fees per period,
        and the money outstanding in escrow."""
        async with self.uow(read=True) as uow:
            return await books.report(uow.session, period, start, end)

    # -- for the other money services ------------------------------------------------------
    @internal
    async def post(self, transfers: list[TransferIn]) -> list[TransferOut]:
        """Make `transfers` together, all or none; idempotent by each transfer's id."""
        for t in transfers:
            ledger.check_balanced(t)
        fps = {t.id: ledger.fingerprint(t) for t in transfers}
        if len(fps) != len(transfers):
            raise IdReused("A batch names one transfer id twice.")
        for _ in range(_RETRIES):
            known = await self._known(transfers, fps)
            new = [t for t in transfers if t.id not in known]
            if not new:
                return [known[t.id].model_copy(update={"result": "exists"}) for t in transfers]
            accounts = ledger.accounts_of(new)
            if accounts:
                async with self.uow() as uow:
                    await ledger.open_accounts(uow.session, accounts)
            try:
                async with self.uow() as uow:
                    await ledger.apply(uow.session, new, fps)
            except Refused as exc:
                if await self._burn(new, fps, exc):
                    raise
                continue  # made concurrently under the same ids meanwhile: the next round answers them
            except IntegrityError:
                continue  # made concurrently under the same id (or the same pending resolved): look again
            async with self.uow(read=True) as uow:
                made = await ledger.load(uow.session, [t.id for t in transfers])
            fresh = {t.id for t in new}
            return [made[t.id].model_copy(update={"result": "created" if t.id in fresh else "exists"})
                    for t in transfers]
        raise IdReused("The transfers conflict with concurrent ones under the same ids; retry.")

    @internal
    async def transfers(self, ids: list[uuid.UUID]) -> list[TransferOut]:
        """The transfers among `ids` that exist."""
        async with self.uow(read=True) as uow:
            found = await ledger.load(uow.session, ids)
        return [found[i] for i in ids if i in found]

    @internal
    async def balance(self, kind: str, owner_id: uuid.UUID | None, currency: str,
                      at: datetime | None = None) -> BalanceOut:
        """One account's balance (zero for an account never used), now or at `at`."""
        currency = currency.upper()
        async with self.uow(read=True) as uow:
            return await books.balance(uow.session, account_id(kind, owner_id, currency), kind, owner_id,
                                       currency, at)

    @internal
    async def balances(self, kind: str, currency: str | None = None) -> list[BalanceOut]:
        """Every account of `kind` (in `currency`) with money on it."""
        async with self.uow(read=True) as uow:
            return await books.balances(uow.session, kind, currency)

    # -- helpers -----------------------------------------------------------------------------
    async def _known(self, transfers: list[TransferIn], fps: dict[uuid.UUID, str]) -> dict[uuid.UUID, TransferOut]:
        """The transfers already made under these ids; a 409 for an id made with another
        body or burned by a refusal."""
        ids = [t.id for t in transfers]
        async with self.uow(read=True) as uow:
            burned = {f.id: f for f in await uow.all(select(LedgerFailure).where(LedgerFailure.id.in_(ids)))}
            made = await ledger.load(uow.session, ids)
            fp_of = dict((await uow.session.execute(
                select(LedgerTransfer.id, LedgerTransfer.fingerprint)
                .where(LedgerTransfer.id.in_(list(made))))).all()) if made else {}
        for t in transfers:
            if t.id in made and fp_of[t.id] != fps[t.id]:
                raise IdReused(f"Transfer {t.id} exists with a different body.", id=str(t.id))
            f = burned.get(t.id)
            if f is not None:
                raise IdAlreadyFailed(f"Transfer {t.id} was refused ({f.code}): {f.detail}", id=str(t.id),
                                      reason=f.code, same_body=f.fingerprint == fps[t.id])
        return made

    async def _burn(self, new: list[TransferIn], fps: dict[uuid.UUID, str], exc: Refused) -> bool:
        """Record the refusal for every id of the batch (the one that failed with its
        reason, the rest as linked). False when the ids were made meanwhile (a concurrent
        request under the same ids won), so the caller answers those instead."""
        failed_id = str(exc.data.get("id", ""))
        try:
            async with self.uow() as uow:
                made = set(await uow.all(select(LedgerTransfer.id)
                                         .where(LedgerTransfer.id.in_([t.id for t in new]))))
                if made:
                    return False
                for t in new:
                    if await uow.get(LedgerFailure, t.id) is not None:
                        continue
                    own = str(t.id) == failed_id or len(new) == 1
                    uow.add(LedgerFailure(id=t.id, fingerprint=fps[t.id],
                                          code=exc.code if own else LinkedFailed.code,
                                          detail=(exc.message if own else f"Refused with its batch: {exc.message}")[
                                              :500]))
        except IntegrityError:
            pass  # burned concurrently with the same refusal
        return True

SPEC = ServiceSpec("Accounting Service", key="accounting", prefix="/accounting", service=Accounting,
                   models="storage.models.accounting",
                   grants={"member": ("accounting:read",),
                           "finance": ("accounting:read", "accounting:read:any", "accounting:reconcile")})

__all__ = ["SPEC", "Accounting", "LedgerAccount", "account_key"]
