"""Escrow Service: a paid booking's money held per beneficiary in the ledger, released once
on delivery (whatever the retries, redeliveries, concurrent requests or a crash between the
ledger and the escrow's rows), frozen by a hold or dispute, and who may see and move it.
The payment is simulated here (its capture posted and its event handed to the handler);
tests/deployments/test_money_flow.py runs the whole loop through the Payment Service."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

from sqlalchemy import func, select

from actors.custody.events import ShipmentDelivered
from deployments.accounting import AccountRef, TransferIn, transfer_id
from deployments.payments.events import ChargedPart, PaymentSucceeded
from storage.models.events import OutboxEvent
from tests.factories.common import problem
from tests.factories.identity import signed_up, user_with
from tests.factories.money import balance, booked, finance, ledger


def escrows(platform):
    return platform.runtime.services["escrow"]


def paid(client, call, platform) -> dict:
    """A confirmed booking whose payment was captured into its escrow account, and the
    escrow that payment opened."""
    w = booked(client, call, platform)
    bid = uuid.UUID(w["booking"]["id"])
    price = call(platform.runtime.services["bookings"].price, bid)
    pid = uuid.uuid4()
    call(ledger(platform).post, [TransferIn.move(uuid.uuid4(), AccountRef(kind="processor_clearing"),
                                                 AccountRef(kind="escrow", owner_id=bid), price.total_minor,
                                                 price.currency, code="test.capture")])
    event = PaymentSucceeded(payment_id=pid, booking_id=bid, payer_id=price.sender_id, amount_minor=price.total_minor,
                             currency=price.currency, status="succeeded",
                             parts=[ChargedPart(**p.model_dump()) for p in price.parts])
    call(escrows(platform).on_payment_succeeded, event)
    e = call(escrows(platform).for_booking, bid)
    return {**w, "price": price, "event": event, "escrow": e, "id": str(e.id)}


def delivered(w) -> ShipmentDelivered:
    return ShipmentDelivered(shipment_id=uuid.uuid4(), booking_id=w["booking"]["id"], status="delivered",
                             at=datetime.now(timezone.utc), proof_id=uuid.uuid4())


def released_events(call, platform, escrow_id) -> int:
    async def count():
        async with escrows(platform).uow(read=True) as uow:
            return await uow.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.topic == "escrow.released", OutboxEvent.entity_id == str(escrow_id)))
    return call(count)


class TestHeld:
    def test_a_succeeded_payment_holds_each_part_for_its_beneficiary(self, client, call, platform):
        w = paid(client, call, platform)
        r = client.get(f"/escrow/{w['id']}", headers=w["sh"])
        assert r.status_code == 200, r.text
        e = r.json()
        assert e["status"] == "held" and e["amount_minor"] == 5335 and e["currency"] == "GBP"
        assert [(x["kind"], x["amount_minor"], x["status"]) for x in e["entries"]] == [
            ("carrier", 1850, "held"), ("carrier", 3000, "held"), ("platform_fee", 485, "held")]
        fin = finance(client, call, platform)
        esc = balance(client, fin, f"escrow:{w['booking']['id']}", "GBP")
        assert (esc["balance_minor"], esc["available_minor"], esc["debits_pending"]) == (5335, 0, 5335)
        t = balance(client, w["th"], f"payable:{w['traveler']['id']}", "GBP")
        assert (t["credits_pending"], t["balance_minor"]) == (3000, 0)  # promised, not yet earned

    def test_the_event_again_opens_nothing_new(self, client, call, platform):
        w = paid(client, call, platform)
        call(escrows(platform).on_payment_succeeded, w["event"])
        out = client.get("/escrow", headers=w["sh"]).json()["items"]
        assert [x["id"] for x in out] == [w["id"]]

    def test_the_payer_beneficiaries_and_finance_see_it_others_do_not(self, client, call, platform):
        w = paid(client, call, platform)
        for h in (w["th"], w["ch"], finance(client, call, platform)):
            assert client.get(f"/escrow/{w['id']}", headers=h).status_code == 200
        problem(client.get(f"/escrow/{w['id']}", headers=signed_up(client)[1]), 404, "escrow.not_found")
        problem(client.get(f"/escrow/{uuid.uuid4()}", headers=w["sh"]), 404, "escrow.not_found")
        assert client.get("/escrow", headers=signed_up(client)[1]).json()["items"] == []


class TestRelease:
    def test_delivery_releases_every_part_to_its_payable_account_once(self, client, call, platform):
        w = paid(client, call, platform)
        call(escrows(platform).on_shipment_delivered, delivered(w))
        call(escrows(platform).on_shipment_delivered, delivered(w))  # redelivered
        e = client.get(f"/escrow/{w['id']}", headers=w["sh"]).json()
        assert e["status"] == "released" and e["delivered_at"] and all(x["status"] == "released" for x in e["entries"])
        assert balance(client, w["th"], f"payable:{w['traveler']['id']}", "GBP")["balance_minor"] == 3000
        assert balance(client, w["ch"], f"payable:{w['courier']['id']}", "GBP")["balance_minor"] == 1850
        fin = finance(client, call, platform)
        assert balance(client, fin, f"escrow:{w['booking']['id']}", "GBP")["balance_minor"] == 0
        assert released_events(call, platform, w["id"]) == 1

    def test_fifty_concurrent_releases_and_a_redelivered_event_release_once(self, client, call, platform):
        w = paid(client, call, platform)
        answers: list[int] = []

        def release():
            answers.append(client.post(f"/escrow/{w['id']}/release", json={}, headers=w["sh"]).status_code)

        threads = [threading.Thread(target=release) for _ in range(50)]
        for t in threads:
            t.start()
        call(escrows(platform).on_shipment_delivered, delivered(w))
        for t in threads:
            t.join()
        assert set(answers) <= {200, 503} and answers.count(200) >= 1, answers
        assert balance(client, w["th"], f"payable:{w['traveler']['id']}", "GBP")["balance_minor"] == 3000
        assert released_events(call, platform, w["id"]) == 1
        ids = [transfer_id("escrow", x.id, "release") for x in w["escrow"].entries]
        assert [t.state for t in call(ledger(platform).transfers, ids)] == ["posted"] * 3

    def test_a_crash_between_the_ledger_and_the_escrow_heals_on_the_next_try(self, client, call, platform):
        """The replica died after the ledger committed the holds and before the escrow's rows
        changed: the next release (or redelivered event) finds the ledger's transfers and
        finishes, with one release in the books."""
        w = paid(client, call, platform)
        call(ledger(platform).post, [TransferIn.resolve(transfer_id("escrow", x.id, "release"), x.hold_transfer_id,
                                                        commit=True, code="escrow.release", ref=f"escrow:{w['id']}")
                                     for x in w["escrow"].entries])
        assert client.get(f"/escrow/{w['id']}", headers=w["sh"]).json()["status"] == "held"
        call(escrows(platform).on_shipment_delivered, delivered(w))
        assert client.get(f"/escrow/{w['id']}", headers=w["sh"]).json()["status"] == "released"
        assert balance(client, w["th"], f"payable:{w['traveler']['id']}", "GBP")["balance_minor"] == 3000

    def test_only_the_payer_or_finance_releases(self, client, call, platform):
        w = paid(client, call, platform)
        problem(client.post(f"/escrow/{w['id']}/release", json={}, headers=w["th"]), 403, "auth.forbidden")
        problem(client.post(f"/escrow/{w['id']}/release", json={}, headers=signed_up(client)[1]), 404,
                "escrow.not_found")
        assert client.get(f"/escrow/{w['id']}", headers=w["sh"]).json()["status"] == "held"


class TestHold:
    def test_a_hold_freezes_the_money_until_finance_decides(self, client, call, platform):
        w = paid(client, call, platform)
        r = client.post(f"/escrow/{w['id']}/hold", json={"reason": "The parcel arrived damaged"}, headers=w["sh"])
        assert r.status_code == 200 and r.json()["status"] == "disputed", r.text
        call(escrows(platform).on_shipment_delivered, delivered(w))
        e = client.get(f"/escrow/{w['id']}", headers=w["sh"]).json()
        assert e["status"] == "disputed" and e["delivered_at"] is not None
        problem(client.post(f"/escrow/{w['id']}/release", json={}, headers=w["sh"]), 409, "escrow.disputed")
        fin = finance(client, call, platform)
        r = client.post(f"/escrow/{w['id']}/release", json={"reason": "carriers not at fault"}, headers=fin)
        assert r.status_code == 200 and r.json()["status"] == "released", r.text
        problem(client.post(f"/escrow/{w['id']}/hold", json={"reason": "too late"}, headers=w["sh"]), 409,
                "escrow.closed")

    def test_a_hold_needs_a_reason_and_the_right_role(self, client, call, platform):
        w = paid(client, call, platform)
        assert client.post(f"/escrow/{w['id']}/hold", json={}, headers=w["sh"]).status_code == 422
        problem(client.post(f"/escrow/{w['id']}/hold", json={"reason": "mine now"}, headers=w["th"]), 403,
                "auth.forbidden")
        support = user_with(client, call, platform, "support")[1]
        assert client.post(f"/escrow/{w['id']}/hold", json={"reason": "fraud check"},
                           headers=support).json()["status"] == "disputed"
        assert client.get(f"/escrow/{w['id']}", headers=w["sh"]).json()["hold_reason"] == "fraud check"
