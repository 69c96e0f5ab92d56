"""Itinerary Service over HTTP: continuity, connection buffers, owner-only access."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.factories.common import problem
from tests.factories.trips import courier_leg, courier_segment, create_trip, flight_leg, itinerary, sender, traveler


class TestCreate:
    def test_a_sender_plans_courier_then_flight(self, client, call, platform):
        _, th = traveler(client, call, platform)
        trip = create_trip(client, th)
        courier, _, seg = courier_segment(client, call, platform)
        _, sh = sender(client)
        it = itinerary(client, sh, [courier_leg(seg, trip), flight_leg(trip)])
        assert it["status"] == "planned" and [x["kind"] for x in it["legs"]] == ["courier", "flight"]
        assert it["legs"][0]["to_location"] == it["legs"][1]["from_location"] == "apt:LHR"
        assert all(x["status"] == "planned" for x in it["legs"])
        assert it["legs"][1]["carrier_id"] == trip["traveler_id"]

    def test_a_gap_between_legs_is_a_422_and_creates_nothing(self, client, call, platform):
        _, th = traveler(client, call, platform)
        lhr, jfk_sfo = create_trip(client, th), create_trip(client, th, route=("EWR", "SFO"))
        _, _, seg = courier_segment(client, call, platform, to_location="apt:LGW")
        _, sh = sender(client)
        problem(client.post("/itineraries", json={"legs": [courier_leg(seg, lhr), flight_leg(lhr)]}, headers=sh),
                422, "itinerary.discontinuous")
        problem(client.post("/itineraries", json={"legs": [flight_leg(lhr), flight_leg(jfk_sfo)]}, headers=sh),
                422, "itinerary.discontinuous")
        assert client.get("/itineraries", headers=sh).json()["items"] == []

    def test_a_connection_shorter_than_the_buffer_is_refused(self, client, call, platform):
        _, th = traveler(client, call, platform)
        trip = create_trip(client, th)
        _, _, seg = courier_segment(client, call, platform)  # 75 min to the airport
        _, sh = sender(client)
        problem(client.post("/itineraries", json={"legs": [courier_leg(seg, trip, before_h=1.5), flight_leg(trip)]},
                            headers=sh), 422, "itinerary.connection_too_short")

    def test_unknown_or_unpublished_legs_are_refused(self, client, call, platform):
        _, th = traveler(client, call, platform)
        draft = create_trip(client, th, publish=False)
        _, sh = sender(client)
        problem(client.post("/itineraries", json={"legs": [flight_leg(draft)]}, headers=sh), 422,
                "itinerary.leg_unavailable")
        fake = {"kind": "flight", "trip_id": draft["id"], "leg_id": draft["id"]}
        problem(client.post("/itineraries", json={"legs": [fake]}, headers=sh), 422, "itinerary.unknown_leg")
        problem(client.post("/itineraries", json={"legs": [{"kind": "boat"}]}, headers=sh), 422,
                "request.validation_failed")


class TestChange:
    def test_legs_are_replaced_and_appended_while_planned(self, client, call, platform):
        _, th = traveler(client, call, platform)
        first = create_trip(client, th)
        landing = datetime.fromisoformat(first["legs"][0]["arrives_at"].replace("Z", "+00:00"))
        onward = create_trip(client, th, route=("JFK", "SFO"), start=landing + timedelta(minutes=30))
        _, sh = sender(client)
        it = itinerary(client, sh, [flight_leg(first)])
        # 30 min after landing is under the 60 min buffer; 2 h is enough
        r = client.post(f"/itineraries/{it['id']}/legs", json=flight_leg(onward), headers=sh)
        problem(r, 422, "itinerary.connection_too_short")
        later = create_trip(client, th, route=("JFK", "SFO"), start=landing + timedelta(hours=2))
        r = client.post(f"/itineraries/{it['id']}/legs", json=flight_leg(later), headers=sh)
        assert r.status_code == 201, r.text
        assert [x["to_location"] for x in r.json()["legs"]] == ["apt:JFK", "apt:SFO"]
        r = client.put(f"/itineraries/{it['id']}", json={"legs": [flight_leg(later)]}, headers=sh)
        assert r.status_code == 200 and len(r.json()["legs"]) == 1 and r.json()["version"] > it["version"]

    def test_only_the_owner_sees_or_changes_it(self, client, call, platform):
        _, th = traveler(client, call, platform)
        trip = create_trip(client, th)
        _, sh = sender(client)
        _, other = sender(client)
        it = itinerary(client, sh, [flight_leg(trip)])
        problem(client.get(f"/itineraries/{it['id']}", headers=other), 404, "itinerary.not_found")
        problem(client.put(f"/itineraries/{it['id']}", json={"legs": [flight_leg(trip)]}, headers=other), 404,
                "itinerary.not_found")
        assert client.get(f"/itineraries/{it['id']}", headers=sh).json()["id"] == it["id"]
