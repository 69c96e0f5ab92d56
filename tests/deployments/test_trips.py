"""Trip Service over HTTP (service layer: TestClient, SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

from actors.capacity import TripFull
from tests.factories.common import problem
from tests.factories.trips import create_trip, ledger, legs_body, sender, traveler, trip_body

PDF = b"%PDF-1.4\n% a boarding pass\n"


class TestCreate:
    def test_a_traveler_creates_a_draft_of_chained_legs(self, client, call, platform):
        user, headers = traveler(client, call, platform)
        r = client.post("/trips", json=trip_body(("LHR", "JFK", "SFO")), headers=headers)
        assert r.status_code == 201, r.text
        trip = r.json()
        assert trip["status"] == "draft" and trip["traveler_id"] == user["id"]
        assert [(x["origin"], x["destination"]) for x in trip["legs"]] == [("LHR", "JFK"), ("JFK", "SFO")]
        assert trip["legs"][0]["origin_location"] == "apt:LHR" and trip["legs"][0]["origin_tz"] == "Europe/London"
        assert trip["price"] == {"per_kg_minor": 1500, "min_price_minor": 500, "currency": "GBP"}

    def test_a_sender_cannot_publish_trips(self, client):
        _, headers = sender(client)
        problem(client.post("/trips", json=trip_body(), headers=headers), 403, "auth.forbidden")

    def test_bad_trips_are_clear_4xx_problems_and_create_nothing(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        before = client.get("/trips", headers=headers).json()["items"]
        bad_leg = legs_body()
        bad_leg[0]["arrives_at"], bad_leg[0]["departs_at"] = bad_leg[0]["departs_at"], bad_leg[0]["arrives_at"]
        gap = legs_body(("LHR", "JFK", "SFO"))
        gap[1]["origin"] = "EWR"
        overlap = legs_body(("LHR", "JFK", "SFO"), gap_h=-4)
        cases = [
            ({**trip_body(), "legs": legs_body(("LHR", "QQQ"))}, 422, "trip.unknown_airport"),
            ({**trip_body(), "legs": bad_leg}, 422, "trip.arrival_before_departure"),
            ({**trip_body(), "legs": gap}, 422, "trip.legs_discontinuous"),
            ({**trip_body(), "legs": overlap}, 422, "trip.legs_out_of_order"),
            ({**trip_body(), "legs": legs_body(("LHR", "LHR"))}, 422, "trip.same_airport"),
            (trip_body(weight_g=-5), 422, "request.validation_failed"),
            (trip_body(items=0), 422, "request.validation_failed"),
            (trip_body(weight_g=10_000_000), 422, "request.validation_failed"),
            (trip_body(currency="XXY"), 422, "request.validation_failed"),
            ({**trip_body(), "legs": [{**legs_body()[0], "carrier": "12"}]}, 422, "request.validation_failed"),
            ({**trip_body(), "legs": [{**legs_body()[0], "flight_number": "ABC"}]}, 422, "request.validation_failed"),
            ({**trip_body(), "legs": [{**legs_body()[0], "departs_at": "2030-01-01T10:00:00"}]}, 422,
             "request.validation_failed"),
            (trip_body(constraints={"allowed_categories": ["food"], "banned_categories": ["food"]}), 422,
             "request.validation_failed"),
            (trip_body(constraints={"banned_categories": ["weapons"]}), 422, "request.validation_failed"),
        ]
        for body, status, code in cases:
            problem(client.post("/trips", json=body, headers=headers), status, code)
        past = trip_body(start=datetime(2020, 1, 1, tzinfo=timezone.utc))
        problem(client.post("/trips", json=past, headers=headers), 422, "trip.departure_in_past")
        assert client.get("/trips", headers=headers).json()["items"] == before


class TestReadAndList:
    def test_drafts_are_private_and_published_trips_public(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        _, other = sender(client)
        draft = create_trip(client, headers, publish=False)
        problem(client.get(f"/trips/{draft['id']}", headers=other), 404, "trip.not_found")
        published = create_trip(client, headers)
        assert client.get(f"/trips/{published['id']}", headers=other).json()["status"] == "published"
        mine = client.get("/trips", headers=headers).json()["items"]
        assert {t["id"] for t in mine} == {draft["id"], published["id"]}
        drafts = client.get("/trips", params={"status": "draft"}, headers=headers).json()["items"]
        assert [t["id"] for t in drafts] == [draft["id"]]
        assert client.get("/trips", headers=other).json()["items"] == []

    def test_the_list_pages_with_a_cursor(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        ids = {create_trip(client, headers, publish=False)["id"] for _ in range(3)}
        first = client.get("/trips", params={"limit": 2}, headers=headers).json()
        second = client.get("/trips", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()
        assert {t["id"] for t in first["items"] + second["items"]} == ids and second["next_cursor"] is None


class TestUpdate:
    def test_only_the_traveler_edits_the_trip(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        _, other_traveler = traveler(client, call, platform)
        trip = create_trip(client, headers)
        problem(client.put(f"/trips/{trip['id']}", json={"notes": "mine"}, headers=other_traveler), 403,
                "trip.not_traveler")
        r = client.put(f"/trips/{trip['id']}", json={"notes": "window seat", "price": {
            "per_kg_minor": 2000, "currency": "EUR"}}, headers=headers)
        assert r.status_code == 200 and r.json()["notes"] == "window seat"
        assert r.json()["price"]["currency"] == "EUR" and r.json()["version"] == trip["version"] + 1

    def test_legs_change_only_in_a_draft(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        draft = create_trip(client, headers, publish=False)
        r = client.put(f"/trips/{draft['id']}", json={"legs": legs_body(("CDG", "JFK"))}, headers=headers)
        assert r.status_code == 200 and r.json()["legs"][0]["origin"] == "CDG"
        published = create_trip(client, headers)
        problem(client.put(f"/trips/{published['id']}", json={"legs": legs_body(("CDG", "JFK"))}, headers=headers),
                409, "trip.not_editable")

    def test_capacity_cannot_drop_below_what_is_held(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        trip = create_trip(client, headers, weight_g=5000)
        svc = platform.runtime.services["trips"]
        call(svc.hold, uuid.UUID(trip["id"]), [uuid.UUID(trip["legs"][0]["id"])], uuid.uuid4(), 3000, 1000, 1)
        cap = {"weight_g": 2000, "volume_cm3": 50_000, "items": 20}
        problem(client.put(f"/trips/{trip['id']}", json={"capacity": cap}, headers=headers), 409,
                "trip.capacity_below_committed")
        assert client.get(f"/trips/{trip['id']}", headers=headers).json()["capacity"]["weight_g"] == 5000
        cap["weight_g"] = 3000
        assert client.put(f"/trips/{trip['id']}", json={"capacity": cap}, headers=headers).status_code == 200
        left = client.get(f"/trips/{trip['id']}/capacity", headers=headers).json()
        assert left["legs"][0]["remaining_g"] == 0 and left["legs"][0]["held_g"] == 3000


class TestLifecycle:
    def test_publish_start_complete(self, client, call, platform, drain):
        _, headers = traveler(client, call, platform)
        trip = create_trip(client, headers)
        assert trip["status"] == "published" and trip["published_at"]
        problem(client.post(f"/trips/{trip['id']}/publish", headers=headers), 409, "trip.invalid_transition")
        assert client.post(f"/trips/{trip['id']}/start", headers=headers).json()["status"] == "in_progress"
        problem(client.delete(f"/trips/{trip['id']}", headers=headers), 409, "trip.invalid_transition")
        assert client.post(f"/trips/{trip['id']}/complete", headers=headers).json()["status"] == "completed"
        drain()

    def test_the_published_event_carries_what_subscribers_need(self, client, call, platform):
        from sqlalchemy import select

        from storage.models.events import OutboxEvent

        _, headers = traveler(client, call, platform)
        trip = create_trip(client, headers, constraints={"banned_categories": ["food"]})

        async def payload():
            async with platform.runtime.services["trips"].uow(read=True) as uow:
                return await uow.scalar(select(OutboxEvent.payload).where(
                    OutboxEvent.topic == "trip.published", OutboxEvent.entity_id == trip["id"]))

        event = call(payload)
        assert event["price"] == trip["price"] and event["constraints"]["banned_categories"] == ["food"]
        assert [leg["leg_id"] for leg in event["legs"]] == [leg["id"] for leg in trip["legs"]]
        assert event["legs"][0]["carrier"] == "BA" and event["capacity"]["weight_g"] == trip["capacity"]["weight_g"]

    def test_cancelling_releases_every_hold_and_says_so(self, client, call, platform, settings):
        _, headers = traveler(client, call, platform)
        trip, other = create_trip(client, headers), create_trip(client, headers, route=("JFK", "SFO"))
        svc = platform.runtime.services["trips"]
        booking = uuid.uuid4()
        for t in (trip, other):
            call(svc.hold, uuid.UUID(t["id"]), [uuid.UUID(t["legs"][0]["id"])], booking, 1000, 1000, 1)
        r = client.delete(f"/trips/{trip['id']}", headers=headers)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert client.delete(f"/trips/{trip['id']}", headers=headers).json()["status"] == "cancelled"
        url = settings.effective_database_url
        assert ledger(url, uuid.UUID(trip["id"]))["held_g"] == [0]
        assert ledger(url, uuid.UUID(other["id"]))["holds"] == {"released": 1}
        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session

        from storage.db import sync_url
        from storage.models.events import OutboxEvent

        with Session(create_engine(sync_url(url))) as s:
            ev = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "trip.cancelled",
                                                     OutboxEvent.entity_id == trip["id"])).one()
        assert ev.payload["booking_ids"] == [str(booking)]

    def test_a_cancelled_trip_takes_no_holds(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        trip = create_trip(client, headers)
        client.delete(f"/trips/{trip['id']}", headers=headers)
        svc = platform.runtime.services["trips"]
        try:
            call(svc.hold, uuid.UUID(trip["id"]), [uuid.UUID(trip["legs"][0]["id"])], uuid.uuid4(), 1, 1, 1)
            raise AssertionError("held on a cancelled trip")
        except Exception as exc:
            assert getattr(exc, "code", None) == "trip.not_bookable"


class TestDocuments:
    def test_the_traveler_uploads_a_ticket(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        trip = create_trip(client, headers)
        r = client.post(f"/trips/{trip['id']}/documents", data={"kind": "ticket"},
                        files={"file": ("ticket.pdf", PDF, "application/pdf")}, headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "ticket" and len(r.json()["sha256"]) == 64
        assert client.get(f"/trips/{trip['id']}", headers=headers).json()["documents"][0]["id"] == r.json()["id"]

    def test_a_fake_pdf_or_a_strangers_upload_is_refused(self, client, call, platform):
        _, headers = traveler(client, call, platform)
        _, stranger = traveler(client, call, platform)
        trip = create_trip(client, headers)
        problem(client.post(f"/trips/{trip['id']}/documents", data={"kind": "ticket"},
                            files={"file": ("x.pdf", b"MZ\x90\x00", "application/pdf")}, headers=headers),
                422, "trip.document_rejected")
        problem(client.post(f"/trips/{trip['id']}/documents", data={"kind": "ticket"},
                            files={"file": ("t.pdf", PDF, "application/pdf")}, headers=stranger),
                403, "trip.not_traveler")


class TestConcurrentHolds:
    def test_200_concurrent_holds_on_5_trips_sell_exactly_their_capacity(self, client, call, platform, settings):
        """5 trips x 12 kg; 200 holds of 1 kg at once -> 60 holds, 140 refusals, nothing oversold."""
        _, headers = traveler(client, call, platform)
        trips = [create_trip(client, headers, weight_g=12_000, items=50) for _ in range(5)]
        svc = platform.runtime.services["trips"]

        async def burst():
            async def one(i):
                t = trips[i % 5]
                return await svc.hold(uuid.UUID(t["id"]), [uuid.UUID(t["legs"][0]["id"])], uuid.uuid4(),
                                      1000, 100, 1)
            return await asyncio.gather(*[one(i) for i in range(200)], return_exceptions=True)

        results = client.portal.call(burst)
        ok = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(ok) == 60 and len(refused) == 140
        assert all(isinstance(r, TripFull) and r.status == 409 for r in refused)
        for t in trips:
            led = ledger(settings.effective_database_url, uuid.UUID(t["id"]))
            assert led["held_g"] == [12_000] and led["holds_g"] == {"held": 12_000}
            left = client.get(f"/trips/{t['id']}/capacity", headers=headers).json()
            assert left["legs"][0]["remaining_g"] == 0
