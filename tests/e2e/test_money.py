"""End to end on the full topology: a sender pays a booking with a sandbox card (the
processor's result arriving as a signed webhook that the payments replica delivers over
real HTTP), the payment's event opens the escrow, custody delivers the shipment, the
escrow releases, the traveler is paid out and the ledger reconciles. Then a fault: the
escrow replica is killed while releases are in flight, which leaves no release or one,
never two."""
from __future__ import annotations

import re
import threading
import uuid

import pytest

from p2p.sms import SandboxSms
from tests.factories.e2e import eventually, grant, signed_up
from tests.factories.places import JPEG
from tests.factories.routes import at
from tests.factories.shipments import shipment_body
from tests.factories.trips import trip_body

pytestmark = pytest.mark.e2e
AMS, LIS = (52.3105, 4.7683), (38.7813, -9.1359)


def booked(c, *, shipment: bool) -> dict:
    """A confirmed, card-paid booking of a one-leg AMS -> LIS trip (EUR), and who is who."""
    traveler_id, th = signed_up(c)
    grant(traveler_id, "traveler")
    sender_id, sh = signed_up(c)
    body = trip_body(route=("AMS", "LIS"), start=at(5, 9), hours=2, currency="EUR")
    trip = eventually(lambda: c.post("/trips", json=body, headers=th), lambda r: r.status_code == 201,
                      what="the traveler role reaches the trips replica").json()
    assert c.post(f"/trips/{trip['id']}/publish", headers=th).status_code == 200
    w: dict = {"traveler_id": traveler_id, "th": th, "sender_id": sender_id, "sh": sh}
    extra = {}
    if shipment:
        w["phone"] = f"+35121555{uuid.uuid4().int % 10 ** 4:04d}"
        s = c.post("/shipments", headers=sh, json=shipment_body(
            pickup={"location_id": "apt:AMS"},
            recipient={"name": "Amália", "phone": w["phone"], "address": {"location_id": "apt:LIS"}},
            currency="EUR"))
        assert s.status_code == 201, s.text
        w["shipment"] = s.json()
        extra = {"shipment_id": s.json()["id"]}
    it = c.post("/itineraries", headers=sh, json={"legs": [
        {"kind": "flight", "trip_id": trip["id"], "leg_id": trip["legs"][0]["id"]}]})
    assert it.status_code == 201, it.text
    b = c.post("/bookings", headers=sh, json={"itinerary_id": it.json()["id"], "weight_g": 1500, "volume_cm3": 6000,
                                              "items": 1, "category": "parcel", **extra})
    assert b.status_code == 201, b.text
    w["booking"] = b.json()
    assert c.put(f"/bookings/{b.json()['id']}/confirm", headers=th).json()["status"] == "confirmed"
    token = c.post("/payments/sandbox/tokens", json={"number": "4242424242424242", "exp_month": 12,
                                                     "exp_year": 2031, "cvc": "123"})
    assert token.status_code == 201, token.text
    method = c.post("/payments/methods", json={"token": token.json()["id"]}, headers=sh)
    assert method.status_code == 201, method.text
    method = method.json()
    p = c.post("/payments", json={"booking_id": b.json()["id"], "payment_method_id": method["id"]}, headers=sh)
    assert p.status_code == 201, p.text
    w["payment"] = eventually(lambda: c.get(f"/payments/{p.json()['id']}", headers=sh),
                              lambda r: r.json()["status"] == "succeeded",
                              what="the processor's webhook reaches the platform").json()
    w["escrow"] = eventually(lambda: c.get("/escrow", headers=sh), lambda r: r.json()["items"],
                             what="payment.succeeded opens the escrow").json()["items"][0]
    return w


