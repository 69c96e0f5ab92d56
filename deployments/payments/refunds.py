"""Refunds of a payment: reserved by a conditional UPDATE (never above the capture, a CHECK
backing it), posted to the ledger (escrow:<booking> -> processor_clearing) under an id from
the refund's row, then sent to the processor; a refund the processor could not finish is
resumed by the background sweep. `Payments` inherits these."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from deployments.accounting import Accounting, TransferIn, transfer_id
from deployments.accounting.errors import ExceedsCredits, IdAlreadyFailed, Refused
from deployments.kit import Service, uses
from deployments.payments.errors import (
    FundsHeld,
    NotRefundable,
    PaymentDisputed,
    PaymentNotFound,
    ProcessorRefused,
    ProcessorUnavailable,
    RefundExceedsCaptured,
    RefundKeyReused,
)
from deployments.payments.events import PaymentRefunded
from deployments.payments.schemas import PaymentOut, RefundOut
from deployments.payments.transfers import CLEARING, OPEN_DISPUTE, escrow_of, log
from p2p.errors import ProblemError
from storage.db import utcnow
from storage.models.payments import Payment, PaymentRefund, PaymentWebhook


class Refunds(Service):
    ledger = uses(Accounting)

    async def _out(self, pid: uuid.UUID) -> PaymentOut:
        async with self.uow(read=True) as uow:
            row = await uow.repo(Payment, PaymentNotFound).get_or_404(pid, what="payment")
            return PaymentOut.model_validate(row)

    def _event_fields(self, row: Payment) -> dict[str, Any]:
        return dict(payment_id=row.id, booking_id=row.booking_id, payer_id=row.payer_id,
                    amount_minor=row.amount_minor, currency=row.currency, status=row.status)

    async def resume_refunds(self, older_than_s: int = 60) -> int:
        """Finish refunds a crash or an unavailable processor left pending."""
        async with self.uow(read=True) as uow:
            rows = await uow.all(select(PaymentRefund).where(
                PaymentRefund.status == "pending",
                PaymentRefund.updated_at <= utcnow() - timedelta(seconds=older_than_s)).limit(100))
        n = 0
        for r in rows:
            try:
                await self._complete_refund(r.id)
                n += 1
            except ProblemError as exc:
                log.warning("refund still pending", extra={"refund_id": str(r.id), "code": exc.code})
        return n

    async def _refund(self, pid: uuid.UUID, amount_minor: int | None, reason: str, *, key: str,
                      by: uuid.UUID | None) -> RefundOut:
        async with self.uow(read=True) as uow:
            known = await uow.repo(PaymentRefund).find(key=key)
        if known is not None:
            return await self._known_refund(known, pid, amount_minor)
        if amount_minor is not None and amount_minor <= 0:
            raise RefundExceedsCaptured("A refund is of a positive amount.", amount_minor=amount_minor)
        rid = uuid.uuid4()
        try:
            async with self.uow() as uow:
                p = await uow.repo(Payment, PaymentNotFound).get_or_404(pid, what="payment")
                if p.status != "succeeded":
                    raise NotRefundable(f"The payment is {p.status}; only a succeeded payment is refunded.",
                                        id=str(pid), status=p.status)
                if any(d.status in OPEN_DISPUTE for d in p.disputes):
                    raise PaymentDisputed("The payment has an open dispute; refunds wait for its outcome.",
                                          id=str(pid))
                remaining = p.captured_minor - p.refunded_minor - p.charged_back_minor
                amount = remaining if amount_minor is None else amount_minor
                if amount <= 0:
                    raise RefundExceedsCaptured("Nothing is left to refund.", id=str(pid), refundable_minor=0,
                                                captured_minor=p.captured_minor, refunded_minor=p.refunded_minor)
                # The guard is the UPDATE's WHERE clause: concurrent refunds cannot pass it together.
                res = await uow.session.execute(
                    update(Payment).where(Payment.id == pid, Payment.status == "succeeded",
                                          Payment.refunded_minor + Payment.charged_back_minor + amount
                                          <= Payment.captured_minor)
                    .values(refunded_minor=Payment.refunded_minor + amount, version=Payment.version + 1)
                    .execution_options(synchronize_session=False))
                if res.rowcount != 1:  # type: ignore[attr-defined]
                    raise RefundExceedsCaptured(
                        f"The refund exceeds what can still be refunded ({remaining} {p.currency} minor units).",
                        id=str(pid), amount_minor=amount, refundable_minor=remaining, captured_minor=p.captured_minor,
                        refunded_minor=p.refunded_minor)
                uow.add(PaymentRefund(id=rid, payment_id=pid, key=key, amount_minor=amount, currency=p.currency,
                                      reason=reason, status="pending", requested_by=by))
        except IntegrityError:
            async with self.uow(read=True) as uow:
                known = await uow.repo(PaymentRefund).find(key=key)
            if known is None:
                raise
            return await self._known_refund(known, pid, amount_minor)
        return await self._complete_refund(rid)

    async def _known_refund(self, r: PaymentRefund, pid: uuid.UUID, amount_minor: int | None) -> RefundOut:
        if r.payment_id != pid or (amount_minor is not None and amount_minor != r.amount_minor):
            raise RefundKeyReused("This refund key was used for another payment or amount.", refund_id=str(r.id))
        if r.status == "pending":
            return await self._complete_refund(r.id)
        return RefundOut.model_validate(r)

    async def _complete_refund(self, rid: uuid.UUID) -> RefundOut:
        """Ledger first (escrow -> processor_clearing, by an id derived from the refund), then
        the processor (idempotent by the refund's id), then the row and PaymentRefunded."""
        async with self.uow(read=True) as uow:
            r = await uow.repo(PaymentRefund).get(rid)
            p = await uow.repo(Payment).get(r.payment_id) if r is not None else None
        assert r is not None and p is not None
        tid = transfer_id("payment", r.id, "refund")
        try:
            await self.ledger.post([TransferIn.move(tid, debit=escrow_of(p), credit=CLEARING,
                                                    amount_minor=r.amount_minor, currency=r.currency,
                                                    code="payment.refund", ref=f"payment:{p.id}")])
        except Refused as exc:
            await self._refund_failed(r.id, exc.code)
            raise self._refusal(exc, p) from None
        except IdAlreadyFailed as exc:
            await self._refund_failed(r.id, str(exc.data.get("reason", exc.code)))
            raise self._refusal(exc, p) from None
        async with self.uow() as uow:
            row = await uow.repo(PaymentRefund).get(rid, lock=True)
            if row is not None and row.ledger_transfer_id is None:
                row.ledger_transfer_id = tid
        try:
            result = await self.provider.refund(intent_ref=p.provider_ref or "", amount_minor=r.amount_minor,
                                                key=str(r.id))
        except ProblemError as exc:
            log.error("the processor refused a refund the ledger made", extra={"refund_id": str(r.id)})
            raise ProcessorRefused(f"The processor refused the refund: {exc.message}; it stays pending.",
                                   refund_id=str(r.id)) from None
        except Exception:
            raise ProcessorUnavailable("The processor did not answer; the refund is pending and will be retried.",
                                       refund_id=str(r.id), retry_after=5) from None
        await self._refund_succeeded(r.id, result.refund_ref)
        async with self.uow(read=True) as uow:
            return RefundOut.model_validate(await uow.repo(PaymentRefund).get(rid))

    def _refusal(self, exc: ProblemError, p: Payment) -> ProblemError:
        reason = exc.data.get("reason", exc.code)
        if isinstance(exc, ExceedsCredits) or reason == ExceedsCredits.code:
            return FundsHeld("The booking's escrow holds this money for its beneficiaries; cancel the booking or "
                             "resolve the escrow first.", id=str(p.id), booking_id=str(p.booking_id))
        return exc

    async def _refund_failed(self, rid: uuid.UUID, code: str) -> None:
        """The ledger refused: the reservation goes back and the key is free for a retry."""
        async with self.uow() as uow:
            r = await uow.repo(PaymentRefund).get(rid, lock=True)
            if r is None or r.status != "pending" or r.ledger_transfer_id is not None:
                return
            r.status, r.failure_code, r.key = "failed", code[:60], None
            await uow.session.execute(update(Payment).where(Payment.id == r.payment_id)
                                      .values(refunded_minor=Payment.refunded_minor - r.amount_minor,
                                              version=Payment.version + 1)
                                      .execution_options(synchronize_session=False))

    async def _refund_succeeded(self, rid: uuid.UUID, provider_ref: str,
                                webhook: tuple[str, str] | None = None) -> bool:
        async with self.uow() as uow:
            if webhook is not None:
                uow.add(PaymentWebhook(id=webhook[0], provider=self.provider.name, type=webhook[1]))
            r = await uow.repo(PaymentRefund).get(rid, lock=True)
            if r is None or r.status != "pending":
                return False
            r.status, r.provider_ref = "succeeded", provider_ref
            p = await uow.repo(Payment).get_or_404(r.payment_id)
            uow.emit(PaymentRefunded(**self._event_fields(p), refund_id=r.id, refund_minor=r.amount_minor,
                                     refunded_minor=p.refunded_minor), entity_id=p.id, version=p.version)
        return True

