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
import uuid
from datetime import timedelta

import httpx
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from deployments.accounting import LedgerClaim, transfer_id
from deployments.bookings import Bookings
from deployments.bookings.schemas import BookingPrice
from deployments.kit import Ctx, RawRequest, ServiceSpec, crud, internal, op, uses
from deployments.payments import webhooks
from deployments.payments.errors import (
    BookingNotPayable,
    BookingUnknown,
    MethodNotFound,
    NothingToPay,
    PaymentExists,
    PaymentNotFound,
    ProcessorRefused,
    ProcessorUnavailable,
    TokenInvalid,
    TokenUsed,
    WebhookInvalid,
)
from deployments.payments.events import PAYMENT_EVENTS, ChargedPart
from deployments.payments.processor import ProcessorEvents
from deployments.payments.provider import Event, Provider
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
from deployments.payments.transfers import LOOP_LOCK, PAYABLE, Handler, capture_transfers, log
from p2p.errors import NotFound, ProblemError
from p2p.uploads import Download
from storage.db import utcnow
from storage.models.payments import Payment, PaymentDispute, PaymentMethod, PaymentRefund


class Payments(ProcessorEvents):
    bookings = uses(Bookings)

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

    async def _visible(self, ctx: Ctx, pid: uuid.UUID) -> PaymentOut:
        try:
            p = await self._out(pid)
        except PaymentNotFound:
            p = None
        if p is None or (p.payer_id != ctx.user_id and not await self.can(ctx, "payments:read:any")):
            raise PaymentNotFound("No such payment.", id=str(pid))
        return p

    # -- refunds ---------------------------------------------------------------------------------







SPEC = ServiceSpec("Payment Service", key="payments", prefix="/payments", service=Payments,
                   models="storage.models.payments", emits=PAYMENT_EVENTS,
                   grants={"sender": ("payments:read", "payments:write"),
                           "support": ("payments:read", "payments:read:any"),
                           "finance": ("payments:read", "payments:read:any", "payments:refund")})