def deliver(c, w, e2e_settings) -> None:
    sid, sh, th = w["shipment"]["id"], w["sh"], w["th"]
    eventually(lambda: c.get(f"/tracking/{sid}", headers=sh), lambda r: r.status_code == 200,
               what="booking.confirmed opens custody")
    first, last = sorted(c.post("/handoffs", json={"shipment_id": sid}, headers=sh).json()["steps"],
                         key=lambda s: s["seq"])
    photo = {"file": ("p.jpg", JPEG, "image/jpeg")}
    for step, giver, receiver, where in ((first, sh, th, AMS),):
        for kind in ("handoff", "package"):
            payload = c.post("/qr/generate", json={"handoff_id": step["id"], "kind": kind}, headers=giver).json()
            assert c.post(f"/handoffs/{step['id']}/scan", headers=receiver, json={
                "scan_id": str(uuid.uuid4()), "kind": kind, "payload": payload["payload"], "lat": where[0],
                "lon": where[1]}).status_code == 201
        assert c.post(f"/handoffs/{step['id']}/photos", headers=giver, files=photo).status_code == 201
    payload = c.post("/qr/generate", json={"handoff_id": last["id"], "kind": "package"}, headers=th).json()["payload"]
    assert c.post(f"/handoffs/{last['id']}/scan", headers=th, json={
        "scan_id": str(uuid.uuid4()), "kind": "package", "payload": payload, "lat": LIS[0],
        "lon": LIS[1]}).status_code == 201
    assert c.post(f"/handoffs/{last['id']}/photos", headers=th, files=photo).status_code == 201
    text = eventually(lambda: SandboxSms(e2e_settings.data_dir).sent(w["phone"]), bool, what="the recipient's code")
    code = re.search(r"\b(\d{6})\b", text[-1]["body"]).group(1)
    proof = c.post(f"/tracking/{sid}/proof", headers=th, data={"code": code},
                   files={"photo": ("door.jpg", JPEG, "image/jpeg")})
    assert proof.status_code == 201 and proof.json()["status"] == "delivered", proof.text


def finance(c) -> dict:
    user_id, h = signed_up(c)
    grant(user_id, "finance")
    return h


def test_a_paid_shipment_is_delivered_released_paid_out_and_reconciled(platform_url, e2e_settings):
    c = platform_url
    w = booked(c, shipment=True)
    assert w["escrow"]["status"] == "held" and w["escrow"]["amount_minor"] == w["payment"]["amount_minor"]
    deliver(c, w, e2e_settings)
    eventually(lambda: c.get(f"/escrow/{w['escrow']['id']}", headers=w["sh"]),
               lambda r: r.json()["status"] == "released", what="shipment.delivered releases the escrow")
    carrier = next(p["amount_minor"] for p in w["payment"]["parts"] if p["kind"] == "carrier")
    r = c.post("/payouts", json={"currency": "EUR", "destination": "ba_sandbox_ok"}, headers=w["th"])
    assert r.status_code == 201 and r.json()["amount_minor"] == carrier, r.text
    assert c.get(f"/payouts/{r.json()['id']}", headers=w["th"]).json()["status"] == "paid"
    fin = eventually(lambda: finance(c), lambda h: c.post("/accounting/reconcile", headers=h).status_code == 200,
                     what="the finance role reaches the accounting replica")
    out = c.post("/accounting/reconcile", headers=fin).json()
    assert out["ok"], out["mismatches"]


@pytest.mark.faults
def test_an_escrow_replica_killed_mid_release_releases_once(platform_url, ray_session):
    c = platform_url
    w = booked(c, shipment=False)
    eid = w["escrow"]["id"]
    codes: list[int] = []

    def release():
        codes.append(c.post(f"/escrow/{eid}/release", json={}, headers=w["sh"]).status_code)

    threads = [threading.Thread(target=release) for _ in range(20)]
    for t in threads[:10]:
        t.start()
    [victim] = [a for a in ray_session.util.list_named_actors(all_namespaces=True)
                if a["name"].startswith("SERVE_REPLICA::escrow#")]
    ray_session.kill(ray_session.get_actor(victim["name"], namespace=victim["namespace"]), no_restart=False)
    for t in threads[10:]:
        t.start()
    for t in threads:
        t.join()
    after_kill = c.get(f"/escrow/{eid}", headers=w["sh"])
    released = eventually(lambda: c.post(f"/escrow/{eid}/release", json={}, headers=w["sh"]),
                          lambda r: r.status_code == 200, what="a new escrow replica answers", timeout=120).json()
    assert released["status"] == "released", (codes, after_kill.text)
    fin = eventually(lambda: finance(c), lambda h: c.post("/accounting/reconcile", headers=h).status_code == 200,
                     what="the finance role reaches the accounting replica")
    payable = c.get("/accounting/balance", params={"account": f"payable:{w['traveler_id']}", "currency": "EUR"},
                    headers=fin).json()
    carrier = next(p["amount_minor"] for p in w["payment"]["parts"] if p["kind"] == "carrier")
    assert payable["balance_minor"] == carrier and payable["credits_pending"] == 0, payable  # once, not twice
    out = c.post("/accounting/reconcile", headers=fin).json()
    assert out["ok"], out["mismatches"]
