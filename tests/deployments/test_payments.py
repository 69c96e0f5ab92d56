"""Payment Service over HTTP: card payments through the sandbox processor and its signed
webhooks, 3-D Secure, declines, disputes, refunds against the ledger, access and bad input."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from deployments.accounting import transfer_id
from deployments.kit import Ctx
from deployments.payments import processor as payments_module
from deployments.payments.errors import RefundKeyReused
from deployments.payments.sandbox import TEST_CARDS, dispute_fee, processor_fee
from deployments.payments.webhooks import sign_headers
from storage.db import sync_url, utcnow
from storage.models.events import OutboxEvent
from storage.models.payments import SandboxWebhook
from tests.factories.common import problem
from tests.factories.identity import signed_up, user_with
from tests.factories.payments import card_method, pay, payable_booking, tokenize
from tests.factories.trips import Clock

AMOUNT = 3300  # 2 kg at 15.00/kg = 30.00, plus the platform's 10 %
WEBHOOK = "/payments/webhooks/sandbox"


def svc(platform):
    return platform.runtime.services["payments"]


def ledger(platform):
    return platform.runtime.services["accounting"]


def escrow_balance(call, platform, booking_id: str, currency: str = "GBP") -> int:
    return call(ledger(platform).balance, "escrow", uuid.UUID(booking_id), currency).balance_minor


def events(platform, topic: str, payment_id: str) -> list[dict]:
    engine = create_engine(sync_url(platform.runtime.settings.effective_database_url))
    with Session(engine) as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic, OutboxEvent.entity_id == payment_id)
                         .order_by(OutboxEvent.seq)).all()
        out = [r.payload for r in rows]
    engine.dispose()
    return out


def queued(platform, payment_id: str) -> list[SandboxWebhook]:
    """The sandbox's outgoing webhooks about one payment, in order."""
    engine = create_engine(sync_url(platform.runtime.settings.effective_database_url))
    with Session(engine) as s:
        rows = [r for r in s.scalars(select(SandboxWebhook).order_by(SandboxWebhook.seq)).all()
                if r.payload["data"]["object"].get("metadata", {}).get("payment_id") == payment_id]
        s.expunge_all()
    engine.dispose()
    return rows


def paid(client, call, platform, number: str = "4242424242424242", **trip_kw) -> dict:
    """A booking paid with `number`: {sh, booking, method, payment} (the payment as created)."""
    su, sh, b = payable_booking(client, call, platform, **trip_kw)
    m = card_method(client, sh, number)
    r = pay(client, sh, b["id"], m["id"])
    assert r.status_code == 201, r.text
    return {"sender": su, "sh": sh, "booking": b, "method": m, "payment": r.json()}


def get(client, w) -> dict:
    r = client.get(f"/payments/{w['payment']['id']}", headers=w["sh"])
    assert r.status_code == 200, r.text
    return r.json()


def succeeded(client, call, platform, deliver) -> dict:
    w = paid(client, call, platform)
    assert deliver() >= 1
    assert get(client, w)["status"] == "succeeded"
    return w


def unescrowed(client, call, platform, deliver) -> dict:
    """A succeeded payment the Escrow Service never opens (its success is marked relayed):
    for the Payment Service's own refund rules, as in the window before the escrow opens.
    Refunding a payment the escrow would then open leaves its opening nothing to hold."""
    w = succeeded(client, call, platform, deliver)
    engine = create_engine(sync_url(platform.runtime.settings.effective_database_url))
    with Session(engine) as s, s.begin():
        s.execute(update(OutboxEvent).where(OutboxEvent.entity_id == w["payment"]["id"],
                                            OutboxEvent.topic == "payment.succeeded").values(relayed_at=utcnow()))
    engine.dispose()
    return w


def post_signed(client, body: bytes, msg_id: str | None = None, *, secret: str | None = None, at: int | None = None,
                settings=None):
    headers = sign_headers(secret or settings.payment_webhook_secret, msg_id or f"msg_{uuid.uuid4().hex}", body,
                           at=at)
    return client.post(WEBHOOK, content=body, headers=headers)


