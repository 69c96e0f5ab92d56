"""Payment Service (spec 9.19): card payments for bookings through a processor (the sandbox,
sandbox.py, behind the provider.Provider interface), captured into the booking's escrow
account in the ledger, refunded from it, and disputed.

- Payment methods are processor tokens (brand, last4, expiry); a card number never reaches
  the platform's tables (the sandbox tokenizes it, `POST /payments/sandbox/tokens`).
- A payment is a Stripe-like intent, for the booking's sender, of the amount and parts the
  Booking Service prices. One live payment per booking (`payments.active_booking_id` is
  UNIQUE): a second is a 409 unless the first was declined or canceled.
- What moves money arrives as a signed webhook (`POST /payments/webhooks/sandbox`, Standard
  Webhooks): verified over the raw body, processed exactly once (the webhook id is written
  in the transaction of its effect; a replay answers 200 and does nothing).
- Ledger transfers are posted before this service's own rows change and outside its
  transactions, under ids derived from its records (`transfer_id("payment", ...)`), so a
  retry finds the transfer it made: capture processor_clearing -> escrow:<booking> with the
  processor's fee processor_fees <- processor_clearing; a refund escrow:<booking> ->
  processor_clearing; a dispute's fee dispute_fees <- processor_clearing.
- Refunds never exceed the capture: a conditional UPDATE reserves each one (and a CHECK
  backs it), released again if the ledger refuses (`payment.funds_held` while the escrow
  holds the money for its beneficiaries).
- A payment waiting for 3-D Secure longer than `payment_action_ttl_s` is canceled as
  abandoned when next read, or by the sweep of the background loop.

In the Serve topologies the payments replica runs a background loop that delivers the
sandbox's queued webhooks to `{base_url}/payments/webhooks/sandbox` over HTTP and sweeps
abandoned payments; in tests and `LocalPlatform` the caller drives both
(`LocalPlatform.deliver_webhooks()`, `Payments.expire_abandoned()`)."""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any, Awaitable, Callable, Literal

