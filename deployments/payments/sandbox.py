"""The sandbox card processor: Stripe's test mode, in process, with its own tables
(storage.models.payments, `sandbox_*`) and its own outgoing webhook queue.

Test cards (reference.md, "Payments"); any expiry in the future, any 3-digit CVC (4 for
American Express):

    4242 4242 4242 4242  succeeds            4000 0000 0000 0259  succeeds, then a dispute (lost)
    5555 5555 5555 4444  succeeds (MC)       4000 0000 0000 2685  succeeds, then a dispute (won)
    3782 822463 10005    succeeds (Amex)     4000 0027 6000 3184  3-D Secure, then succeeds
    4000 0000 0000 0002  generic_decline     4000 0082 6000 3178  3-D Secure, then insufficient_funds
    4000 0000 0000 9995  insufficient_funds  4100 0000 0000 0019  blocked as fraud (fraudulent)
    4000 0000 0000 9979  stolen_card         4000 0000 0000 0119  processing_error
    4000 0000 0000 0069  expired_card

A card number is Luhn-checked and mapped to its behaviour when it is tokenized, then
forgotten: sandbox_cards keeps the token, brand, last4, expiry and behaviour only. Other
valid numbers are refused, as Stripe's test mode refuses real cards.

Fees, as the processor reports them with each charge (integers only): 2.9 % of the amount,
rounded half up, plus 0.30 of the currency's major unit scaled by its exponent (30 minor
units at 2 decimals, 300 at 3, 0 at 0), at most the amount. A dispute costs 15.00 scaled
the same way (1500, 15000, 15).

Everything that moves money is told as a webhook, queued in sandbox_webhooks in the same
transaction as the change and delivered in order per intent, with Standard Webhooks
signatures and retries (after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then given up).
A dispute is a chain of later events: `charge.dispute.created` is queued when the
payment's success was delivered, `charge.dispute.updated` (under_review) when that was,
then `charge.dispute.closed`; each arrives in a later delivery round."""
from __future__ import annotations

import calendar
import html
import json
import logging
import secrets
import uuid
from datetime import timedelta
from typing import Any, Awaitable, Callable

from sqlalchemy import select, update

from deployments.payments.errors import CardInvalid, IntentNotFound, NoActionPending, SandboxRefused
from deployments.payments.provider import CardInfo, Confirmation, RefundResult
from deployments.payments.webhooks import sign_headers
from p2p.money import exponent
from p2p.settings import Settings
from storage.db import Database, utcnow
from storage.models.payments import SandboxCard, SandboxIntent, SandboxRefund, SandboxWebhook

log = logging.getLogger("p2p.payments.sandbox")

