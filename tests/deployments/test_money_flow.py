"""The money loop through every money service: a sender pays a booking with a sandbox card
(results arriving as signed webhooks), the payment's success opens the escrow (through the
event relay), delivery releases it, the carriers are paid out, and the ledger reconciles.
Conservation to the minor unit: what the sender paid = payouts + the platform's fee +
refunds, and the platform's fee = its net + the processor's fee. Also the exits: a
cancelled booking refunded in full, a declined card, an abandoned 3-D Secure and a lost
dispute, each leaving nothing pending in the ledger."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from actors.custody.events import ShipmentDelivered
from tests.factories.money import balance, booked, finance
from tests.factories.payments import card_method, pay

PLATFORM = ("revenue", "processor_fees", "processor_clearing", "dispute_fees", "dispute_losses")


@pytest.fixture()
def fin(client, call, platform):
    return finance(client, call, platform)


def platform_books(client, fin, currency: str) -> dict[str, int]:
    return {k: balance(client, fin, k, currency)["balance_minor"] for k in PLATFORM}


def paid(client, call, platform, drain, settle, *, card: str = "4242424242424242", **kw) -> dict:
    w = booked(client, call, platform, **kw)
    m = card_method(client, w["sh"], card)
    r = pay(client, w["sh"], w["booking"]["id"], m["id"])
    assert r.status_code == 201, r.text
    settle()
    drain()
    w["payment"] = client.get(f"/payments/{r.json()['id']}", headers=w["sh"]).json()
    return w


def escrow_of(client, w) -> dict:
    [e] = [x for x in client.get("/escrow", headers=w["sh"]).json()["items"] if x["booking_id"] == w["booking"]["id"]]
    return e


def deliver(call, platform, drain, w) -> None:
    call(platform.runtime.services["escrow"].on_shipment_delivered, ShipmentDelivered(
        shipment_id=uuid.uuid4(), booking_id=w["booking"]["id"], status="delivered", at=datetime.now(timezone.utc),
        proof_id=uuid.uuid4()))
    drain()


def paid_out(client, headers, currency: str) -> int:
    r = client.post("/payouts", json={"currency": currency, "destination": "ba_sandbox_ok"}, headers=headers)
    assert r.status_code == 201, r.text
    p = client.get(f"/payouts/{r.json()['id']}", headers=headers).json()
    assert p["status"] == "paid", p
    return p["amount_minor"]


def nothing_pending(client, fin, w, currency: str) -> None:
    e = balance(client, fin, f"escrow:{w['booking']['id']}", currency)
    assert e["debits_pending"] == e["credits_pending"] == 0, e


def reconciled(client, fin) -> None:
    out = client.post("/accounting/reconcile", headers=fin).json()
    assert out["ok"], out["mismatches"]


class TestConservation:
    @pytest.mark.parametrize("currency, per_kg, courier", [("GBP", 1500, True), ("JPY", 2500, False),
                                                           ("KWD", 4125, False)])
    def test_a_delivered_booking_pays_everyone_to_the_minor_unit(self, client, call, platform, drain, settle, fin,
                                                                  currency, per_kg, courier):
        before = platform_books(client, fin, currency)
        w = paid(client, call, platform, drain, settle, courier=courier, currency=currency, per_kg_minor=per_kg)
        p = w["payment"]
        assert p["status"] == "succeeded" and p["currency"] == currency, p
        e = escrow_of(client, w)
        assert e["status"] == "held" and e["amount_minor"] == p["amount_minor"]
        assert sum(x["amount_minor"] for x in e["entries"]) == p["amount_minor"]
        deliver(call, platform, drain, w)
        assert escrow_of(client, w)["status"] == "released"
        payouts = paid_out(client, w["th"], currency) + (paid_out(client, w["ch"], currency) if courier else 0)
        after = platform_books(client, fin, currency)
        fee = p["fee_minor"]
        platform_fee = next(x["amount_minor"] for x in p["parts"] if x["kind"] == "platform_fee")
        assert p["amount_minor"] == payouts + platform_fee + p["refunded_minor"]
        assert after["revenue"] - before["revenue"] == platform_fee
        assert after["processor_fees"] - before["processor_fees"] == fee
        # what stays with the processor for the platform: the fee it earned less the processor's cut
        assert after["processor_clearing"] - before["processor_clearing"] == platform_fee - fee
        for who in [w["traveler"], *([w["courier"]] if courier else [])]:
            assert balance(client, fin, f"payable:{who['id']}", currency)["balance_minor"] == 0
        esc = balance(client, fin, f"escrow:{w['booking']['id']}", currency)
        assert esc["balance_minor"] == 0 and esc["debits_pending"] == 0
        reconciled(client, fin)

    def test_jpy_and_kwd_prices_are_whole_minor_units(self, client, call, platform, drain, settle):
        for currency, per_kg, want in (("JPY", 2500, 5000 + 500), ("KWD", 4125, 8250 + 825)):
            w = paid(client, call, platform, drain, settle, courier=False, currency=currency, per_kg_minor=per_kg)
            assert w["payment"]["amount_minor"] == want and isinstance(w["payment"]["fee_minor"], int)


class TestExits:
    def test_a_cancelled_booking_is_refunded_in_full(self, client, call, platform, drain, settle, fin):
        w = paid(client, call, platform, drain, settle)
        assert client.delete(f"/bookings/{w['booking']['id']}", headers=w["sh"]).status_code == 200
        drain()
        settle()
        e = escrow_of(client, w)
        assert e["status"] == "refunded" and e["refunded_minor"] == 5335 and e["refund_reason"] == "booking_cancelled"
        p = client.get(f"/payments/{w['payment']['id']}", headers=w["sh"]).json()
        assert p["refunded_minor"] == 5335
        assert balance(client, w["th"], f"payable:{w['traveler']['id']}", "GBP")["credits_pending"] == 0
        nothing_pending(client, fin, w, "GBP")
        assert balance(client, fin, f"escrow:{w['booking']['id']}", "GBP")["balance_minor"] == 0
        reconciled(client, fin)

    def test_a_lost_shipment_is_refunded_in_full_and_other_exceptions_keep_the_money(self, client, call, platform,
                                                                                      drain, settle, fin):
        from actors.custody.events import ShipmentException

        w = paid(client, call, platform, drain, settle)
        escrow = platform.runtime.services["escrow"]

        def exception(status: str, reason: str) -> ShipmentException:
            return ShipmentException(shipment_id=uuid.uuid4(), booking_id=w["booking"]["id"], status=status,
                                     at=datetime.now(timezone.utc), reason=reason)

        call(escrow.on_shipment_exception, exception("delivery_failed", "consignee_not_home"))
        assert escrow_of(client, w)["status"] == "held"
        call(escrow.on_shipment_exception, exception("lost", "carrier_parcel_lost"))
        settle()
        e = escrow_of(client, w)
        assert e["status"] == "refunded" and e["refund_reason"] == "shipment_lost" and e["refunded_minor"] == 5335
        nothing_pending(client, fin, w, "GBP")
        reconciled(client, fin)

    def test_a_declined_card_opens_no_escrow_and_moves_no_money(self, client, call, platform, drain, settle, fin):
        w = paid(client, call, platform, drain, settle, card="4000000000009995")
        p = w["payment"]
        assert p["status"] == "requires_payment_method" and p["last_error"]["decline_code"] == "insufficient_funds"
        assert [x for x in client.get("/escrow", headers=w["sh"]).json()["items"]
                if x["booking_id"] == w["booking"]["id"]] == []
        esc = balance(client, fin, f"escrow:{w['booking']['id']}", "GBP")
        assert esc["balance_minor"] == esc["debits_pending"] == esc["credits_posted"] == 0
        assert client.get(f"/bookings/{w['booking']['id']}", headers=w["sh"]).json()["status"] == "confirmed"

    def test_an_abandoned_3ds_payment_is_canceled_and_a_new_card_pays(self, client, call, platform, drain, settle,
                                                                        fin, monkeypatch):
        w = booked(client, call, platform)
        m = card_method(client, w["sh"], "4000002760003184")
        monkeypatch.setattr(platform.runtime.settings, "payment_action_ttl_s", 0)  # the payer never returns
        r = pay(client, w["sh"], w["booking"]["id"], m["id"])
        assert r.json()["next_action"]["url"], r.json()
        p = client.get(f"/payments/{r.json()['id']}", headers=w["sh"]).json()
        assert p["status"] == "canceled" and p["cancellation_reason"] == "abandoned"
        monkeypatch.undo()
        nothing_pending(client, fin, w, "GBP")
        r = pay(client, w["sh"], w["booking"]["id"], card_method(client, w["sh"])["id"])
        assert r.status_code == 201, r.text
        settle()
        drain()
        assert escrow_of(client, w)["status"] == "held"

    def test_a_lost_dispute_takes_the_money_back_from_the_escrow(self, client, call, platform, drain, settle, fin):
        before = platform_books(client, fin, "GBP")
        w = paid(client, call, platform, drain, settle, card="4000000000000259")
        assert w["payment"]["status"] == "succeeded"
        settle()
        drain()
        e = escrow_of(client, w)
        assert e["status"] == "refunded" and e["refund_reason"] == "chargeback" and e["chargeback_minor"] == 5335, e
        nothing_pending(client, fin, w, "GBP")
        assert balance(client, w["th"], f"payable:{w['traveler']['id']}", "GBP")["credits_pending"] == 0
        after = platform_books(client, fin, "GBP")
        p = client.get(f"/payments/{w['payment']['id']}", headers=w["sh"]).json()
        assert after["dispute_fees"] - before["dispute_fees"] == p["disputes"][0]["fee_minor"] > 0
        # the platform is out of pocket by the processor's fee and the dispute fee, no more
        assert after["processor_clearing"] - before["processor_clearing"] == -(p["fee_minor"]
                                                                                + p["disputes"][0]["fee_minor"])
        reconciled(client, fin)

    def test_a_won_dispute_thaws_the_escrow_and_delivery_releases_it(self, client, call, platform, drain, settle,
                                                                       fin):
        w = paid(client, call, platform, drain, settle, card="4000000000002685")
        settle()
        drain()
        e = escrow_of(client, w)
        assert e["status"] == "held" and e["chargeback_minor"] == 0, e
        deliver(call, platform, drain, w)
        assert escrow_of(client, w)["status"] == "released"
        reconciled(client, fin)


class TestExactlyOnce:
    def test_fifty_concurrent_refunds_and_a_redelivered_cancellation_refund_once(self, client, call, platform, drain,
                                                                                 settle, fin):
        import threading

        from deployments.bookings.events import BookingCancelled

        w = paid(client, call, platform, drain, settle)
        e = escrow_of(client, w)
        codes: list[int] = []

        def refund():
            codes.append(client.post(f"/escrow/{e['id']}/refund", json={"reason": "user_request"},
                                     headers=fin).status_code)

        threads = [threading.Thread(target=refund) for _ in range(50)]
        for t in threads:
            t.start()
        cancelled = BookingCancelled(booking_id=w["booking"]["id"], itinerary_id=w["booking"]["itinerary_id"],
                                     sender_id=w["sender"]["id"], status="cancelled", was="confirmed",
                                     reason="user_request")
        call(platform.runtime.services["escrow"].on_booking_cancelled, cancelled)
        for t in threads:
            t.join()
        assert set(codes) <= {200, 409, 503} and 200 in codes, codes
        call(platform.runtime.services["escrow"].on_booking_cancelled, cancelled)  # redelivered afterwards
        settle()
        p = client.get(f"/payments/{w['payment']['id']}", headers=w["sh"]).json()
        assert p["refunded_minor"] == 5335 and len(p["refunds"]) == 1, p
        assert escrow_of(client, w)["status"] == "refunded"
        nothing_pending(client, fin, w, "GBP")
        assert balance(client, fin, f"escrow:{w['booking']['id']}", "GBP")["balance_minor"] == 0
        reconciled(client, fin)
