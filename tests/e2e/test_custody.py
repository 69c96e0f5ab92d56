"""End to end on the full topology: a shipment booked on a one-leg trip is handed from the
sender to the traveler and delivered to the recipient, through the custody shards (named
Ray actors), the QR Code Service and the event relay (booking.confirmed opens custody,
shipment.delivered completes the booking)."""
from __future__ import annotations

import re
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


def scan(c, headers, step, kind, payload, at_):
    return c.post(f"/handoffs/{step['id']}/scan", headers=headers, json={
        "scan_id": str(uuid.uuid4()), "kind": kind, "payload": payload, "lat": at_[0], "lon": at_[1]})


def qr(c, headers, step, kind) -> str:
    r = c.post("/qr/generate", json={"handoff_id": step["id"], "kind": kind}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["payload"]


def test_a_shipment_is_handed_over_and_delivered_through_the_custody_shards(platform_url, e2e_settings):
    c = platform_url
    traveler_id, th = signed_up(c)
    grant(traveler_id, "traveler")
    _, sh = signed_up(c)
    body = trip_body(route=("AMS", "LIS"), start=at(5, 9), hours=2)
    trip = eventually(lambda: c.post("/trips", json=body, headers=th), lambda r: r.status_code == 201,
                      what="the traveler role reaches the trips replica").json()
    assert c.post(f"/trips/{trip['id']}/publish", headers=th).status_code == 200

    phone = f"+35121555{uuid.uuid4().int % 10 ** 4:04d}"
    shipment = c.post("/shipments", headers=sh, json=shipment_body(
        pickup={"location_id": "apt:AMS"},
        recipient={"name": "Amália", "phone": phone, "address": {"location_id": "apt:LIS"}},
        currency="EUR"))
    assert shipment.status_code == 201, shipment.text
    sid = shipment.json()["id"]
    it = c.post("/itineraries", headers=sh, json={"legs": [
        {"kind": "flight", "trip_id": trip["id"], "leg_id": trip["legs"][0]["id"]}]})
    assert it.status_code == 201, it.text
    booking = c.post("/bookings", headers=sh, json={"itinerary_id": it.json()["id"], "shipment_id": sid,
                                                      "weight_g": 1500, "volume_cm3": 6000, "items": 1,
                                                      "category": "parcel"})
    assert booking.status_code == 201, booking.text
    assert c.put(f"/bookings/{booking.json()['id']}/confirm", headers=th).json()["status"] == "confirmed"

    eventually(lambda: c.get(f"/tracking/{sid}", headers=sh), lambda r: r.status_code == 200,
               what="booking.confirmed opens custody")
    steps = sorted(c.post("/handoffs", json={"shipment_id": sid}, headers=sh).json()["steps"],
                   key=lambda s: s["seq"])
    assert [s["place"] for s in steps] == ["apt:AMS", "apt:LIS"]
    first, last = steps

    assert scan(c, th, first, "handoff", qr(c, sh, first, "handoff"), AMS).status_code == 201
    assert scan(c, th, first, "package", qr(c, sh, first, "package"), AMS).status_code == 201
    photo = {"file": ("p.jpg", JPEG, "image/jpeg")}
    assert c.post(f"/handoffs/{first['id']}/photos", headers=sh, files=photo).status_code == 201
    assert c.get(f"/tracking/{sid}", headers=th).json()["status"] == "out_for_delivery"

    assert scan(c, th, last, "package", qr(c, th, last, "package"), LIS).status_code == 201
    assert c.post(f"/handoffs/{last['id']}/photos", headers=th, files=photo).status_code == 201
    text = eventually(lambda: SandboxSms(e2e_settings.data_dir).sent(phone), bool, what="the recipient's code")
    code = re.search(r"\b(\d{6})\b", text[-1]["body"]).group(1)
    proof = c.post(f"/tracking/{sid}/proof", headers=th, data={"code": code},
                   files={"photo": ("door.jpg", JPEG, "image/jpeg")})
    assert proof.status_code == 201 and proof.json()["status"] == "delivered", proof.text

    eventually(lambda: c.get(f"/bookings/{booking.json()['id']}", headers=sh),
               lambda r: r.json()["status"] == "completed", what="shipment.delivered completes the booking")
    public = c.get(f"/tracking/{shipment.json()['tracking_number']}").json()
    assert public["status"] == "delivered" and phone not in str(public)