class TestSuccess:
    def test_a_payment_is_processing_until_the_signed_webhook_captures_it_into_escrow(self, client, call, platform,
                                                                                      deliver):
        w = paid(client, call, platform)
        p = w["payment"]
        assert p["status"] == "processing" and p["amount_minor"] == AMOUNT and p["currency"] == "GBP"
        assert [x["kind"] for x in p["parts"]] == ["carrier", "platform_fee"]
        assert sum(x["amount_minor"] for x in p["parts"]) == AMOUNT
        assert escrow_balance(call, platform, w["booking"]["id"]) == 0
        assert events(platform, "payment.succeeded", p["id"]) == []

        assert deliver() == 1
        p = get(client, w)
        fee = processor_fee(AMOUNT, "GBP")
        assert p["status"] == "succeeded" and p["captured_minor"] == AMOUNT and p["fee_minor"] == fee == 126
        assert escrow_balance(call, platform, w["booking"]["id"]) == AMOUNT
        capture, fee_t = call(ledger(platform).transfers, [transfer_id("payment", p["id"], "capture"),
                                                           transfer_id("payment", p["id"], "fee")])
        assert capture.amount_minor == AMOUNT and capture.code == "payment.capture"
        assert fee_t.amount_minor == fee and {e.kind for e in fee_t.entries} == {"processor_fees",
                                                                                 "processor_clearing"}
        [ev] = events(platform, "payment.succeeded", p["id"])
        assert ev["amount_minor"] == AMOUNT and ev["booking_id"] == w["booking"]["id"] and len(ev["parts"]) == 2
        assert deliver() == 0

    def test_the_internals_and_the_ledger_claims_agree(self, client, call, platform, deliver):
        w = succeeded(client, call, platform, deliver)
        pid = uuid.UUID(w["payment"]["id"])
        assert call(svc(platform).view, pid).status == "succeeded"
        assert call(svc(platform).for_booking, uuid.UUID(w["booking"]["id"])).id == pid
        assert call(svc(platform).for_booking, uuid.uuid4()) is None
        claims = [c for c in call(svc(platform).ledger_claims) if c.subject == f"payment:{pid}"]
        assert {c.amount_minor for c in claims} == {AMOUNT, 126} and {c.state for c in claims} == {"posted"}
        made = call(ledger(platform).transfers, [c.transfer_id for c in claims])
        assert sorted(t.amount_minor for t in made) == sorted(c.amount_minor for c in claims)

    def test_a_booking_has_one_live_payment_and_idempotency_keys_replay(self, client, call, platform):
        su, sh, b = payable_booking(client, call, platform)
        m = card_method(client, sh)
        first = pay(client, sh, b["id"], m["id"], **{"Idempotency-Key": "pay-1"})
        again = pay(client, sh, b["id"], m["id"], **{"Idempotency-Key": "pay-1"})
        assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
        assert again.headers.get("idempotent-replayed") == "true"
        r = pay(client, sh, b["id"], m["id"])
        problem(r, 409, "payment.exists")
        assert r.json()["data"]["payment_id"] == first.json()["id"]

    def test_methods_are_tokens_with_brand_and_last4_only(self, client):
        _, h = signed_up(client)
        m = card_method(client, h, "5555555555554444")
        assert m["brand"] == "mastercard" and m["last4"] == "4444" and "token" not in m
        listed = client.get("/payments/methods", headers=h).json()["items"]
        assert [x["id"] for x in listed] == [m["id"]]
        _, other = signed_up(client)
        assert client.get("/payments/methods", headers=other).json()["items"] == []


DECLINES = [
    ("4000000000000002", "card_declined", "generic_decline"),
    ("4000000000009995", "card_declined", "insufficient_funds"),
    ("4000000000009979", "card_declined", "stolen_card"),
    ("4000000000000069", "expired_card", "expired_card"),
    ("4000000000000119", "processing_error", "processing_error"),
    ("4100000000000019", "card_declined", "fraudulent"),
]