import httpx
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from deployments.accounting import Accounting, AccountRef, LedgerClaim, TransferIn, transfer_id
from deployments.accounting.errors import ExceedsCredits, IdAlreadyFailed, Refused
from deployments.bookings import Bookings
from deployments.bookings.schemas import BookingPrice
from deployments.kit import Ctx, RawRequest, Service, ServiceSpec, crud, internal, op, uses
from deployments.payments import webhooks
from deployments.payments.errors import (
    BookingNotPayable,
    BookingUnknown,
    FundsHeld,
    MethodNotFound,
    NothingToPay,
    NotRefundable,
    PaymentDisputed,
    PaymentExists,
    PaymentNotFound,
    ProcessorRefused,
    ProcessorUnavailable,
    RefundExceedsCaptured,
    RefundKeyReused,
    TokenInvalid,
    TokenUsed,
    WebhookInvalid,
)
from deployments.payments.events import (
    PAYMENT_EVENTS,
    ChargedPart,
    PaymentCanceled,
    PaymentDisputeClosed,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from deployments.payments.events import PaymentDisputed as PaymentDisputedEvent
from deployments.payments.provider import DisputeObj, Event, IntentObj, Provider, RefundObj
from deployments.payments.sandbox import Sandbox
from deployments.payments.schemas import (
    CardOut,
    IntentRef,
    MethodCreate,
    MethodOut,
    PaymentCreate,
    PaymentOut,
    RefundIn,
    RefundOut,
    ThreeDSIn,
    ThreeDSOut,
    TokenCreate,
    TokenOut,
    WebhookAck,
)
from p2p.errors import NotFound, ProblemError
from p2p.uploads import Download
from storage.db import utcnow
from storage.models.payments import (
    Payment,
    PaymentCharge,
    PaymentDispute,
    PaymentMethod,
    PaymentRefund,
    PaymentWebhook,
)

log = logging.getLogger("p2p.payments")
PAYABLE = ("pending", "confirmed")
LIVE = ("requires_confirmation", "requires_action", "processing")  # not finished, money not moved yet
OPEN_DISPUTE = ("needs_response", "under_review")
_NS = uuid.UUID("7d0f5a3e-2b64-4c8e-9f1d-5e6a7b8c9d0e")
LOOP_LOCK = "payments:sandbox:deliverer"
Handler = Callable[[str, Event], Awaitable[bool]]


def dispute_uuid(provider_ref: str) -> uuid.UUID:
    """The platform's id of a processor's dispute: the same on every redelivery."""
    return uuid.uuid5(_NS, f"dispute:{provider_ref}")


def escrow_of(p: Any) -> AccountRef:
    return AccountRef(kind="escrow", owner_id=p.booking_id)


CLEARING = AccountRef(kind="processor_clearing")


def capture_transfers(p: Any, fee_minor: int) -> list[TransferIn]:
    """The capture into the booking's escrow account and the processor's fee on it."""
    ref = f"payment:{p.id}"
    out = [TransferIn.move(transfer_id("payment", p.id, "capture"), debit=CLEARING, credit=escrow_of(p),
                           amount_minor=p.amount_minor, currency=p.currency, code="payment.capture", ref=ref)]
    if fee_minor:
        out.append(TransferIn.move(transfer_id("payment", p.id, "fee"), debit=AccountRef(kind="processor_fees"),
                                   credit=CLEARING, amount_minor=fee_minor, currency=p.currency,
                                   code="payment.processor_fee", ref=ref))
    return out


class Payments(Service):
    bookings = uses(Bookings)
    ledger = uses(Accounting)

    def __init__(self, runtime):
        super().__init__(runtime)
        self.sandbox = Sandbox(runtime.db, runtime.settings)
        self.provider: Provider = self.sandbox
        self._loop: asyncio.Task | None = None
        self._handlers: dict[str, Handler] = {
            "payment_intent.succeeded": self._on_succeeded,
            "payment_intent.payment_failed": self._on_failed,
            "payment_intent.canceled": self._on_canceled,
            "charge.dispute.created": self._on_dispute_created,
            "charge.dispute.updated": self._on_dispute_changed,
            "charge.dispute.closed": self._on_dispute_changed,
            "refund.created": self._on_refund,
        }

    async def startup(self) -> None:
        if self.rt.under_ray and self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._background())

    # -- the sandbox processor's own endpoints (Stripe.js and the bank's 3-D Secure page) ----------
    @op("POST /payments/sandbox/tokens", status=201, public=True)
    async def tokenize(self, ctx: Ctx, body: TokenCreate) -> TokenOut:
        """Sandbox only, standing in for Stripe.js: turn test card details into a card token
        (refused: a number failing the Luhn check, a past expiry, a bad CVC, a non-test
        card: 422 `sandbox.card_invalid`). The number is checked and forgotten; only the
        processor keeps brand, last4 and expiry."""
        card = await self.sandbox.tokenize(body.number, body.exp_month, body.exp_year, body.cvc)
        return TokenOut(id=card.token, card=CardOut(brand=card.brand, last4=card.last4, exp_month=card.exp_month,
                                                    exp_year=card.exp_year))

    @op("GET /payments/sandbox/3ds/{intent_id}", public=True, files=("text/html",))
    async def three_ds_page(self, ctx: Ctx, intent_id: IntentRef) -> Download:
        """Sandbox only: the bank's 3-D Secure page a payment's `next_action.url` points at,
        with buttons to complete or fail the authentication."""
        return Download(self.sandbox.page(await self.sandbox.intent(intent_id)), "text/html; charset=utf-8")

    @op("POST /payments/sandbox/3ds/{intent_id}", public=True)
    async def three_ds(self, ctx: Ctx, intent_id: IntentRef, body: ThreeDSIn) -> ThreeDSOut:
        """Sandbox only: answer the 3-D Secure challenge (`complete` or `fail`). The
        outcome reaches the platform as a webhook; a 409 `sandbox.no_action_pending` when
        the intent awaits no authentication."""
        pi = await self.sandbox.authenticate(intent_id, body.outcome)
        return ThreeDSOut(intent_id=pi.id, status=pi.status, return_url=pi.return_url)

    # -- incoming webhooks ---------------------------------------------------------------------
    @op("POST /payments/webhooks/sandbox", public=True)
    async def webhook(self, ctx: Ctx, raw: RawRequest) -> WebhookAck:
        """The processor's signed events (Standard Webhooks v1: `webhook-id`,
        `webhook-timestamp`, `webhook-signature` over the raw body). A bad signature or a
        timestamp outside the tolerance is a 400 `payment.webhook_invalid` that changes
        nothing; a webhook id processed before answers 200 with `duplicate` and does nothing."""
        data = webhooks.verify(self.settings.payment_webhook_secret, raw.body, raw.headers,
                               tolerance_s=self.settings.payment_webhook_tolerance_s)
        wid = raw.headers["webhook-id"]
        try:
            event = Event.model_validate(data)
        except ValidationError:
            raise WebhookInvalid("The webhook body is not an event.", reason="bad_body") from None
        if await self._processed(wid):
            return WebhookAck(duplicate=True)
        handler = self._handlers.get(event.type)
        try:
            if handler is None:
                await self._record(wid, event.type)
                return WebhookAck(ignored=True)
            return WebhookAck(ignored=not await handler(wid, event))
        except IntegrityError:
            if await self._processed(wid):  # a concurrent delivery of the same webhook won
                return WebhookAck(duplicate=True)
            raise
        except ValidationError:
            raise WebhookInvalid("The webhook's object is malformed.", reason="bad_object", type=event.type) from None

    # -- payment methods -------------------------------------------------------------------------
    @op("POST /payments/methods", status=201, perm="payments:write")
    async def add_method(self, ctx: Ctx, body: MethodCreate) -> MethodOut:
        """Store a card token as one of the caller's payment methods (brand, last4 and
        expiry, from the processor). A token is stored once (409 `payment.token_used`); an
        unknown token is a 422 `payment.token_invalid`."""
        card = await self.provider.card(body.token)
        if card is None:
            raise TokenInvalid("The processor knows no such card token.", field="token")
        try:
            async with self.uow() as uow:
                if await uow.repo(PaymentMethod).exists(token=card.token):
                    raise TokenUsed("This card token is stored already; tokenize the card again.")
                row = uow.add(PaymentMethod(id=uuid.uuid4(), owner_id=ctx.user_id, provider=self.provider.name,
                                            token=card.token, brand=card.brand, last4=card.last4,
                                            exp_month=card.exp_month, exp_year=card.exp_year))
                await uow.flush()
                return MethodOut.model_validate(row)
        except IntegrityError:
            raise TokenUsed("This card token is stored already; tokenize the card again.") from None

    methods = crud.list_mine("GET /payments/methods", PaymentMethod, MethodOut, perm="payments:read",
                             doc="The caller's own payment methods (brand, last4, expiry), oldest first.")

    # -- payments --------------------------------------------------------------------------------
    @op("POST /payments", status=201, perm="payments:write")
    async def create(self, ctx: Ctx, body: PaymentCreate) -> PaymentOut:
        """Pay for one's own pending or confirmed booking with one's payment method: the
        amount and parts are the booking's price. Answers the payment: `processing` until
        the processor's webhook says `succeeded`; `requires_action` with `next_action` (a
        3-D Secure page) for cards that ask for it; `requires_payment_method` with
        `last_error` when declined. A booking with a live or succeeded payment is a 409
        `payment.exists`. Honours Idempotency-Key."""
        price = await self._price(ctx, body.booking_id)
        async with self.uow(read=True) as uow:
            method = await uow.repo(PaymentMethod).get(body.payment_method_id)
        if method is None or method.owner_id != ctx.user_id:
            raise MethodNotFound("No such payment method.", id=str(body.payment_method_id))
        pid = uuid.uuid4()
        parts = [ChargedPart(kind=p.kind, beneficiary_id=p.beneficiary_id, leg_seq=p.leg_seq,
                             amount_minor=p.amount_minor).model_dump(mode="json") for p in price.parts]
        try:
            async with self.uow() as uow:
                other = await uow.repo(Payment).find(active_booking_id=price.booking_id)
                if other is not None:
                    raise PaymentExists(f"The booking has a payment that is {other.status}.",
                                        payment_id=str(other.id), status=other.status)
                uow.add(Payment(id=pid, booking_id=price.booking_id, active_booking_id=price.booking_id,
                                payer_id=ctx.user_id, method_id=method.id, amount_minor=price.total_minor,
                                currency=price.currency, status="requires_confirmation", parts=parts,
                                provider=self.provider.name))
        except IntegrityError:
            raise PaymentExists("The booking has a payment already.", booking_id=str(price.booking_id)) from None
        try:
            result = await self.provider.confirm(reference=str(pid), token=method.token,
                                                 amount_minor=price.total_minor, currency=price.currency,
                                                 return_url=f"{self.settings.base_url}/payments/{pid}")
        except ProblemError as exc:
            await self._fail(pid, {"code": "processor_refused", "decline_code": None, "message": exc.message},
                             charge_ref=None)
            raise ProcessorRefused(f"The processor refused the payment: {exc.message}", id=str(pid)) from None
        except Exception:
            log.exception("processor unavailable", extra={"payment_id": str(pid)})
            await self._fail(pid, {"code": "processor_unavailable", "decline_code": None,
                                   "message": "The processor did not answer."}, charge_ref=None)
            raise ProcessorUnavailable("The payment processor did not answer; retry.", retry_after=2) from None
        if result.status == "declined":
            await self._fail(pid, {"code": result.code or "card_declined", "decline_code": result.decline_code,
                                   "message": result.message}, charge_ref=result.charge_ref,
                             intent_ref=result.intent_ref)
        else:
            async with self.uow() as uow:
                row = await uow.repo(Payment).get(pid, lock=True)
                if row is not None and row.status == "requires_confirmation":  # a webhook may have been first
                    row.provider_ref = result.intent_ref
                    if result.status == "requires_action":
                        row.status, row.next_action_url = "requires_action", result.next_action_url
                        row.action_expires_at = utcnow() + timedelta(seconds=self.settings.payment_action_ttl_s)
                    else:
                        row.status = "processing"
                    row.version += 1
        return await self._out(pid)

    mine = crud.list_mine("GET /payments", Payment, PaymentOut, perm="payments:read", owner="payer_id",
                          doc="The caller's own payments, oldest first.")

    @op("GET /payments/{id}", perm="payments:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> PaymentOut:
        """A payment, for its payer and for support and finance (payments:read:any); a 404
        for anyone else. A payment left waiting for 3-D Secure past its time is canceled
        as abandoned when read."""
        p = await self._visible(ctx, id)
        if await self._lapsed(p):
            await self._abandon(p.id)
            p = await self._out(id)
        return p

    @op("POST /payments/{id}/refund", status=201, perm="payments:refund")
    async def refund_payment(self, ctx: Ctx, id: uuid.UUID, body: RefundIn) -> RefundOut:
        """Refund a succeeded payment, all that is not refunded yet or `amount_minor` of it
        (finance and admins: payments:refund). Never above what was captured less
        refunds and chargebacks (409 `payment.refund_exceeds_captured`), also under
        concurrent requests; a 409 `payment.funds_held` while the booking's escrow holds the
        money for its beneficiaries (cancel the booking or resolve the escrow); a 409
        `payment.disputed` during a dispute. Honours Idempotency-Key."""
        await self._visible(ctx, id)
        return await self._refund(id, body.amount_minor, body.reason, key=f"http:{uuid.uuid4()}", by=ctx.user_id)

    # -- for the other services ------------------------------------------------------------------
    @internal
    async def view(self, payment_id: uuid.UUID) -> PaymentOut:
        """A payment (404 `payment.not_found`)."""
        return await self._out(payment_id)

    @internal
    async def for_booking(self, booking_id: uuid.UUID) -> PaymentOut | None:
        """The booking's succeeded payment, or None."""
        async with self.uow(read=True) as uow:
            row = await uow.repo(Payment).find(booking_id=booking_id, status="succeeded")
            return PaymentOut.model_validate(row) if row is not None else None

    @internal
    async def refund(self, payment_id: uuid.UUID, amount_minor: int, reason: str, key: str) -> RefundOut:
        """Refund `amount_minor` of a succeeded payment (the Escrow Service, after voiding its
        holds), idempotent by `key`: the same key answers the same refund, and resumes one
        a crash interrupted."""
        return await self._refund(payment_id, amount_minor, reason[:40], key=key[:200], by=None)

    @internal
    async def ledger_claims(self) -> list[LedgerClaim]:
        """The ledger transfers this service's records say it made, each expected posted:
        captures and processor fees of succeeded payments, refunds, dispute fees."""
        async with self.uow(read=True) as uow:
            paid = await uow.all(select(Payment).where(Payment.captured_minor > 0))
            refunds = await uow.all(select(PaymentRefund).where(PaymentRefund.ledger_transfer_id.is_not(None)))
            disputes = await uow.all(select(PaymentDispute).where(PaymentDispute.fee_minor > 0))
        claims = []
        for p in paid:
            for t in capture_transfers(p, p.fee_minor):
                claims.append(LedgerClaim(transfer_id=t.id, state="posted", amount_minor=t.entries[0].amount_minor,
                                          currency=p.currency, source="payments", subject=f"payment:{p.id}"))
        for r in refunds:
            claims.append(LedgerClaim(transfer_id=r.ledger_transfer_id, state="posted", amount_minor=r.amount_minor,
                                      currency=r.currency, source="payments", subject=f"payment_refund:{r.id}"))
        for d in disputes:
            claims.append(LedgerClaim(transfer_id=transfer_id("payment", d.id, "dispute_fee"), state="posted",
                                      amount_minor=d.fee_minor, currency=d.currency, source="payments",
                                      subject=f"payment_dispute:{d.id}"))
        return claims

    # -- background work (the Serve replica's loop; tests call these directly) -------------------
    async def deliver_webhooks(self, http: httpx.AsyncClient | None = None) -> int:
        """One delivery round of the sandbox's queued webhooks, POSTed through `http` (the
        platform's public URL by default). Returns how many were delivered."""
        async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
            assert http is not None
            return (await http.post(url, content=body, headers=headers)).status_code

        if http is None:
            async with httpx.AsyncClient(timeout=10) as http:
                return await self.sandbox.deliver(post)
        return await self.sandbox.deliver(post)

    async def expire_abandoned(self) -> int:
        """Cancel (abandoned) the payments left waiting for 3-D Secure past their time."""
        async with self.uow(read=True) as uow:
            ids = await uow.all(select(Payment.id).where(Payment.status == "requires_action",
                                                         Payment.action_expires_at <= utcnow()).limit(500))
        n = 0
        for pid in ids:
            n += await self._abandon(pid)
        return n

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

    async def _background(self) -> None:
        """Deliver webhooks and sweep, in one replica at a time (a KV lease)."""
        rounds = 0
        async with httpx.AsyncClient(timeout=10) as http:
            while True:
                delivered = 0
                try:
                    if await self.kv.set(LOOP_LOCK, b"1", ttl=30, nx=True):
                        try:
                            delivered = await self.deliver_webhooks(http)
                            if rounds % 30 == 0:
                                await self.expire_abandoned()
                                await self.resume_refunds()
                        finally:
                            await self.kv.delete(LOOP_LOCK)
                    rounds += 1
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("payments background round failed")
                await asyncio.sleep(0 if delivered else 1)

    # -- webhook handlers: True if the event changed something -------------------------------------
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

    # -- helpers ---------------------------------------------------------------------------------
    async def _price(self, ctx: Ctx, booking_id: uuid.UUID) -> BookingPrice:
        try:
            price = await self.bookings.price(booking_id)
        except NotFound:
            raise BookingUnknown("No such booking.", id=str(booking_id)) from None
        if price.sender_id != ctx.user_id:
            raise BookingUnknown("No such booking.", id=str(booking_id))
        if price.status not in PAYABLE:
            raise BookingNotPayable(f"The booking is {price.status}; only a pending or confirmed booking is paid.",
                                    id=str(booking_id), status=price.status)
        if price.total_minor <= 0:
            raise NothingToPay("The booking's price is zero.", id=str(booking_id))
        return price

    async def _out(self, pid: uuid.UUID) -> PaymentOut:
        async with self.uow(read=True) as uow:
            row = await uow.repo(Payment, PaymentNotFound).get_or_404(pid, what="payment")
            return PaymentOut.model_validate(row)

    async def _visible(self, ctx: Ctx, pid: uuid.UUID) -> PaymentOut:
        try:
            p = await self._out(pid)
        except PaymentNotFound:
            p = None
        if p is None or (p.payer_id != ctx.user_id and not await self.can(ctx, "payments:read:any")):
            raise PaymentNotFound("No such payment.", id=str(pid))
        return p

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

    def _event_fields(self, row: Payment) -> dict[str, Any]:
        return dict(payment_id=row.id, booking_id=row.booking_id, payer_id=row.payer_id,
                    amount_minor=row.amount_minor, currency=row.currency, status=row.status)

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

    # -- refunds ---------------------------------------------------------------------------------
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


SPEC = ServiceSpec("Payment Service", key="payments", prefix="/payments", service=Payments,
                   models="storage.models.payments", emits=PAYMENT_EVENTS,
                   grants={"sender": ("payments:read", "payments:write"),
                           "support": ("payments:read", "payments:read:any"),
                           "finance": ("payments:read", "payments:read:any", "payments:refund")})
