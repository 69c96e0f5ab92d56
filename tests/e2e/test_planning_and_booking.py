"""End to end on the full topology: a traveler's trip reaches the route planner through the
event relay, a sender finds it and books it, the capacity shards (Ray actors) hold and
confirm the weight, and the trip search lists it."""
from __future__ import annotations

import time

import pytest

from tests.factories.e2e import grant, signed_up
from tests.factories.routes import at, route_body
from tests.factories.trips import create_trip

pytestmark = pytest.mark.e2e

def test_a_published_trip_is_found_booked_and_confirmed(platform_url):
    c = platform_url
    traveler_id, th = signed_up(c)
    grant(traveler_id, "traveler")
    _, sh = signed_up(c)
    time.sleep(6)  # the permission cache of each replica (P2P_PERMISSION_CACHE_S) forgets the old roles
    trip = create_trip(c, th, route=("CDG", "MAD"), start=at(5, 9), hours=2)

    body = route_body("apt:CDG", "apt:MAD", ready=at(5, 0), deadline=at(6, 0), weight_g=2000)
    deadline = time.monotonic() + 60
    while True:  # the relay delivers trip.published to the planner within its poll interval
        answer = c.post("/routes/calculate", json=body, headers=sh)
        assert answer.status_code == 200, answer.text
        if answer.json()["found"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    legs = answer.json()["itineraries"][0]["legs"]
    assert [leg["trip_id"] for leg in legs] == [trip["id"]]

    it = c.post("/itineraries", headers=sh, json={"legs": [
        {"kind": "flight", "trip_id": trip["id"], "leg_id": trip["legs"][0]["id"]}]})
    assert it.status_code == 201, it.text
    booking = c.post("/bookings", headers=sh, json={"itinerary_id": it.json()["id"], "weight_g": 2000,
                                                      "volume_cm3": 1000, "items": 1, "category": "parcel"})
    assert booking.status_code == 201, booking.text
    held = c.get(f"/trips/{trip['id']}/capacity", headers=th).json()["legs"][0]
    assert held["held_g"] == 2000
    confirmed = c.put(f"/bookings/{booking.json()['id']}/confirm", headers=th)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
    booked = c.get(f"/trips/{trip['id']}/capacity", headers=th).json()["legs"][0]
    assert booked["held_g"] == 0 and booked["booked_g"] == 2000

    found = c.post("/search/trips", headers=sh, json={"origin": "apt:CDG", "destination": "apt:MAD",
                                                      "date_from": str(at(5).date()), "date_to": str(at(6).date()),
                                                      "currency": "GBP"})
    assert found.status_code == 200, found.text
    assert trip["id"] in found.text
