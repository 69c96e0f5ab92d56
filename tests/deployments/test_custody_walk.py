"""The chain of custody over HTTP: a 3-leg shipment (courier London -> LHR, traveler
LHR -> JFK, courier JFK -> New York) from the confirmed booking to the delivery proof,
through the Shipment, Booking, Handoff, QR Code and Tracking Services; the refusals, who
may see what, and bad input."""
from __future__ import annotations

import random
import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from p2p.sms import SandboxSms
from storage.db import sync_url, utcnow
from storage.models.handoffs import HandoffScan
from storage.models.tracking import CustodyState
from tests.factories.common import problem
from tests.factories.identity import signed_up, user_with
from tests.factories.places import JPEG, PDF, PNG, provider, segment
from tests.factories.shipments import create_shipment
from tests.factories.trips import courier_leg, courier_segment, create_trip, flight_leg, itinerary, traveler

LONDON, LHR, JFK, NYC = (51.5074, -0.1278), (51.47, -0.4543), (40.6413, -73.7781), (40.7128, -74.006)
WHERE = [LONDON, LHR, JFK, NYC]  # the place of step 0..3
PARCEL = {"weight_g": 1500, "volume_cm3": 6000, "items": 1, "category": "parcel"}


def booked(client, call, platform, drain) -> SimpleNamespace:
    """A shipment on a confirmed 3-leg booking, its custody open: parties, headers, steps."""
    tu, th = traveler(client, call, platform)
    trip = create_trip(client, th)
    c1, c1h, seg1 = courier_segment(client, call, platform)
    c2, c2h = user_with(client, call, platform, "courier")
    p = provider(client, c2h, name="Empire Couriers", city_id="city:US:new-york", max_parcels_per_day=10,
                 max_weight_g_per_day=50_000)
    r = segment(client, c2h, p["id"], from_location="apt:JFK", to_location="city:US:new-york", currency="USD",
                price_minor=4200)
    assert r.status_code == 201, r.text
    su, sh = signed_up(client)
    phone = f"+1212555{random.randrange(10 ** 4):04d}"
    shipment = create_shipment(client, sh, recipient={"name": "Ada Lovelace", "phone": phone,
                                                      "address": {"location_id": "city:US:new-york"}})
    it = itinerary(client, sh, [courier_leg(seg1, trip), flight_leg(trip), courier_leg(r.json(), trip, before_h=-10)])
    r = client.post("/bookings", json={"itinerary_id": it["id"], "shipment_id": shipment["id"], **PARCEL}, headers=sh)
    assert r.status_code == 201, r.text
    booking = r.json()
    for h in (c1h, th, c2h):
        assert client.put(f"/bookings/{booking['id']}/confirm", headers=h).status_code == 200
    drain()
    w = SimpleNamespace(shipment=shipment, booking=booking, itinerary=it, phone=phone,
                        sender=(su, sh), courier1=(c1, c1h), traveler=(tu, th), courier2=(c2, c2h))
    w.steps = steps(client, w)
    return w


def steps(client, w) -> list[dict]:
    """The shipment's steps in order, as the Handoff Service answers them (POST /handoffs
    answers the steps the confirmation made)."""
    r = client.post("/handoffs", json={"shipment_id": w.shipment["id"]}, headers=w.sender[1])
    assert r.status_code == 201, r.text
    assert r.json()["created"] is False
    return [client.get(f"/handoffs/{s['id']}", headers=w.sender[1]).json()
            for s in sorted(r.json()["steps"], key=lambda s: s["seq"])]


