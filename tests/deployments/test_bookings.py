"""Booking Service over HTTP: all-or-nothing holds, carriers' acceptance, expiry, access."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from deployments.kit import runtime as kit_runtime
from storage.db import sync_url
from storage.models.bookings import Booking
from tests.factories.common import problem, wait_past, wait_until
from tests.factories.trips import (
    courier_leg,
    courier_segment,
    create_trip,
    flight_leg,
    itinerary,
    ledger,
    sender,
    traveler,
)

PARCEL = {"weight_g": 2000, "volume_cm3": 3000, "items": 1, "category": "parcel"}


def book(client, headers, it: dict, **kw):
    return client.post("/bookings", json={"itinerary_id": it["id"], **PARCEL, **kw}, headers=headers)


def setup(client, call, platform, *, courier: bool = True, **trip_kw):
    """A published trip LHR-JFK, optionally a London->LHR courier leg, and a sender's itinerary."""
    tu, th = traveler(client, call, platform)
    trip = create_trip(client, th, **trip_kw)
    legs, ch = [flight_leg(trip)], None
    if courier:
        _, ch, seg = courier_segment(client, call, platform)
        legs.insert(0, courier_leg(seg, trip))
    su, sh = sender(client)
    return {"trip": trip, "th": th, "ch": ch, "sh": sh, "sender": su, "it": itinerary(client, sh, legs)}


def remaining_g(client, w) -> int:
    return client.get(f"/trips/{w['trip']['id']}/capacity", headers=w["th"]).json()["legs"][0]["remaining_g"]


class TestCreate:
    def test_a_booking_holds_every_leg_and_waits_for_the_carriers(self, client, call, platform):
        w = setup(client, call, platform)
        r = book(client, w["sh"], w["it"])
        assert r.status_code == 201, r.text
        b = r.json()
        assert b["status"] == "pending" and [x["hold"] for x in b["legs"]] == ["held", "held"]
        assert remaining_g(client, w) == 8000
        it = client.get(f"/itineraries/{w['it']['id']}", headers=w["sh"]).json()
        assert it["status"] == "requested" and it["booking_id"] == b["id"]
        problem(book(client, w["sh"], w["it"]), 409, "itinerary.locked")

    def test_if_one_leg_is_full_nothing_is_held(self, client, call, platform):
        tu, th = traveler(client, call, platform)
        first = create_trip(client, th, weight_g=10_000)
        dep = datetime.fromisoformat(first["legs"][0]["arrives_at"].replace("Z", "+00:00")) + timedelta(hours=3)
        second = create_trip(client, th, route=("JFK", "SFO"), weight_g=1000, start=dep)
        _, sh = sender(client)
        it = itinerary(client, sh, [flight_leg(first), flight_leg(second)])
        r = book(client, sh, it)
        problem(r, 409, "booking.capacity_unavailable")
        assert r.json()["data"]["leg"] == 1 and r.json()["data"]["reason"] == "trip.full"
        url = platform.runtime.settings.effective_database_url
        assert ledger(url, uuid.UUID(first["id"]))["held_g"] == [0]
        assert ledger(url, uuid.UUID(first["id"]))["holds"] == {"released": 1}
        assert client.get(f"/itineraries/{it['id']}", headers=sh).json()["status"] == "planned"
        assert client.get("/bookings", headers=sh).json()["items"] == []

    def test_a_booking_on_a_cancelled_trip_is_a_409(self, client, call, platform):
        w = setup(client, call, platform, courier=False)
        client.delete(f"/trips/{w['trip']['id']}", headers=w["th"])
        r = book(client, w["sh"], w["it"])
        problem(r, 409, "booking.capacity_unavailable")
        assert r.json()["data"]["reason"] == "trip.not_bookable"

    def test_bad_input_is_refused(self, client, call, platform):
        w = setup(client, call, platform, courier=False)
        for kw in ({"weight_g": -1}, {"items": 0}, {"category": "weapons"}, {"volume_cm3": 10**9}):
            problem(book(client, w["sh"], w["it"], **kw), 422, "request.validation_failed")
        problem(book(client, w["sh"], {"id": str(uuid.uuid4())}), 404, "itinerary.not_found")
        problem(book(client, w["th"], w["it"]), 403, "auth.forbidden")  # a traveler books nothing
        assert remaining_g(client, w) == 10_000

    def test_the_trips_constraints_apply(self, client, call, platform):
        w = setup(client, call, platform, courier=False, constraints={"banned_categories": ["food"]})
        r = book(client, w["sh"], w["it"], category="food")
        problem(r, 409, "booking.capacity_unavailable")
        assert r.json()["data"]["reason"] == "trip.item_not_allowed"

    def test_a_parcel_too_heavy_for_the_courier_segment_holds_nothing(self, client, call, platform):
        w = setup(client, call, platform)  # the segment carries 10 kg, the trip 10 kg
        r = book(client, w["sh"], w["it"], weight_g=10_001)
        problem(r, 409, "booking.capacity_unavailable")
        assert r.json()["data"] == {"leg": 0, "kind": "courier", "reason": "courier.segment_unavailable"}
        assert remaining_g(client, w) == 10_000
        assert client.get(f"/itineraries/{w['it']['id']}", headers=w["sh"]).json()["status"] == "planned"

    def test_four_legs_take_one_call_per_callee_and_leg_before_the_booking_is_written(self, client, call, platform,
                                                                                       monkeypatch):
        """Courier, two flights of one trip, courier: the itinerary once, one hold for the
        trip, one per courier leg (at most 6 calls for 4 legs)."""
        _, th = traveler(client, call, platform)
        trip = create_trip(client, th, route=("LHR", "JFK", "SFO"))
        _, _, first = courier_segment(client, call, platform)
        _, _, last = courier_segment(client, call, platform, from_location="apt:SFO",
                                     to_location="city:US:san-francisco")
        landed = datetime.fromisoformat(trip["legs"][1]["arrives_at"].replace("Z", "+00:00"))
        onward = {"kind": "courier", "segment_id": last["id"], "starts_at": (landed + timedelta(hours=2)).isoformat()}
        _, sh = sender(client)
        it = itinerary(client, sh, [courier_leg(first, trip), flight_leg(trip, 0), flight_leg(trip, 1), onward])
        calls: list[tuple[str, str]] = []
        real = kit_runtime.invoke_local

        async def counted(service, method, args, kwargs):
            calls.append((service.spec.key, method))
            return await real(service, method, args, kwargs)

        monkeypatch.setattr(kit_runtime, "invoke_local", counted)  # every in-process call between services
        r = book(client, sh, it)
        assert r.status_code == 201, r.text
        booking_path = [c for c in calls if c[0] not in ("auth", "authz")]  # not the edge authenticating
        assert len(booking_path) <= 6
        assert sorted(booking_path) == [("couriers", "hold_segment"), ("couriers", "hold_segment"),
                                        ("itineraries", "reserve"), ("trips", "hold")]
        assert [x["hold"] for x in r.json()["legs"]] == ["held"] * 4
        assert ledger(platform.runtime.settings.effective_database_url, uuid.UUID(trip["id"]))["holds"] == {"held": 1}