class TestDeclines:
    @pytest.mark.parametrize("number,code,decline", DECLINES, ids=[d[2] for d in DECLINES])
    def test_a_declined_card_returns_the_payment_to_requires_payment_method(self, client, call, platform, deliver,
                                                                            number, code, decline):
        w = paid(client, call, platform, number)
        p = w["payment"]
        assert p["status"] == "requires_payment_method"
        assert p["last_error"]["code"] == code and p["last_error"]["decline_code"] == decline
        assert p["captured_minor"] == 0
        [ev] = events(platform, "payment.failed", p["id"])
        assert ev["reason"] == decline
        deliver()  # the processor's payment_failed webhook changes nothing more
        assert get(client, w)["status"] == "requires_payment_method"
        assert len(events(platform, "payment.failed", p["id"])) == 1
        assert escrow_balance(call, platform, w["booking"]["id"]) == 0

    def test_after_a_decline_the_booking_is_paid_with_another_card(self, client, call, platform, deliver):
        w = paid(client, call, platform, "4000000000009995")
        good = card_method(client, w["sh"])
        r = pay(client, w["sh"], w["booking"]["id"], good["id"])
        assert r.status_code == 201 and r.json()["status"] == "processing", r.text
        deliver()
        assert client.get(f"/payments/{r.json()['id']}", headers=w["sh"]).json()["status"] == "succeeded"
        assert escrow_balance(call, platform, w["booking"]["id"]) == AMOUNT


class TestThreeDSecure:
    def test_completed_authentication_succeeds(self, client, call, platform, deliver):
        w = paid(client, call, platform, "4000002760003184")
        p = w["payment"]
        assert p["status"] == "requires_action" and p["next_action"]["type"] == "redirect_to_url"
        path = p["next_action"]["url"].removeprefix(platform.runtime.settings.base_url)
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "33.00 GBP" in page.text
        r = client.post(path, json={"outcome": "complete"})
        assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
        assert get(client, w)["status"] == "requires_action"  # until the webhook arrives
        deliver()
        assert get(client, w)["status"] == "succeeded"
        assert escrow_balance(call, platform, w["booking"]["id"]) == AMOUNT
        problem(client.post(path, json={"outcome": "complete"}), 409, "sandbox.no_action_pending")

    def test_failed_authentication_is_a_decline(self, client, call, platform, deliver):
        w = paid(client, call, platform, "4000002760003184")
        path = w["payment"]["next_action"]["url"].removeprefix(platform.runtime.settings.base_url)
        assert client.post(path, json={"outcome": "fail"}).status_code == 200
        deliver()
        p = get(client, w)
        assert p["status"] == "requires_payment_method" and p["next_action"] is None
        assert p["last_error"]["code"] == "payment_intent_authentication_failure"
        assert len(events(platform, "payment.failed", p["id"])) == 1

    def test_authentication_then_insufficient_funds(self, client, call, platform, deliver):
        w = paid(client, call, platform, "4000008260003178")
        path = w["payment"]["next_action"]["url"].removeprefix(platform.runtime.settings.base_url)
        client.post(path, json={"outcome": "complete"})
        deliver()
        p = get(client, w)
        assert p["status"] == "requires_payment_method" and p["last_error"]["decline_code"] == "insufficient_funds"

    def test_an_abandoned_authentication_is_canceled_when_read(self, client, call, platform, deliver, monkeypatch):
        w = paid(client, call, platform, "4000002760003184")
        path = w["payment"]["next_action"]["url"].removeprefix(platform.runtime.settings.base_url)
        monkeypatch.setattr(payments_module, "utcnow", Clock(utcnow() + timedelta(
            seconds=platform.runtime.settings.payment_action_ttl_s + 1)))
        p = get(client, w)
        assert p["status"] == "canceled" and p["cancellation_reason"] == "abandoned"
        [ev] = events(platform, "payment.canceled", p["id"])
        assert ev["reason"] == "abandoned"
        problem(client.post(path, json={"outcome": "complete"}), 409, "sandbox.no_action_pending")
        deliver()  # the processor's canceled webhook changes nothing more
        assert len(events(platform, "payment.canceled", p["id"])) == 1
        r = pay(client, w["sh"], w["booking"]["id"], w["method"]["id"])  # the booking is free again
        assert r.status_code == 201 and r.json()["status"] == "requires_action"

    def test_the_sweep_cancels_abandoned_payments(self, client, call, platform, monkeypatch):
        w = paid(client, call, platform, "4000002760003184")
        assert call(svc(platform).expire_abandoned) == 0
        monkeypatch.setattr(payments_module, "utcnow", Clock(utcnow() + timedelta(
            seconds=platform.runtime.settings.payment_action_ttl_s + 1)))
        assert call(svc(platform).expire_abandoned) >= 1
        monkeypatch.undo()
        assert get(client, w)["status"] == "canceled"


