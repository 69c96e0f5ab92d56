"""What the processor's verified webhooks do to a payment, each exactly once (the webhook id
is written in the transaction of its effect): capture on success (ledger first, then the
row and `payment.succeeded`), declines, cancellations (abandoned 3-D Secure), disputes
and their dispute fee, refund confirmations. `Payments` inherits these."""
from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import select

from deployments.accounting import AccountRef, TransferIn, transfer_id
from deployments.payments.errors import WebhookInvalid
from deployments.payments.events import (
    ChargedPart,
    PaymentCanceled,
    PaymentDisputeClosed,
    PaymentFailed,
    PaymentSucceeded,
)
from deployments.payments.events import PaymentDisputed as PaymentDisputedEvent
from deployments.payments.provider import DisputeObj, Event, IntentObj, RefundObj
from deployments.payments.refunds import Refunds
from deployments.payments.schemas import PaymentOut
from deployments.payments.transfers import CLEARING, LIVE, OPEN_DISPUTE, capture_transfers, dispute_uuid, log
from storage.db import utcnow
from storage.models.payments import Payment, PaymentCharge, PaymentDispute, PaymentRefund, PaymentWebhook


class ProcessorEvents(Refunds):
    async def expire_abandoned(self) -> int:
        """Cancel (abandoned) the payments left waiting for 3-D Secure past their time."""
        async with self.uow(read=True) as uow:
            ids = await uow.all(select(Payment.id).where(Payment.status == "requires_action",
                                                         Payment.action_expires_at <= utcnow()).limit(500))
        n = 0
        for pid in ids:
            n += await self._abandon(pid)
        return n

    async def _on_succeeded(self, wid: str, event: Event) -> bool:
        obj = IntentObj.model_validate(event.data.get("object"))
        p = await self._by_reference(obj)
        if p is None or p.status == "succeeded":
            await self._record(wid, event.type)
            return False
        charge = obj.latest_charge
        if charge is None or obj.amount != p.amount_minor or obj.currency.upper() != p.currency \
                or not 0 <= charge.fee <= charge.amount:
            log.error("a payment's success does not match it", extra={"payment_id": str(p.id)})
            raise WebhookInvalid("The event does not match the payment.", reason="mismatch", payment_id=str(p.id))
        await self.ledger.post(capture_transfers(p, charge.fee))
        async with self.uow() as uow:
            uow.add(PaymentWebhook(id=wid, provider=self.provider.name, type=event.type))
            row = await uow.repo(Payment).get(p.id, lock=True)
            if row is None or row.status == "succeeded":
                return False
            if row.active_booking_id is None and not await uow.repo(Payment).exists(active_booking_id=row.booking_id):
                row.active_booking_id = row.booking_id
            row.status, row.provider_ref, row.succeeded_at = "succeeded", obj.id, utcnow()
            row.captured_minor, row.fee_minor = p.amount_minor, charge.fee
            row.next_action_url = row.action_expires_at = row.cancellation_reason = row.canceled_at = None
            row.version += 1
            uow.add(PaymentCharge(id=uuid.uuid4(), payment_id=row.id, provider_ref=charge.id, status="succeeded",
                                  amount_minor=charge.amount, currency=row.currency, fee_minor=charge.fee))
            uow.emit(PaymentSucceeded(**self._event_fields(row), parts=[ChargedPart(**x) for x in row.parts]),
                     entity_id=row.id, version=row.version)
        return True

    async def _on_failed(self, wid: str, event: Event) -> bool:
        obj = IntentObj.model_validate(event.data.get("object"))
        p = await self._by_reference(obj)
        if p is None:
            await self._record(wid, event.type)
            return False
        err = obj.last_payment_error
        return await self._fail(
            p.id, err.model_dump() if err else {"code": "card_declined", "decline_code": None, "message": None},
            charge_ref=obj.latest_charge.id if obj.latest_charge else None, intent_ref=obj.id,
            webhook=(wid, event.type))

    async def _on_canceled(self, wid: str, event: Event) -> bool:
        obj = IntentObj.model_validate(event.data.get("object"))
        p = await self._by_reference(obj)
        async with self.uow() as uow:
            uow.add(PaymentWebhook(id=wid, provider=self.provider.name, type=event.type))
            row = await uow.repo(Payment).get(p.id, lock=True) if p is not None else None
            if row is None or row.status not in LIVE + ("requires_payment_method",):
                return False
            self._cancel(uow, row, obj.cancellation_reason or "requested_by_customer")
        return True

    async def _on_dispute_created(self, wid: str, event: Event) -> bool:
        obj = DisputeObj.model_validate(event.data.get("object"))
        p = await self._by_payment_ref(obj.metadata.get("payment_id"))
        did = dispute_uuid(obj.id)
        async with self.uow(read=True) as uow:
            known = await uow.get(PaymentDispute, did)
        if p is None or known is not None or p.status != "succeeded" or obj.amount <= 0:
            await self._record(wid, event.type)
            return False
        if obj.fee:
            await self.ledger.post([TransferIn.move(transfer_id("payment", did, "dispute_fee"),
                                                    debit=AccountRef(kind="dispute_fees"), credit=CLEARING,
                                                    amount_minor=obj.fee, currency=p.currency,
                                                    code="payment.dispute_fee", ref=f"payment:{p.id}")])
        async with self.uow() as uow:
            uow.add(PaymentWebhook(id=wid, provider=self.provider.name, type=event.type))
            row = await uow.repo(Payment).get_or_404(p.id)
            d = uow.add(PaymentDispute(id=did, payment_id=row.id, provider_ref=obj.id, amount_minor=obj.amount,
                                       currency=row.currency, reason=obj.reason[:40], fee_minor=obj.fee,
                                       status=obj.status if obj.status in OPEN_DISPUTE else "needs_response"))
            row.version += 1
            uow.emit(PaymentDisputedEvent(**self._event_fields(row), dispute_id=d.id, dispute_minor=d.amount_minor),
                     entity_id=row.id, version=row.version)
        return True

    async def _on_dispute_changed(self, wid: str, event: Event) -> bool:
        obj = DisputeObj.model_validate(event.data.get("object"))
        async with self.uow() as uow:
            uow.add(PaymentWebhook(id=wid, provider=self.provider.name, type=event.type))
            d = await uow.repo(PaymentDispute).get(dispute_uuid(obj.id), lock=True)
            if d is None or d.status in ("won", "lost") or obj.status == d.status:
                return False
            if obj.status in OPEN_DISPUTE:
                d.status = obj.status
                return True
            row = await uow.repo(Payment).get_or_404(d.payment_id, lock=True)
            outcome: Literal["won", "lost"] = "lost" if obj.status == "lost" else "won"
            d.status, d.closed_at = outcome, utcnow()
            if outcome == "lost":
                row.charged_back_minor += min(d.amount_minor,
                                              row.captured_minor - row.refunded_minor - row.charged_back_minor)
            row.version += 1
            uow.emit(PaymentDisputeClosed(**self._event_fields(row), dispute_id=d.id, dispute_minor=d.amount_minor,
                                          outcome=outcome), entity_id=row.id, version=row.version)
        return True

    async def _on_refund(self, wid: str, event: Event) -> bool:
        obj = RefundObj.model_validate(event.data.get("object"))
        async with self.uow(read=True) as uow:
            r = await uow.repo(PaymentRefund).find(key=obj.metadata.get("refund_key", ""))
            if r is None:
                r = await uow.repo(PaymentRefund).find(provider_ref=obj.id)
        if r is None or r.status != "pending" or r.ledger_transfer_id is None:
            await self._record(wid, event.type)
            return False
        return await self._refund_succeeded(r.id, obj.id, webhook=(wid, event.type))

    async def _processed(self, wid: str) -> bool:
        async with self.uow(read=True) as uow:
            return await uow.get(PaymentWebhook, wid) is not None

    async def _record(self, wid: str, type_: str) -> None:
        async with self.uow() as uow:
            uow.add(PaymentWebhook(id=wid, provider=self.provider.name, type=type_))

    async def _by_reference(self, obj: IntentObj) -> Payment | None:
        return await self._by_payment_ref(obj.metadata.get("payment_id"))

    async def _by_payment_ref(self, ref: str | None) -> Payment | None:
        try:
            pid = uuid.UUID(ref or "")
        except ValueError:
            return None
        async with self.uow(read=True) as uow:
            return await uow.repo(Payment).get(pid)

    async def _fail(self, pid: uuid.UUID, error: dict[str, Any], *, charge_ref: str | None,
                    intent_ref: str | None = None, webhook: tuple[str, str] | None = None) -> bool:
        """A live payment was declined: back to requires_payment_method, the booking free for
        another payment, PaymentFailed. False if it was no longer live."""
        async with self.uow() as uow:
            if webhook is not None:
                uow.add(PaymentWebhook(id=webhook[0], provider=self.provider.name, type=webhook[1]))
            row = await uow.repo(Payment).get(pid, lock=True)
            if row is None or row.status not in LIVE:
                return False
            row.status, row.last_error, row.active_booking_id = "requires_payment_method", error, None
            row.next_action_url = row.action_expires_at = None
            row.provider_ref = row.provider_ref or intent_ref
            row.version += 1
            if charge_ref and not await uow.repo(PaymentCharge).exists(provider_ref=charge_ref):
                uow.add(PaymentCharge(id=uuid.uuid4(), payment_id=row.id, provider_ref=charge_ref, status="failed",
                                      amount_minor=row.amount_minor, currency=row.currency,
                                      failure_code=str(error.get("code"))[:40],
                                      decline_code=(error.get("decline_code") or None)))
            uow.emit(PaymentFailed(**self._event_fields(row), reason=str(error.get("decline_code") or error["code"])),
                     entity_id=row.id, version=row.version)
        return True

    def _cancel(self, uow, row: Payment, reason: str) -> None:
        row.status, row.cancellation_reason, row.canceled_at = "canceled", reason[:32], utcnow()
        row.active_booking_id = row.next_action_url = row.action_expires_at = None
        row.version += 1
        uow.emit(PaymentCanceled(**self._event_fields(row), reason=reason), entity_id=row.id, version=row.version)

    async def _lapsed(self, p: PaymentOut) -> bool:
        return (p.status == "requires_action" and p.next_action is not None
                and p.next_action.expires_at is not None and p.next_action.expires_at <= utcnow())

    async def _abandon(self, pid: uuid.UUID) -> int:
        """Cancel a payment abandoned at 3-D Secure, at the processor first: if the payer
        finished meanwhile, the processor says so and its webhook decides instead."""
        async with self.uow(read=True) as uow:
            p = await uow.repo(Payment).get(pid)
        if p is None or p.status != "requires_action":
            return 0
        if p.provider_ref and not await self.provider.cancel(p.provider_ref):
            return 0
        async with self.uow() as uow:
            row = await uow.repo(Payment).get(pid, lock=True)
            if row is None or row.status != "requires_action":
                return 0
            self._cancel(uow, row, "abandoned")
        return 1