class TestConfirm:
    def test_the_booking_is_confirmed_when_every_carrier_accepts(self, client, call, platform):
        w = setup(client, call, platform)
        b = book(client, w["sh"], w["it"]).json()
        problem(client.put(f"/bookings/{b['id']}/confirm", headers=w["sh"]), 403, "auth.forbidden")
        r = client.put(f"/bookings/{b['id']}/confirm", headers=w["th"])
        assert r.status_code == 200 and r.json()["status"] == "pending"
        assert [x["status"] for x in r.json()["legs"]] == ["requested", "accepted"]
        r = client.put(f"/bookings/{b['id']}/confirm", headers=w["ch"])
        assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
        left = client.get(f"/trips/{w['trip']['id']}/capacity", headers=w["th"]).json()["legs"][0]
        assert left["held_g"] == 0 and left["booked_g"] == 2000
        assert client.get(f"/itineraries/{w['it']['id']}", headers=w["sh"]).json()["status"] == "booked"
        assert client.put(f"/bookings/{b['id']}/confirm", headers=w["th"]).json()["status"] == "confirmed"

    def test_a_declined_leg_releases_everything(self, client, call, platform):
        w = setup(client, call, platform)
        b = book(client, w["sh"], w["it"]).json()
        r = client.put(f"/bookings/{b['id']}/decline", headers=w["th"])
        assert r.status_code == 200 and r.json()["status"] == "declined"
        assert all(x["hold"] == "released" for x in r.json()["legs"])
        assert remaining_g(client, w) == 10_000
        assert client.get(f"/itineraries/{w['it']['id']}", headers=w["sh"]).json()["status"] == "planned"
        problem(client.put(f"/bookings/{b['id']}/confirm", headers=w["ch"]), 409, "booking.not_pending")