class TestDisputes:
    def test_a_lost_dispute_arrives_in_later_rounds(self, client, call, platform, deliver):
        w = paid(client, call, platform, "4000000000000259")
        pid = w["payment"]["id"]
        deliver()
        p = get(client, w)
        assert p["status"] == "succeeded" and p["disputes"] == []
        deliver()
        [d] = get(client, w)["disputes"]
        assert d["status"] == "needs_response" and d["reason"] == "fraudulent" and d["amount_minor"] == AMOUNT
        assert d["fee_minor"] == dispute_fee("GBP") == 1500
        [fee] = call(ledger(platform).transfers, [transfer_id("payment", d["id"], "dispute_fee")])
        assert fee.amount_minor == 1500 and {e.kind for e in fee.entries} == {"dispute_fees", "processor_clearing"}
        [ev] = events(platform, "payment.disputed", pid)
        assert ev["dispute_minor"] == AMOUNT
        _, fh = user_with(client, call, platform, "finance")
        problem(client.post(f"/payments/{pid}/refund", json={}, headers=fh), 409, "payment.disputed")
        deliver()
        assert get(client, w)["disputes"][0]["status"] == "under_review"
        deliver()
        p = get(client, w)
        assert p["disputes"][0]["status"] == "lost" and p["disputes"][0]["closed_at"]
        assert p["charged_back_minor"] == AMOUNT
        [ev] = events(platform, "payment.dispute_closed", pid)
        assert ev["outcome"] == "lost" and ev["dispute_minor"] == AMOUNT
        assert deliver() == 0
        problem(client.post(f"/payments/{pid}/refund", json={}, headers=fh), 409, "payment.refund_exceeds_captured")

    def test_a_won_dispute(self, client, call, platform, settle):
        w = paid(client, call, platform, "4000000000002685")
        assert settle() == 4
        p = get(client, w)
        assert p["disputes"][0]["status"] == "won" and p["charged_back_minor"] == 0
        [ev] = events(platform, "payment.dispute_closed", p["id"])
        assert ev["outcome"] == "won"
        assert escrow_balance(call, platform, w["booking"]["id"]) == AMOUNT


class TestWebhookSecurity:
    def processing(self, client, call, platform):
        w = paid(client, call, platform)
        [msg] = queued(platform, w["payment"]["id"])
        body = json.dumps(msg.payload).encode()
        return w, msg, body

    def test_a_forged_signature_is_refused_and_changes_nothing(self, client, call, platform, settings):
        w, msg, body = self.processing(client, call, platform)
        r = post_signed(client, body, msg.id, secret="whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3ItdGVzdHMtb25seQ==")
        problem(r, 400, "payment.webhook_invalid")
        assert r.json()["data"]["reason"] == "bad_signature"
        tampered = body.replace(b'"amount": 3300', b'"amount": 1')
        headers = sign_headers(settings.payment_webhook_secret, msg.id, body)
        problem(client.post(WEBHOOK, content=tampered, headers=headers), 400, "payment.webhook_invalid")
        problem(client.post(WEBHOOK, content=body), 400, "payment.webhook_invalid")
        headers["webhook-signature"] = "v1,not base64!"
        problem(client.post(WEBHOOK, content=body, headers=headers), 400, "payment.webhook_invalid")
        assert get(client, w)["status"] == "processing"
        assert escrow_balance(call, platform, w["booking"]["id"]) == 0

    def test_a_stale_timestamp_is_refused(self, client, call, platform, settings):
        w, msg, body = self.processing(client, call, platform)
        old = time.time_ns() // 10**9 - settings.payment_webhook_tolerance_s - 60
        r = post_signed(client, body, msg.id, at=old, settings=settings)
        problem(r, 400, "payment.webhook_invalid")
        assert r.json()["data"]["reason"] == "stale_timestamp"
        future = time.time_ns() // 10**9 + settings.payment_webhook_tolerance_s + 60
        problem(post_signed(client, body, msg.id, at=future, settings=settings), 400, "payment.webhook_invalid")
        assert get(client, w)["status"] == "processing"

    def test_a_replayed_webhook_is_processed_once(self, client, call, platform, settings, deliver):
        w, msg, body = self.processing(client, call, platform)
        first = post_signed(client, body, msg.id, settings=settings)
        assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False,
                                                             "ignored": False}
        again = post_signed(client, body, msg.id, settings=settings)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert deliver() >= 1  # the sandbox's own delivery of the same webhook id: a duplicate too
        assert get(client, w)["status"] == "succeeded"
        assert len(events(platform, "payment.succeeded", w["payment"]["id"])) == 1
        assert escrow_balance(call, platform, w["booking"]["id"]) == AMOUNT

    def test_unknown_events_are_acknowledged_and_ignored(self, client, settings):
        body = json.dumps({"id": "evt_x", "type": "customer.created", "created": 0, "data": {"object": {}}}).encode()
        r = post_signed(client, body, settings=settings)
        assert r.status_code == 200 and r.json()["ignored"] is True
        problem(post_signed(client, b"[1, 2]", settings=settings), 400, "payment.webhook_invalid")
        bad = json.dumps({"id": "evt_y", "type": "payment_intent.succeeded", "created": 0,
                          "data": {"object": {"id": 1}}}).encode()
        problem(post_signed(client, bad, settings=settings), 400, "payment.webhook_invalid")