def code(client, headers, step: dict, kind: str) -> str:
    r = client.post("/qr/generate", json={"handoff_id": step["id"], "kind": kind}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["payload"]


def scan(client, headers, step: dict, kind: str, payload: str, *, at=None, scan_id=None):
    lat, lon = at or WHERE[step["seq"]]
    return client.post(f"/handoffs/{step['id']}/scan", headers=headers, json={
        "scan_id": str(scan_id or uuid.uuid4()), "kind": kind, "payload": payload, "lat": lat, "lon": lon})


def photo(client, headers, step: dict, data: bytes = JPEG, content_type: str = "image/jpeg"):
    return client.post(f"/handoffs/{step['id']}/photos", headers=headers,
                       files={"file": ("package.jpg", data, content_type)})


def hand_over(client, step: dict, giver, receiver) -> dict:
    """A middle step done right: the receiver scans both codes, the giver adds a photo."""
    assert scan(client, receiver, step, "handoff", code(client, giver, step, "handoff")).status_code == 201
    assert scan(client, receiver, step, "package", code(client, giver, step, "package")).status_code == 201
    r = photo(client, giver, step)
    assert r.status_code == 201, r.text
    return client.get(f"/handoffs/{step['id']}", headers=giver).json()


def recipient_code(settings, w) -> str:
    texts = [m["body"] for m in SandboxSms(settings.data_dir).sent(w.phone)
             if w.shipment["tracking_number"] in m["body"]]
    assert len(texts) == 1, texts
    return re.search(r"\b(\d{6})\b", texts[0]).group(1)


def prove(client, headers, w, code_: str, data: bytes = JPEG, content_type: str = "image/jpeg"):
    return client.post(f"/tracking/{w.shipment['id']}/proof", headers=headers, data={"code": code_},
                       files={"photo": ("door.jpg", data, content_type)})


def scans(settings, **by) -> list:
    engine = create_engine(sync_url(settings.effective_database_url))
    try:
        with Session(engine) as s:
            return list(s.scalars(select(HandoffScan).filter_by(**by).order_by(HandoffScan.recorded_at)))
    finally:
        engine.dispose()


def tracking(client, w, headers=None) -> dict:
    r = client.get(f"/tracking/{w.shipment['id']}", headers=headers or w.sender[1])
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture()
def w(client, call, platform, drain):
    return booked(client, call, platform, drain)


class TestWalk:
    def test_confirming_the_booking_opens_four_steps_and_texts_the_recipient_a_code(self, client, w, settings):
        roles = [(s["giver_role"], s["receiver_role"]) for s in w.steps]
        assert roles == [("sender", "courier"), ("courier", "traveler"), ("traveler", "courier"),
                         ("courier", "recipient")]
        assert [s["status"] for s in w.steps] == ["awaiting_pickup", "planned", "planned", "planned"]
        assert [s["place"] for s in w.steps] == ["city:GB:london", "apt:LHR", "apt:JFK", "city:US:new-york"]
        assert len(recipient_code(settings, w)) == 6
        shipment = client.get(f"/shipments/{w.shipment['id']}", headers=w.sender[1]).json()
        assert shipment["status"] == "booked" and shipment["booking_id"] == w.booking["id"]
        t = tracking(client, w)
        assert t["status"] == "pre_transit" and t["holder_role"] == "sender" and t["next_seq"] == 0

    def test_a_full_walk_delivers_with_the_chain_complete_and_the_booking_completed(
            self, client, w, settings, drain):
        parties = [w.sender[1], w.courier1[1], w.traveler[1], w.courier2[1]]
        statuses = []
        for i in range(3):
            done = hand_over(client, w.steps[i], parties[i], parties[i + 1])
            assert done["status"] == "transferred" and sorted(done["scanned"]) == ["handoff", "package"]
            statuses.append(tracking(client, w)["status"])
        assert statuses == ["picked_up", "in_transit", "out_for_delivery"]
        last, c2 = w.steps[3], w.courier2[1]
        problem(prove(client, c2, w, recipient_code(settings, w)), 409, "tracking.proof_not_ready")
        assert scan(client, c2, last, "package", code(client, c2, last, "package")).status_code == 201
        assert photo(client, c2, last).status_code == 201
        r = prove(client, c2, w, recipient_code(settings, w))
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "delivered" and r.json()["holder_role"] == "recipient"
        drain()

        h = client.get(f"/tracking/{w.shipment['id']}/history", headers=w.sender[1]).json()
        assert h["holders"] == ["sender", "courier", "traveler", "courier", "recipient"]
        assert [e["status"] for e in h["events"]] == ["pre_transit", "picked_up", "in_transit", "out_for_delivery",
                                                      "delivered"]
        assert [e["seq"] for e in h["events"]] == [1, 2, 3, 4, 5]
        times = [e["occurred_at"] for e in h["events"]]
        assert times == sorted(times)
        assert h["events"][-1]["proof_id"] is not None and all(e["step_id"] for e in h["events"][1:])
        assert [e["holder_id"] for e in h["events"][1:]] == [w.courier1[0]["id"], w.traveler[0]["id"],
                                                             w.courier2[0]["id"], None]

        booking = client.get(f"/bookings/{w.booking['id']}", headers=w.sender[1]).json()
        assert booking["status"] == "completed"
        it = client.get(f"/itineraries/{w.itinerary['id']}", headers=w.sender[1]).json()
        assert [leg["status"] for leg in it["legs"]] == ["completed"] * 3 and it["status"] == "completed"
        shipment = client.get(f"/shipments/{w.shipment['id']}", headers=w.sender[1]).json()
        assert shipment["status"] == "delivered"
        # delivering again answers the delivered shipment, and nothing more is recorded
        again = prove(client, c2, w, "000000")
        assert again.status_code == 201 and again.json()["status"] == "delivered"
        assert len(client.get(f"/tracking/{w.shipment['id']}/history", headers=w.sender[1]).json()["events"]) == 5

    def test_the_public_lookup_by_tracking_number_shows_no_personal_data(self, client, w):
        hand_over(client, w.steps[0], w.sender[1], w.courier1[1])
        number = w.shipment["tracking_number"]
        r = client.get(f"/tracking/{number}")  # no token
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["tracking_number"] == number and body["status"] == "picked_up"
        assert set(body) == {"tracking_number", "status", "last_event_at", "events"}
        text = r.text
        for secret in ("Ada", w.phone, w.sender[0]["id"], w.courier1[0]["id"], "Baker", w.shipment["id"]):
            assert secret not in text
        assert [e["place"] for e in body["events"]] == [None, "city:GB:london"]
        assert client.get(f"/tracking/{number.lower()}").status_code == 200
        problem(client.get("/tracking/P2PXXXXXXXXXX"), 404, "tracking.not_found")

    def test_a_shipment_not_yet_in_custody_is_public_as_pre_transit(self, client):
        _, h = signed_up(client)
        draft = create_shipment(client, h)
        r = client.get(f"/tracking/{draft['tracking_number']}")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "pre_transit" and r.json()["events"] == []
        problem(client.get(f"/tracking/{draft['id']}", headers=h), 404, "tracking.not_found")

    def test_a_retried_scan_answers_its_first_outcome_and_is_recorded_once(self, client, w, settings):
        s0, sid = w.steps[0], uuid.uuid4()
        payload = code(client, w.sender[1], s0, "handoff")
        first = scan(client, w.courier1[1], s0, "handoff", payload, scan_id=sid)
        again = scan(client, w.courier1[1], s0, "handoff", payload, scan_id=sid)
        assert first.status_code == again.status_code == 201 and first.json()["scan_id"] == again.json()["scan_id"]
        assert len(scans(settings, id=sid)) == 1


class TestRefusals:
    def refused(self, settings, w, r, status: int, code_: str, before: dict, client) -> None:
        """Refused with `code_`, recorded as a failed scan, custody unchanged."""
        problem(r, status, code_)
        rows = scans(settings, shipment_id=uuid.UUID(w.shipment["id"]))
        assert rows and rows[-1].outcome != "ok" and rows[-1].code == code_
        after = tracking(client, w)
        assert {k: after[k] for k in ("status", "holder_role", "next_seq")} == before

    def test_each_wrong_scan_has_its_own_code_is_recorded_and_changes_nothing(self, client, w, settings):
        (_, sh), (_, c1h), (_, th), (_, c2h) = w.sender, w.courier1, w.traveler, w.courier2
        s0, s1, s3 = w.steps[0], w.steps[1], w.steps[3]
        t = tracking(client, w)
        before = {k: t[k] for k in ("status", "holder_role", "next_seq")}
        good = code(client, sh, s0, "handoff")
        # a forged code: one character of the signature changed
        forged = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
        self.refused(settings, w, scan(client, c1h, s0, "handoff", forged), 422, "handoff.code_forged", before, client)
        # someone who is not the receiver of the step
        self.refused(settings, w, scan(client, th, s0, "handoff", good), 403, "handoff.not_a_party", before, client)
        # far from the planned place (scanned at JFK for the London pickup)
        self.refused(settings, w, scan(client, c1h, s0, "handoff", good, at=JFK), 422, "handoff.too_far", before,
                     client)
        # step 0's code scanned at step 1
        self.refused(settings, w, scan(client, th, s1, "handoff", good), 409, "handoff.wrong_code", before, client)
        # out of order: step 1's own codes before step 0 is done
        early = code(client, c1h, s1, "handoff")
        self.refused(settings, w, scan(client, th, s1, "handoff", early), 409, "handoff.out_of_order", before,
                     client)
        # the right scan still works after all of these, and the same code again is a replay
        assert scan(client, c1h, s0, "handoff", good).status_code == 201
        before["next_seq"] = 0
        self.refused(settings, w, scan(client, c1h, s0, "handoff", good), 409, "handoff.code_replayed", before, client)
        # the carrier of the first leg cannot make or scan the last step's codes
        problem(client.post("/qr/generate", json={"handoff_id": s3["id"], "kind": "package"}, headers=c1h), 403,
                "handoff.not_a_party")
        last_code = code(client, c2h, s3, "package")
        self.refused(settings, w, scan(client, c1h, s3, "package", last_code), 403, "handoff.not_a_party", before,
                     client)

    def test_the_recipient_code_has_five_attempts(self, client, w, settings):
        parties = [w.sender[1], w.courier1[1], w.traveler[1], w.courier2[1]]
        for i in range(3):
            hand_over(client, w.steps[i], parties[i], parties[i + 1])
        last, c2 = w.steps[3], w.courier2[1]
        scan(client, c2, last, "package", code(client, c2, last, "package"))
        photo(client, c2, last)
        right = recipient_code(settings, w)
        wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
        problem(prove(client, w.traveler[1], w, right), 403, "handoff.not_a_party")
        for left in (4, 3, 2, 1, 0):
            r = prove(client, c2, w, wrong)
            problem(r, 422, "tracking.recipient_code_wrong")
            assert r.json()["data"]["attempts_left"] == left
        problem(prove(client, c2, w, right), 423, "tracking.recipient_code_locked")
        assert tracking(client, w)["status"] == "out_for_delivery"

    def test_a_carrier_records_a_delay_and_an_exception_needs_a_reason(self, client, w):
        th = w.traveler[1]
        r = client.post("/tracking/events", headers=th, json={
            "shipment_id": w.shipment["id"], "status": "in_transit", "reason": "weather_storm",
            "description": "Flight delayed by a storm."})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pre_transit" and r.json()["events"][-1]["reason"] == "weather_storm"
        problem(client.post("/tracking/events", headers=th, json={
            "shipment_id": w.shipment["id"], "status": "lost", "description": "Gone."}), 422,
            "tracking.reason_required")
        problem(client.post("/tracking/events", headers=th, json={
            "shipment_id": w.shipment["id"], "status": "delivered", "description": "Done."}), 409,
            "handoff.wrong_code")
        problem(client.post("/tracking/events", headers=w.sender[1], json={
            "shipment_id": w.shipment["id"], "status": "in_transit", "reason": "other_note",
            "description": "Where is it?"}), 403, "auth.forbidden")
        assert tracking(client, w)["status"] == "pre_transit"


class TestAccess:
    def test_only_parties_and_support_see_a_shipment_in_custody(self, client, call, platform, w):
        _, stranger = signed_up(client)
        sid, step = w.shipment["id"], w.steps[0]["id"]
        problem(client.get(f"/tracking/{sid}", headers=stranger), 404, "tracking.not_found")
        problem(client.get(f"/tracking/{sid}"), 404, "tracking.not_found")
        problem(client.get(f"/tracking/{sid}/history", headers=stranger), 404, "tracking.not_found")
        problem(client.get(f"/handoffs/{step}", headers=stranger), 404, "handoff.not_found")
        problem(client.post("/handoffs", json={"shipment_id": sid}, headers=stranger), 404, "handoff.not_found")
        for _, h in (w.courier1, w.traveler, w.courier2):
            assert client.get(f"/tracking/{sid}/history", headers=h).status_code == 200
            assert client.get(f"/handoffs/{step}", headers=h).status_code == 200
        _, support = user_with(client, call, platform, "support")
        assert client.get(f"/tracking/{sid}/history", headers=support).status_code == 200
        assert client.get("/tracking/stuck", headers=support).status_code == 200
        problem(client.get("/tracking/stuck", headers=w.sender[1]), 403, "auth.forbidden")

    def test_the_stuck_view_lists_a_shipment_past_its_next_step(self, client, call, platform, w, settings):
        _, support = user_with(client, call, platform, "support")
        engine = create_engine(sync_url(settings.effective_database_url))
        with Session(engine) as s:  # the pickup was due three hours ago
            s.execute(update(CustodyState).where(CustodyState.shipment_id == uuid.UUID(w.shipment["id"]))
                      .values(next_due_at=utcnow() - timedelta(hours=3)))
            s.commit()
        engine.dispose()
        stuck = client.get("/tracking/stuck", headers=support).json()
        mine = [x for x in stuck if x["shipment_id"] == w.shipment["id"]]
        assert len(mine) == 1 and mine[0]["next_seq"] == 0 and mine[0]["overdue_s"] >= 3 * 3600 - 60


class TestBadInput:
    def test_photos_must_be_small_images_and_a_bad_one_stores_nothing(self, client, w, settings):
        s0, sh = w.steps[0], w.sender[1]
        problem(photo(client, sh, s0, PDF, "image/jpeg"), 415, "handoff.photo_rejected")
        problem(photo(client, sh, s0, b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024 + 1)), 413,
                "handoff.photo_too_large")
        assert client.get(f"/handoffs/{s0['id']}", headers=sh).json()["photos"] == 0
        assert photo(client, sh, s0, PNG, "image/png").status_code == 201
        problem(prove(client, w.courier2[1], w, "12ab56"), 422, "request.validation_failed")
        problem(prove(client, w.courier2[1], w, "123456", PDF, "application/pdf"), 415, "tracking.proof_rejected")

    def test_a_scan_body_is_validated(self, client, w):
        s0, c1h = w.steps[0], w.courier1[1]
        for body in ({"kind": "handoff", "payload": "x" * 20, "lat": 91, "lon": 0},
                     {"scan_id": "nope", "kind": "handoff", "payload": "x" * 20, "lat": 0, "lon": 0},
                     {"scan_id": str(uuid.uuid4()), "kind": "box", "payload": "x" * 20, "lat": 0, "lon": 0}):
            problem(client.post(f"/handoffs/{s0['id']}/scan", json=body, headers=c1h), 422, "request.validation_failed")
        problem(client.post(f"/handoffs/{uuid.uuid4()}/scan", headers=c1h, json={
            "scan_id": str(uuid.uuid4()), "kind": "handoff", "payload": "x" * 20, "lat": 0, "lon": 0}), 404,
            "handoff.not_found")
        assert tracking(client, w)["status"] == "pre_transit"

    def test_a_booking_cannot_take_another_senders_shipment(self, client, call, platform, w):
        _, other = signed_up(client)
        it = client.get(f"/itineraries/{w.itinerary['id']}", headers=w.sender[1]).json()
        assert it["status"] == "booked"
        mine = create_shipment(client, other)
        r = client.post("/bookings", headers=w.sender[1], json={"itinerary_id": it["id"], "shipment_id": mine["id"],
                                                                 **PARCEL})
        problem(r, 404, "shipment.not_found")
        assert client.get(f"/shipments/{mine['id']}", headers=other).json()["status"] == "draft"


def test_scan_rows_count_every_attempt(client, w, settings):
    """Every scan attempt, accepted or refused, is one row."""
    s0 = w.steps[0]
    good = code(client, w.sender[1], s0, "handoff")
    scan(client, w.traveler[1], s0, "handoff", good)
    scan(client, w.courier1[1], s0, "handoff", good)
    engine = create_engine(sync_url(settings.effective_database_url))
    with Session(engine) as s:
        n = s.scalar(select(func.count()).select_from(HandoffScan).where(
            HandoffScan.shipment_id == uuid.UUID(w.shipment["id"])))
    engine.dispose()
    assert n == 2