class TestCancel:
    def test_the_sender_cancels_and_the_capacity_returns(self, client, call, platform):
        w = setup(client, call, platform, courier=False)
        b = book(client, w["sh"], w["it"]).json()
        client.put(f"/bookings/{b['id']}/confirm", headers=w["th"])
        problem(client.delete(f"/bookings/{b['id']}", headers=w["th"]), 403, "auth.forbidden")
        r = client.delete(f"/bookings/{b['id']}", headers=w["sh"])
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert client.delete(f"/bookings/{b['id']}", headers=w["sh"]).json()["status"] == "cancelled"
        assert remaining_g(client, w) == 10_000
        assert client.get(f"/itineraries/{w['it']['id']}", headers=w["sh"]).json()["status"] == "cancelled"

    def test_cancelling_the_trip_cancels_its_bookings(self, client, call, platform, drain):
        w = setup(client, call, platform)
        b = book(client, w["sh"], w["it"]).json()
        client.delete(f"/trips/{w['trip']['id']}", headers=w["th"])
        drain()
        got = client.get(f"/bookings/{b['id']}", headers=w["sh"]).json()
        assert got["status"] == "cancelled" and got["reason"] == "trip_cancelled"
        assert all(x["hold"] == "released" for x in got["legs"])
        assert client.get(f"/itineraries/{w['it']['id']}", headers=w["sh"]).json()["status"] == "planned"


class TestExpiry:
    def test_a_pending_booking_expires_with_no_traffic(self, client, call, platform, drain, monkeypatch):
        """The shard's sweep expires the hold, its event expires the booking."""
        w = setup(client, call, platform, courier=False)
        monkeypatch.setattr(platform.runtime.settings, "booking_hold_ttl_s", 0.5)
        b = book(client, w["sh"], w["it"]).json()
        url = platform.runtime.settings.effective_database_url
        # the hold lapses after 0.5 s; the next sweep (every capacity_sweep_s) expires it
        wait_until(lambda: ledger(url, uuid.UUID(w["trip"]["id"]))["holds"] == {"expired": 1}, timeout=15,
                   interval=0.1, what="the sweep expiring the hold")
        drain()
        with Session(create_engine(sync_url(url))) as s:
            assert s.scalar(select(Booking.status).where(Booking.id == uuid.UUID(b["id"]))) == "expired"
        assert remaining_g(client, w) == 10_000
        problem(client.put(f"/bookings/{b['id']}/confirm", headers=w["th"]), 409, "booking.expired")
        drain()
        assert client.get(f"/itineraries/{w['it']['id']}", headers=w["sh"]).json()["status"] == "planned"

    def test_a_confirm_after_the_ttl_finds_the_booking_expired(self, client, call, platform, monkeypatch):
        w = setup(client, call, platform, courier=False)
        monkeypatch.setattr(platform.runtime.settings, "booking_hold_ttl_s", 0.5)
        b = book(client, w["sh"], w["it"]).json()
        wait_past(b["expires_at"])  # the booking's own deadline (its holds lapse just before it)
        problem(client.put(f"/bookings/{b['id']}/confirm", headers=w["th"]), 409, "booking.expired")
        assert client.get(f"/bookings/{b['id']}", headers=w["sh"]).json()["status"] == "expired"
        assert remaining_g(client, w) == 10_000


class TestAccess:
    def test_a_sender_sees_only_their_own_bookings(self, client, call, platform):
        w = setup(client, call, platform, courier=False)
        b = book(client, w["sh"], w["it"]).json()
        _, other = sender(client)
        problem(client.get(f"/bookings/{b['id']}", headers=other), 404, "booking.not_found")
        assert client.get("/bookings", headers=other).json()["items"] == []
        assert [x["id"] for x in client.get("/bookings", headers=w["sh"]).json()["items"]] == [b["id"]]
        assert client.get("/bookings", params={"status": "confirmed"}, headers=w["sh"]).json()["items"] == []
        assert client.get(f"/bookings/{b['id']}", headers=w["th"]).json()["id"] == b["id"]  # the carrier
        problem(client.delete(f"/bookings/{b['id']}", headers=other), 404, "booking.not_found")