class TestRefunds:
    def refund(self, client, headers, w, **body):
        return client.post(f"/payments/{w['payment']['id']}/refund", json=body, headers=headers)

    def test_a_full_refund_by_finance(self, client, call, platform, deliver):
        w = unescrowed(client, call, platform, deliver)
        _, fh = user_with(client, call, platform, "finance")
        r = self.refund(client, fh, w, reason="requested_by_customer")
        assert r.status_code == 201, r.text
        assert r.json()["amount_minor"] == AMOUNT and r.json()["status"] == "succeeded"
        p = get(client, w)
        assert p["refunded_minor"] == AMOUNT and [x["id"] for x in p["refunds"]] == [r.json()["id"]]
        assert escrow_balance(call, platform, w["booking"]["id"]) == 0
        [ev] = events(platform, "payment.refunded", p["id"])
        assert ev["refund_minor"] == ev["refunded_minor"] == AMOUNT
        problem(self.refund(client, fh, w), 409, "payment.refund_exceeds_captured")
        assert deliver() >= 1  # the processor's refund.created
        assert len(events(platform, "payment.refunded", p["id"])) == 1
        claims = [c for c in call(svc(platform).ledger_claims) if c.subject == f"payment_refund:{r.json()['id']}"]
        assert [c.amount_minor for c in claims] == [AMOUNT]

    def test_partial_refunds_stop_at_the_capture(self, client, call, platform, deliver):
        w = unescrowed(client, call, platform, deliver)
        _, fh = user_with(client, call, platform, "finance")
        assert self.refund(client, fh, w, amount_minor=1000).status_code == 201
        r = self.refund(client, fh, w, amount_minor=AMOUNT)
        problem(r, 409, "payment.refund_exceeds_captured")
        assert r.json()["data"]["refundable_minor"] == AMOUNT - 1000
        assert self.refund(client, fh, w).json()["amount_minor"] == AMOUNT - 1000  # the rest
        assert get(client, w)["refunded_minor"] == AMOUNT
        assert escrow_balance(call, platform, w["booking"]["id"]) == 0

    def test_above_captured_is_a_409_that_changes_nothing(self, client, call, platform, deliver):
        w = unescrowed(client, call, platform, deliver)
        _, fh = user_with(client, call, platform, "finance")
        problem(self.refund(client, fh, w, amount_minor=AMOUNT + 1), 409, "payment.refund_exceeds_captured")
        problem(self.refund(client, fh, w, amount_minor=0), 422, "request.validation_failed")
        problem(self.refund(client, fh, w, amount_minor=-5), 422, "request.validation_failed")
        problem(self.refund(client, fh, w, reason="because"), 422, "request.validation_failed")
        assert get(client, w)["refunded_minor"] == 0 and get(client, w)["refunds"] == []

    def test_concurrent_refunds_never_exceed_the_capture(self, client, call, platform, deliver):
        w = unescrowed(client, call, platform, deliver)
        _, fh = user_with(client, call, platform, "finance")
        codes: list[int] = []

        def one():
            codes.append(self.refund(client, fh, w, amount_minor=1000).status_code)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [201] * 3 + [409] * 5, codes
        p = get(client, w)
        assert p["refunded_minor"] == 3000 == sum(x["amount_minor"] for x in p["refunds"] if x["status"] == "succeeded")
        assert escrow_balance(call, platform, w["booking"]["id"]) == AMOUNT - 3000

    def test_while_the_escrow_holds_the_money_only_the_cancellation_refunds_it(self, client, call, platform,
                                                                               deliver, drain):
        w = succeeded(client, call, platform, deliver)
        drain()  # the Escrow Service holds the payment's parts for their beneficiaries
        _, fh = user_with(client, call, platform, "finance")
        problem(self.refund(client, fh, w), 409, "payment.funds_held")
        assert get(client, w)["refunded_minor"] == 0
        assert client.delete(f"/bookings/{w['booking']['id']}", headers=w["sh"]).status_code == 200
        drain()  # the escrow voids its holds and asks for the refund
        p = get(client, w)
        assert p["refunded_minor"] == AMOUNT
        assert [(x["reason"], x["status"]) for x in p["refunds"]] == [("requested_by_customer", "failed"),
                                                                      ("booking_cancelled", "succeeded")]
        assert escrow_balance(call, platform, w["booking"]["id"]) == 0

    def test_the_internal_refund_is_idempotent_by_key(self, client, call, platform, deliver):
        w = unescrowed(client, call, platform, deliver)
        pid, key = uuid.UUID(w["payment"]["id"]), f"escrow:{uuid.uuid4()}:refund"
        a = call(svc(platform).refund, pid, 1000, "booking_cancelled", key)
        b = call(svc(platform).refund, pid, 1000, "booking_cancelled", key)
        assert a.id == b.id and a.status == "succeeded"
        assert get(client, w)["refunded_minor"] == 1000
        with pytest.raises(RefundKeyReused):
            call(svc(platform).refund, pid, 2000, "booking_cancelled", key)

    def test_only_finance_refunds_and_only_succeeded_payments(self, client, call, platform, deliver):
        w = paid(client, call, platform)
        _, fh = user_with(client, call, platform, "finance")
        problem(self.refund(client, fh, w), 409, "payment.not_refundable")
        deliver()
        problem(self.refund(client, w["sh"], w), 403, "auth.forbidden")
        _, support = user_with(client, call, platform, "support")
        problem(self.refund(client, support, w), 403, "auth.forbidden")
        problem(client.post(f"/payments/{uuid.uuid4()}/refund", json={}, headers=fh), 404, "payment.not_found")
        assert get(client, w)["refunded_minor"] == 0


