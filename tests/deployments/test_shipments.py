"""Shipment Service over HTTP, its internal methods and the events it follows."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from actors.custody.events import ShipmentDelivered, ShipmentException, ShipmentOutForDelivery, ShipmentPickedUp
from deployments.bookings.events import BookingCancelled, BookingConfirmed, BookingDeclined
from tests.factories.common import problem
from tests.factories.identity import signed_up, user_with
from tests.factories.places import PNG
from tests.factories.shipments import create_shipment, package_body, shipment_body


def svc(platform):
    return platform.runtime.services["shipments"]


def handle(call, platform, handler: str, event) -> None:
    """Run an event handler in a unit of work, as the relay does."""
    s = svc(platform)

    async def run():
        async with s.uow() as uow:
            await getattr(s, handler)(uow, event)
    call(run)


def mine(client, headers) -> list:
    return client.get("/shipments", headers=headers).json()["items"]


class TestCreate:
    def test_a_shipment_is_a_draft_with_a_tracking_number_and_geocoded_addresses(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        assert s["status"] == "draft" and s["tracking_number"].startswith("P2P") and len(s["tracking_number"]) == 13
        assert s["origin_location"].startswith("addr:") and s["origin_country"] == "GB"
        assert s["destination_location"] == "city:US:new-york" and s["destination_country"] == "US"
        assert s["international"] is True and s["origin_lat"] is not None
        assert [p["status"] for p in s["packages"]] == ["draft"] and s["packages"][0]["items"][0]["quantity"] == 2

    def test_a_shipment_may_start_without_packages(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h, packages=0, pickup={"location_id": "city:GB:london"},
                            recipient={"name": "Bob", "phone": "+447700900123",
                                       "address": {"location_id": "city:GB:london"}})
        assert s["packages"] == [] and s["international"] is False

    def test_a_prohibited_item_is_refused_naming_its_rule_and_nothing_is_stored(self, client):
        _, h = signed_up(client)
        body = shipment_body(packages=2)
        body["packages"][1]["items"].append({"description": "Spare lithium battery", "quantity": 1})
        r = client.post("/shipments", json=body, headers=h)
        problem(r, 422, "shipment.prohibited_item")
        assert r.json()["data"] == {"rule": "lithium_batteries_loose", "keyword": "spare lithium battery",
                                    "package": 1, "item": 1, "field": "description"}
        problem(client.post("/shipments", json=shipment_body(description="Cash for grandma"), headers=h), 422,
                "shipment.prohibited_item")
        assert mine(client, h) == []

    def test_bad_input_is_refused_and_nothing_is_stored(self, client):
        _, h = signed_up(client)
        body = shipment_body()
        bad = [{"packages": [package_body(weight_g=0)]}, {"packages": [package_body(weight_g=-5)]},
               {"currency": "XXQ"}, {"packages": [package_body() for _ in range(11)]},
               {"pickup_window": {"start": body["pickup_window"]["end"], "end": body["pickup_window"]["start"]}},
               {"recipient": {**body["recipient"], "phone": "0207 946 0000"}},
               {"delivery_window": {"start": "2020-01-01T00:00:00+00:00", "end": "2020-01-02T00:00:00+00:00"}}]
        for kw in bad:
            problem(client.post("/shipments", json={**body, **kw}, headers=h), 422, "request.validation_failed")
        problem(client.post("/shipments", json={**body, "pickup": {"location_id": "city:GB:atlantis"}}, headers=h),
                422, "shipment.unknown_location")
        assert mine(client, h) == []


class TestGet:
    def test_others_get_a_404_and_support_sees_it(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        assert client.get(f"/shipments/{s['id']}", headers=h).json()["id"] == s["id"]
        _, other = signed_up(client)
        problem(client.get(f"/shipments/{s['id']}", headers=other), 404, "shipment.not_found")
        _, support = user_with(client, call, platform, "support")
        assert client.get(f"/shipments/{s['id']}", headers=support).status_code == 200

    def test_the_list_is_the_senders_own_filtered_by_status(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        assert [x["id"] for x in mine(client, h)] == [s["id"]]
        assert client.get("/shipments", params={"status": "booked"}, headers=h).json()["items"] == []


class TestStatus:
    def test_the_sender_cancels_a_draft_and_cannot_cancel_twice(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        r = client.put(f"/shipments/{s['id']}/status", json={"status": "cancelled", "reason": "changed mind"},
                       headers=h)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert r.json()["packages"][0]["status"] == "cancelled"
        r = client.put(f"/shipments/{s['id']}/status", json={"status": "cancelled"}, headers=h)
        problem(r, 409, "shipment.illegal_transition")
        assert r.json()["data"]["status"] == "cancelled" and "cancelled" in r.json()["detail"]

    def test_lost_only_in_transit_and_support_may_report_it(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        r = client.put(f"/shipments/{s['id']}/status", json={"status": "lost"}, headers=h)
        problem(r, 409, "shipment.illegal_transition")
        assert r.json()["data"]["status"] == "draft"
        problem(client.put(f"/shipments/{s['id']}/status", json={"status": "delivered"}, headers=h), 409,
                "shipment.illegal_transition")
        handle(call, platform, "on_picked_up", custody_event(ShipmentPickedUp, s, "picked_up"))
        _, support = user_with(client, call, platform, "support")
        r = client.put(f"/shipments/{s['id']}/status", json={"status": "lost"}, headers=support)
        assert r.status_code == 200 and r.json()["status"] == "lost"

    def test_the_sender_asks_for_a_return_while_in_transit(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        handle(call, platform, "on_picked_up", custody_event(ShipmentPickedUp, s, "picked_up"))
        r = client.put(f"/shipments/{s['id']}/status", json={"status": "return_to_sender"}, headers=h)
        assert r.status_code == 200 and r.json()["status"] == "return_to_sender"


class TestAddPackage:
    def test_packages_are_added_while_draft_only(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h, packages=0)
        r = client.post(f"/shipments/{s['id']}/packages", json=package_body(), headers=h)
        assert r.status_code == 201 and r.json()["seq"] == 0
        r = client.post(f"/shipments/{s['id']}/packages", json=package_body(description="A hunting knife"), headers=h)
        problem(r, 422, "shipment.prohibited_item")
        assert r.json()["data"]["rule"] == "weapons" and r.json()["data"]["package"] == 1
        call(svc(platform).attach, uuid.UUID(s["id"]), uuid.UUID(s["sender_id"]), uuid.uuid4())
        problem(client.post(f"/shipments/{s['id']}/packages", json=package_body(), headers=h), 409,
                "shipment.not_editable")
        assert len(client.get(f"/shipments/{s['id']}", headers=h).json()["packages"]) == 1


class TestAddPhoto:
    def test_a_png_is_stored_and_bad_files_are_refused(self, client):
        _, h = signed_up(client)
        pkg = create_shipment(client, h)["packages"][0]
        r = client.post(f"/packages/{pkg['id']}/photos", files={"file": ("p.png", PNG, "image/png")}, headers=h)
        assert r.status_code == 201 and r.json()["content_type"] == "image/png", r.text
        big = PNG + b"\0" * (5 * 1024 * 1024)
        problem(client.post(f"/packages/{pkg['id']}/photos", files={"file": ("p.png", big, "image/png")}, headers=h),
                413, "shipment.photo_too_large")
        problem(client.post(f"/packages/{pkg['id']}/photos", files={"file": ("p.png", b"hello", "image/png")},
                            headers=h), 415, "shipment.photo_unsupported")
        _, other = signed_up(client)
        problem(client.post(f"/packages/{pkg['id']}/photos", files={"file": ("p.png", PNG, "image/png")},
                            headers=other), 404, "shipment.package_not_found")
        assert len(client.get(f"/shipments/{pkg['shipment_id']}", headers=h).json()["packages"][0]["photos"]) == 1


def custody_event(cls, s: dict, status: str, **kw):
    return cls(shipment_id=s["id"], booking_id=s.get("booking_id"), status=status, at=datetime.now(timezone.utc),
               **kw)


def booking_event(cls, s: dict, booking_id, **kw):
    return cls(booking_id=booking_id, itinerary_id=uuid.uuid4(), sender_id=s["sender_id"], shipment_id=s["id"],
               **kw)


class TestAttachAndDetach:
    def test_a_booking_attaches_a_draft_once_and_detach_returns_it(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        sid, sender, booking = uuid.UUID(s["id"]), uuid.UUID(s["sender_id"]), uuid.uuid4()
        got = call(svc(platform).attach, sid, sender, booking)
        assert got.status == "awaiting_acceptance" and got.booking_id == booking and len(got.package_ids) == 1
        assert call(svc(platform).attach, sid, sender, booking).booking_id == booking  # idempotent
        for args, code in (((sid, sender, uuid.uuid4()), "shipment.illegal_transition"),
                           ((sid, uuid.uuid4(), booking), "shipment.not_found")):
            try:
                call(svc(platform).attach, *args)
                raise AssertionError("attach should refuse")
            except Exception as exc:  # noqa: BLE001 - the ProblemError of the service
                assert getattr(exc, "code", None) == code
        assert client.get(f"/shipments/{s['id']}", headers=h).json()["packages"][0]["status"] == "ready"
        call(svc(platform).detach, sid, booking)
        call(svc(platform).detach, sid, booking)
        assert client.get(f"/shipments/{s['id']}", headers=h).json()["status"] == "draft"

    def test_a_shipment_without_packages_cannot_be_attached(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h, packages=0)
        try:
            call(svc(platform).attach, uuid.UUID(s["id"]), uuid.UUID(s["sender_id"]), uuid.uuid4())
            raise AssertionError("attach should refuse")
        except Exception as exc:  # noqa: BLE001
            assert getattr(exc, "code", None) == "shipment.no_packages"


class TestLookups:
    def test_custody_subject_tracking_number_and_customs_facts(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h, packages=2)
        sid = uuid.UUID(s["id"])
        assert call(svc(platform).custody_subject, sid).tracking_number == s["tracking_number"]
        assert call(svc(platform).by_tracking_number, s["tracking_number"].lower()).id == sid
        facts = call(svc(platform).customs_facts, sid)
        assert facts.international and facts.weight_g == 3000 and facts.packages == 2 and facts.currency == "GBP"
        n = s["tracking_number"]
        typo = n[:5] + ("1" if n[5] != "1" else "2") + n[6:]
        for fn, arg in ((svc(platform).by_tracking_number, typo), (svc(platform).custody_subject, uuid.uuid4()),
                        (svc(platform).customs_facts, uuid.uuid4())):
            try:
                call(fn, arg)
                raise AssertionError("lookup should refuse")
            except Exception as exc:  # noqa: BLE001
                assert getattr(exc, "code", None) == "shipment.not_found" and exc.status == 404


class TestEvents:
    def test_the_booking_and_custody_events_move_the_shipment_forward_only(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        booking, carrier = uuid.uuid4(), uuid.uuid4()
        call(svc(platform).attach, uuid.UUID(s["id"]), uuid.UUID(s["sender_id"]), booking)
        handle(call, platform, "on_booking_confirmed",
               booking_event(BookingConfirmed, s, booking, status="confirmed", carrier_ids=[carrier]))
        got = client.get(f"/shipments/{s['id']}", headers=h).json()
        assert got["status"] == "booked" and got["carrier_ids"] == [str(carrier)]
        assert got["packages"][0]["status"] == "assigned"
        handle(call, platform, "on_out_for_delivery", custody_event(ShipmentOutForDelivery, s, "out_for_delivery"))
        handle(call, platform, "on_picked_up", custody_event(ShipmentPickedUp, s, "picked_up"))  # late
        assert client.get(f"/shipments/{s['id']}", headers=h).json()["status"] == "out_for_delivery"
        handle(call, platform, "on_delivered", custody_event(ShipmentDelivered, s, "delivered", proof_id=uuid.uuid4()))
        handle(call, platform, "on_exception", custody_event(ShipmentException, s, "lost", reason="other_x"))
        got = client.get(f"/shipments/{s['id']}", headers=h).json()
        assert got["status"] == "delivered" and got["packages"][0]["status"] == "delivered"

    def test_a_closed_booking_returns_a_pending_shipment_to_draft_and_cancels_a_booked_one(self, client, call,
                                                                                           platform):
        _, h = signed_up(client)
        a, b = create_shipment(client, h), create_shipment(client, h)
        ba, bb = uuid.uuid4(), uuid.uuid4()
        for s, bk in ((a, ba), (b, bb)):
            call(svc(platform).attach, uuid.UUID(s["id"]), uuid.UUID(s["sender_id"]), bk)
        handle(call, platform, "on_booking_declined",
               booking_event(BookingDeclined, a, ba, status="declined", was="pending"))
        got = client.get(f"/shipments/{a['id']}", headers=h).json()
        assert got["status"] == "draft" and got["booking_id"] is None
        handle(call, platform, "on_booking_confirmed", booking_event(BookingConfirmed, b, bb, status="confirmed"))
        handle(call, platform, "on_booking_cancelled",
               booking_event(BookingCancelled, b, bb, status="cancelled", was="confirmed"))
        assert client.get(f"/shipments/{b['id']}", headers=h).json()["status"] == "cancelled"