TEST_CARDS: dict[str, str] = {
    "4242424242424242": "success",
    "5555555555554444": "success",
    "378282246310005": "success",
    "4000000000000002": "generic_decline",
    "4000000000009995": "insufficient_funds",
    "4000000000009979": "stolen_card",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
    "4000000000000259": "dispute_lost",
    "4000000000002685": "dispute_won",
    "4000002760003184": "3ds",
    "4000008260003178": "3ds_insufficient_funds",
    "4100000000000019": "fraudulent",
}
# behaviour -> (error code, decline code, message), Stripe's
DECLINES: dict[str, tuple[str, str, str]] = {
    "generic_decline": ("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "stolen_card": ("card_declined", "stolen_card", "Your card was declined."),
    "expired_card": ("expired_card", "expired_card", "Your card has expired."),
    "processing_error": ("processing_error", "processing_error",
                         "An error occurred while processing your card. Try again in a little bit."),
    "fraudulent": ("card_declined", "fraudulent", "Your card was declined."),
}
AUTH_FAILED = ("payment_intent_authentication_failure", None,
               "We are unable to authenticate your payment method. Please choose a different payment method.")
THREE_DS = ("3ds", "3ds_insufficient_funds")
DISPUTES = {"dispute_lost": ("fraudulent", "lost"), "dispute_won": ("product_not_received", "won")}
RETRY_S = (5, 300, 1800, 7200, 18000, 36000, 36000)  # the Standard Webhooks example schedule
WEBHOOK_PATH = "/payments/webhooks/sandbox"
Post = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in ("34", "37"):
        return "amex"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    if digits.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def processor_fee(amount_minor: int, currency: str) -> int:
    """2.9 % (half up) + 0.30 scaled to the currency's exponent, at most the amount."""
    fixed = 30 * 10 ** exponent(currency) // 100
    return min(amount_minor, (amount_minor * 290 + 5000) // 10000 + fixed)


def dispute_fee(currency: str) -> int:
    """15.00 scaled to the currency's exponent."""
    return 1500 * 10 ** exponent(currency) // 100


def _id(prefix: str) -> str:
    return f"{prefix}_sbx_{secrets.token_hex(12)}"


class Sandbox:
    """The processor (implements provider.Provider) and its test-mode pages."""

    name = "sandbox"

    def __init__(self, db: Database, settings: Settings):
        self.db, self.settings = db, settings

    # -- tokenization (Stripe.js stand-in) ------------------------------------------------------
    async def tokenize(self, number: str, exp_month: int, exp_year: int, cvc: str) -> CardInfo:
        digits = "".join(number.split())
        if not (digits.isdigit() and 12 <= len(digits) <= 19 and luhn_ok(digits)):
            raise CardInvalid("The card number is not a valid card number.", reason="incorrect_number",
                              field="number")
        now = utcnow()
        if not (1 <= exp_month <= 12) or (exp_year, exp_month) < (now.year, now.month) or exp_year > now.year + 20:
            raise CardInvalid("The card's expiry date is in the past or not a date.", reason="invalid_expiry",
                              field="exp_year")
        brand = brand_of(digits)
        if not (cvc.isdigit() and len(cvc) == (4 if brand == "amex" else 3)):
            raise CardInvalid("The card's security code is not valid.", reason="invalid_cvc", field="cvc")
        behaviour = TEST_CARDS.get(digits)
        if behaviour is None:
            raise CardInvalid("The sandbox accepts test card numbers only (see the API docs).",
                              reason="not_a_test_card", field="number")
        card = SandboxCard(token=f"tok_{secrets.token_hex(12)}", brand=brand, last4=digits[-4:], exp_month=exp_month,
                           exp_year=exp_year, behaviour=behaviour)
        async with self.db.writer() as s, s.begin():
            s.add(card)
        return CardInfo(card.token, card.brand, card.last4, card.exp_month, card.exp_year)

    async def card(self, token: str) -> CardInfo | None:
        async with self.db.reader() as s:
            c = await s.get(SandboxCard, token)
        return CardInfo(c.token, c.brand, c.last4, c.exp_month, c.exp_year) if c else None

    # -- intents ---------------------------------------------------------------------------------
    async def confirm(self, *, reference: str, token: str, amount_minor: int, currency: str,
                      return_url: str) -> Confirmation:
        async with self.db.writer() as s, s.begin():
            pi = await s.scalar(select(SandboxIntent).where(SandboxIntent.reference == reference))
            if pi is not None:  # a retry: answer what the first call did
                return self._confirmation(pi)
            card = await s.get(SandboxCard, token)
            if card is None:
                raise SandboxRefused("No such card token.", reason="invalid_token")
            now = utcnow()
            behaviour = "expired_card" if (card.exp_year, card.exp_month) < (now.year, now.month) else card.behaviour
            pi = SandboxIntent(id=_id("pi"), card_token=token, amount_minor=amount_minor, currency=currency.upper(),
                               status="requires_confirmation", behaviour=behaviour, reference=reference,
                               return_url=return_url)
            s.add(pi)
            if behaviour in DECLINES:
                self._decline(s, pi, DECLINES[behaviour])
            elif behaviour in THREE_DS:
                pi.status = "requires_action"
            else:
                self._succeed(s, pi)
            await s.flush()
            return self._confirmation(pi)

    def _confirmation(self, pi: SandboxIntent) -> Confirmation:
        if pi.status == "requires_action":
            return Confirmation("requires_action", pi.id, next_action_url=self.action_url(pi.id))
        if pi.status in ("requires_payment_method", "canceled"):
            code, decline, message = DECLINES.get(pi.behaviour, AUTH_FAILED)
            return Confirmation("declined", pi.id, charge_ref=pi.charge_id, code=code, decline_code=decline,
                                message=message)
        return Confirmation("processing", pi.id, charge_ref=pi.charge_id)

    def action_url(self, intent_id: str) -> str:
        return f"{self.settings.base_url}/payments/sandbox/3ds/{intent_id}"

    def _succeed(self, s, pi: SandboxIntent) -> None:
        pi.status, pi.charge_id = "succeeded", _id("ch")
        pi.fee_minor = processor_fee(pi.amount_minor, pi.currency)
        self._queue(s, pi, "payment_intent.succeeded", self._intent_obj(pi))

    def _decline(self, s, pi: SandboxIntent, error: tuple[str, str | None, str]) -> None:
        pi.status, pi.charge_id = "requires_payment_method", _id("ch")
        code, decline, message = error
        self._queue(s, pi, "payment_intent.payment_failed",
                    self._intent_obj(pi, error={"code": code, "decline_code": decline, "message": message}))

    def _intent_obj(self, pi: SandboxIntent, *, error: dict | None = None) -> dict[str, Any]:
        charge = None
        if pi.charge_id:
            charge = {"id": pi.charge_id, "amount": pi.amount_minor,
                      "fee": pi.fee_minor if pi.status == "succeeded" else 0,
                      "status": "succeeded" if pi.status == "succeeded" else "failed"}
        return {"id": pi.id, "object": "payment_intent", "amount": pi.amount_minor, "currency": pi.currency,
                "status": pi.status, "metadata": {"payment_id": pi.reference}, "latest_charge": charge,
                "last_payment_error": error,
                "cancellation_reason": "abandoned" if pi.status == "canceled" else None}

    async def authenticate(self, intent_id: str, outcome: str) -> SandboxIntent:
        """The payer's answer on the 3-D Secure page: `complete` or `fail`."""
        async with self.db.writer() as s, s.begin():
            pi = await s.get(SandboxIntent, intent_id, with_for_update=True)
            if pi is None:
                raise IntentNotFound("No such payment intent.", id=intent_id)
            if pi.status != "requires_action":
                raise NoActionPending(f"The payment intent is {pi.status}; it awaits no authentication.",
                                      id=intent_id, status=pi.status)
            if outcome != "complete":
                self._decline(s, pi, AUTH_FAILED)
            elif pi.behaviour == "3ds_insufficient_funds":
                self._decline(s, pi, DECLINES["insufficient_funds"])
            else:
                self._succeed(s, pi)
            await s.flush()
            return pi

    async def intent(self, intent_id: str) -> SandboxIntent:
        async with self.db.reader() as s:
            pi = await s.get(SandboxIntent, intent_id)
        if pi is None:
            raise IntentNotFound("No such payment intent.", id=intent_id)
        return pi

    async def cancel(self, intent_ref: str) -> bool:
        async with self.db.writer() as s, s.begin():
            pi = await s.get(SandboxIntent, intent_ref, with_for_update=True)
            if pi is None:
                return True
            if pi.status == "canceled":
                return True
            if pi.status not in ("requires_action", "requires_confirmation", "requires_payment_method"):
                return False
            pi.status = "canceled"
            self._queue(s, pi, "payment_intent.canceled", self._intent_obj(pi))
            return True

    async def refund(self, *, intent_ref: str, amount_minor: int, key: str) -> RefundResult:
        async with self.db.writer() as s, s.begin():
            done = await s.scalar(select(SandboxRefund).where(SandboxRefund.idempotency_key == key))
            if done is not None:
                return RefundResult(done.id, "succeeded")
            pi = await s.get(SandboxIntent, intent_ref, with_for_update=True)
            if pi is None or pi.status != "succeeded":
                raise SandboxRefused("The payment intent has no captured charge to refund.", id=intent_ref)
            res = await s.execute(update(SandboxIntent)
                                  .where(SandboxIntent.id == pi.id,
                                         SandboxIntent.refunded_minor + amount_minor <= SandboxIntent.amount_minor)
                                  .values(refunded_minor=SandboxIntent.refunded_minor + amount_minor))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise SandboxRefused("The refund exceeds the charge's unrefunded amount.", id=intent_ref)
            r = SandboxRefund(id=_id("re"), intent_id=pi.id, amount_minor=amount_minor, idempotency_key=key)
            s.add(r)
            self._queue(s, pi, "refund.created", {
                "id": r.id, "object": "refund", "payment_intent": pi.id, "charge": pi.charge_id,
                "amount": amount_minor, "currency": pi.currency, "status": "succeeded",
                "metadata": {"payment_id": pi.reference, "refund_key": key}})
            return RefundResult(r.id, "succeeded")

    # -- disputes: later events, one per delivery round --------------------------------------------
    def _follow_up(self, s, pi: SandboxIntent, delivered: str) -> None:
        if pi.behaviour not in DISPUTES:
            return
        reason, outcome = DISPUTES[pi.behaviour]
        if delivered == "payment_intent.succeeded" and pi.dispute_id is None:
            pi.dispute_id, pi.dispute_status = _id("dp"), "needs_response"
            event = "charge.dispute.created"
        elif delivered == "charge.dispute.created" and pi.dispute_status == "needs_response":
            pi.dispute_status, event = "under_review", "charge.dispute.updated"
        elif delivered == "charge.dispute.updated" and pi.dispute_status == "under_review":
            pi.dispute_status, event = outcome, "charge.dispute.closed"
        else:
            return
        self._queue(s, pi, event, {
            "id": pi.dispute_id, "object": "dispute", "payment_intent": pi.id, "charge": pi.charge_id,
            "amount": pi.amount_minor, "currency": pi.currency, "fee": dispute_fee(pi.currency), "reason": reason,
            "status": pi.dispute_status, "metadata": {"payment_id": pi.reference}})

    # -- the outgoing queue ----------------------------------------------------------------------
    def _queue(self, s, pi: SandboxIntent, type_: str, obj: dict[str, Any]) -> None:
        msg_id = f"msg_{uuid.uuid4().hex}"
        s.add(SandboxWebhook(id=msg_id, intent_id=pi.id, type=type_, next_attempt_at=utcnow(), payload={
            "id": msg_id, "object": "event", "type": type_, "created": calendar.timegm(utcnow().utctimetuple()),
            "livemode": False, "data": {"object": obj}}))

    async def pending(self) -> int:
        async with self.db.reader() as s:
            rows = (await s.scalars(select(SandboxWebhook.seq).where(SandboxWebhook.delivered_at.is_(None),
                                                                     SandboxWebhook.dead_at.is_(None)))).all()
        return len(rows)

    async def deliver(self, post: Post, *, limit: int = 200) -> int:
        """One delivery round: the queued webhooks, in order; a failed one holds back the
        later ones of its intent until its retry. Returns how many were delivered."""
        now = utcnow()
        async with self.db.reader() as s:
            rows = list((await s.scalars(
                select(SandboxWebhook).where(SandboxWebhook.delivered_at.is_(None), SandboxWebhook.dead_at.is_(None))
                .order_by(SandboxWebhook.seq).limit(limit))).all())
        url = f"{self.settings.base_url}{WEBHOOK_PATH}"
        blocked: set[str] = set()
        done = 0
        for row in rows:
            if row.intent_id in blocked:
                continue
            if row.next_attempt_at > now:
                blocked.add(row.intent_id)
                continue
            body = json.dumps(row.payload, separators=(",", ":"), sort_keys=True).encode()
            error: str | None = None
            try:
                status = await post(url, body, sign_headers(self.settings.payment_webhook_secret, row.id, body))
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except Exception as exc:  # the endpoint is down: retry later
                error = f"{type(exc).__name__}: {exc}"[:300]
            async with self.db.writer() as s, s.begin():
                w = await s.get(SandboxWebhook, row.seq, with_for_update=True)
                if w is None or w.delivered_at is not None:
                    continue
                w.attempts += 1
                if error is None:
                    w.delivered_at, w.last_error = utcnow(), None
                    pi = await s.get(SandboxIntent, w.intent_id, with_for_update=True)
                    if pi is not None:
                        self._follow_up(s, pi, w.type)
                    done += 1
                    continue
                blocked.add(row.intent_id)
                w.last_error = error
                if w.attempts > len(RETRY_S):
                    w.dead_at = utcnow()
                    log.warning("webhook given up", extra={"webhook_id": w.id, "type": w.type})
                else:
                    w.next_attempt_at = utcnow() + timedelta(seconds=RETRY_S[w.attempts - 1])
        return done

    # -- the 3-D Secure page -----------------------------------------------------------------------
    def page(self, pi: SandboxIntent) -> bytes:
        digits = exponent(pi.currency)
        whole, frac = divmod(pi.amount_minor, 10 ** digits)
        amount = f"{whole}.{frac:0{digits}d} {pi.currency}" if digits else f"{whole} {pi.currency}"
        waiting = pi.status == "requires_action"
        url = json.dumps(f"/payments/sandbox/3ds/{pi.id}").replace("<", "\\u003c")
        back = json.dumps(pi.return_url).replace("<", "\\u003c")
        buttons = ('<button onclick="answer(\'complete\')">Complete authentication</button> '
                   '<button onclick="answer(\'fail\')">Fail authentication</button>') if waiting else (
            f"<p>This payment is {html.escape(pi.status)}; nothing to authenticate.</p>")
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>3-D Secure test page</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
<h1>3-D Secure test page</h1>
<p>Sandbox: your bank asks you to confirm a payment of <strong>{html.escape(amount)}</strong>.</p>
{buttons}
<p id="result"></p>
<script>
async function answer(outcome) {{
  const r = await fetch({url}, {{method: "POST", headers: {{"Content-Type": "application/json"}},
                                  body: JSON.stringify({{outcome}})}});
  document.getElementById("result").textContent = r.ok ? "Done; returning to the merchant." : "Failed: " + r.status;
  if (r.ok) window.location = {back};
}}
</script>
</body></html>""".encode()