class TestAccess:
    def test_another_users_payment_is_a_404_and_support_and_finance_read_it(self, client, call, platform):
        w = paid(client, call, platform)
        pid = w["payment"]["id"]
        _, other = signed_up(client)
        problem(client.get(f"/payments/{pid}", headers=other), 404, "payment.not_found")
        problem(client.get(f"/payments/{uuid.uuid4()}", headers=w["sh"]), 404, "payment.not_found")
        for role in ("support", "finance"):
            _, h = user_with(client, call, platform, role)
            assert client.get(f"/payments/{pid}", headers=h).json()["id"] == pid
        problem(client.get(f"/payments/{pid}"), 401, "auth.unauthorized")
        assert [p["id"] for p in client.get("/payments", headers=w["sh"]).json()["items"]] == [pid]
        assert client.get("/payments", headers=other).json()["items"] == []


class TestBadInput:
    def test_bookings_that_are_unknown_or_someone_elses_are_404(self, client, call, platform):
        su, sh, b = payable_booking(client, call, platform)
        m = card_method(client, sh)
        problem(pay(client, sh, str(uuid.uuid4()), m["id"]), 404, "payment.booking_not_found")
        _, other = signed_up(client)
        om = card_method(client, other)
        problem(pay(client, other, b["id"], om["id"]), 404, "payment.booking_not_found")
        problem(pay(client, sh, b["id"], str(uuid.uuid4())), 404, "payment.method_not_found")
        problem(pay(client, sh, b["id"], om["id"]), 404, "payment.method_not_found")
        problem(client.post("/payments", json={"booking_id": "nope"}, headers=sh), 422, "request.validation_failed")
        problem(client.post("/payments", content=b"{", headers={**sh, "content-type": "application/json"}), 400,
                "request.malformed_json")
        problem(client.post("/payments", json={"booking_id": b["id"], "payment_method_id": m["id"]}), 401,
                "auth.unauthorized")
        assert client.get("/payments", headers=sh).json()["items"] == []

    def test_a_closed_booking_is_not_payable(self, client, call, platform):
        su, sh, b = payable_booking(client, call, platform)
        m = card_method(client, sh)
        assert client.delete(f"/bookings/{b['id']}", headers=sh).status_code == 200
        r = pay(client, sh, b["id"], m["id"])
        problem(r, 409, "payment.booking_not_payable")
        assert r.json()["data"]["status"] == "cancelled"

    @pytest.mark.parametrize("number,kw,reason", [
        ("4242424242424241", {}, "incorrect_number"),
        ("4242424242424242", {"exp_year": 2020}, "invalid_expiry"),
        ("4242424242424242", {"cvc": "1234"}, "invalid_cvc"),
        ("4111111111111111", {}, "not_a_test_card"),
    ])
    def test_bad_cards_are_refused_at_tokenization(self, client, number, kw, reason):
        r = tokenize(client, number, **kw)
        problem(r, 422, "sandbox.card_invalid")
        assert r.json()["data"]["reason"] == reason and number not in r.text

    def test_malformed_cards_and_tokens(self, client):
        problem(tokenize(client, "4242-4242-4242-4242"), 422, "request.validation_failed")
        problem(tokenize(client, "4242424242424242", exp_month=13), 422, "request.validation_failed")
        _, h = signed_up(client)
        problem(client.post("/payments/methods", json={"token": "tok_" + "0" * 24}, headers=h), 422,
                "payment.token_invalid")
        problem(client.post("/payments/methods", json={"token": "card 4242"}, headers=h), 422,
                "request.validation_failed")
        token = tokenize(client).json()["id"]
        assert client.post("/payments/methods", json={"token": token}, headers=h).status_code == 201
        problem(client.post("/payments/methods", json={"token": token}, headers=h), 409, "payment.token_used")
        problem(client.get("/payments/sandbox/3ds/pi_sbx_" + "0" * 24), 404, "sandbox.intent_not_found")
        problem(client.post("/payments/sandbox/3ds/pi_sbx_" + "0" * 24, json={"outcome": "maybe"}), 422,
                "request.validation_failed")


def test_no_table_holds_a_card_number(client, call, platform, settle):
    """Every card this module tokenized, paid with or refused: no digits of a test PAN in any
    row of any table (the sandbox keeps last4 only)."""
    for number in TEST_CARDS:
        tokenize(client, number, cvc="1234" if number.startswith("37") else "123")
    settle()
    engine = create_engine(sync_url(platform.runtime.settings.effective_database_url))
    with engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))] \
            if engine.dialect.name == "sqlite" else \
            [r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        scanned = 0
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                blob = " ".join(str(v) for v in row)
                for number in (*TEST_CARDS, "4242424242424241", "4111111111111111"):
                    assert number not in blob, f"a card number in {table}"
                scanned += 1
    engine.dispose()
    assert "sandbox_cards" in tables and "payments" in tables and scanned > 0
    assert call(svc(platform).sandbox.pending) == 0



def test_the_events_are_taken_and_the_books_reconcile(client, call, platform, drain):
    """The Escrow Service takes every success, dispute and outcome these tests made (none
    stays behind in the outbox, holding up the events after it), and the ledger agrees with
    every transfer the payments' records claim."""
    drain()
    books = call(ledger(platform).reconcile, Ctx.system())
    assert books.ok, books.mismatches
    assert any(c.source == "payments" for c in call(svc(platform).ledger_claims))
    engine = create_engine(sync_url(platform.runtime.settings.effective_database_url))
    with Session(engine) as s:
        left = s.scalars(select(OutboxEvent.topic).where(OutboxEvent.relayed_at.is_(None))).all()
    engine.dispose()
    assert left == []
