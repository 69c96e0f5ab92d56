"""Trip Search Service over HTTP: cached searches, suggestions (typos, popular routes),
saved searches (owner only) and the alerts published trips raise for them."""
from __future__ import annotations

from tests.factories.common import problem
from tests.factories.routes import at, day, trip
from tests.factories.trips import sender, traveler


def search(client, headers, origin="apt:ATH", destination="apt:SKG", *, date_from, **kw) -> dict:
    r = client.post("/search/trips", headers=headers, json={"origin": origin, "destination": destination,
                                                             "date_from": str(date_from), "currency": "GBP", **kw})
    assert r.status_code == 200, r.text
    return r.json()


def save(client, headers, **kw) -> dict:
    body = {"origin": "city:GR:athens", "destination": "apt:SKG", "date_from": str(day(30)),
            "date_to": str(day(32)), "weight_g": 2000, "category": "parcel", **kw}
    r = client.post("/search/saved", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def alerts(client, headers) -> list[dict]:
    r = client.get("/search/alerts", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


class TestSearchTrips:
    def test_a_repeated_search_is_cached_until_a_trip_changes(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        first = trip(client, th, ("ATH", "SKG"), when=at(21, 9))
        drain()
        _, sh = sender(client)
        one = search(client, sh, date_from=day(21))
        assert [t["trip_id"] for t in one["trips"]] == [first["id"]] and one["cached"] is False
        assert one["trips"][0]["departure_local"].endswith("[Europe/Athens]")
        assert [leg["trip_id"] for it in one["itineraries"] for leg in it["legs"]] == [first["id"]]
        two = search(client, sh, date_from=day(21))
        assert two["cached"] is True and two["trips"] == one["trips"]
        second = trip(client, th, ("ATH", "SKG"), when=at(21, 15))
        drain()
        three = search(client, sh, date_from=day(21))
        assert three["cached"] is False and {t["trip_id"] for t in three["trips"]} == {first["id"], second["id"]}
        assert three["graph_version"] > one["graph_version"]

    def test_listing_filters_apply(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        roomy = trip(client, th, ("ATH", "SKG"), when=at(22, 9))
        small = trip(client, th, ("ATH", "SKG"), when=at(22, 12), weight_g=1000)
        docs = trip(client, th, ("ATH", "SKG"), when=at(22, 14), constraints={"allowed_categories": ["document"]})
        drain()
        _, sh = sender(client)
        found = search(client, sh, "city:GR:athens", "apt:SKG", date_from=day(22), weight_g=3000)
        assert [t["trip_id"] for t in found["trips"]] == [roomy["id"]]
        found = search(client, sh, date_from=day(22), category="document")
        assert [t["trip_id"] for t in found["trips"]] == [roomy["id"], small["id"], docs["id"]]
        found = search(client, sh, date_from=day(22), category="electronics")
        assert [t["trip_id"] for t in found["trips"]] == [roomy["id"], small["id"]]

    def test_bad_searches_are_4xx(self, client):
        _, sh = sender(client)

        def post(**kw):
            return client.post("/search/trips", headers=sh, json={
                "origin": "apt:ATH", "destination": "apt:SKG", "date_from": str(day(5)), "currency": "GBP", **kw})

        problem(post(date_to=str(day(4))), 422, "search.bad_dates")
        problem(post(date_to=str(day(30))), 422, "search.bad_dates")
        problem(post(destination="apt:ATH"), 422, "search.same_place")
        problem(post(origin="city:XX:nowhere"), 422, "search.unknown_place")
        problem(post(weight_g=-1), 422, "request.validation_failed")


class TestSuggestions:
    def test_a_typo_still_finds_the_airport(self, client):
        _, sh = sender(client)
        r = client.get("/search/suggestions", params={"q": "heathrw"}, headers=sh)
        assert r.status_code == 200, r.text
        assert r.json()["places"][0]["id"] == "apt:LHR" and r.json()["places"][0]["match"] == "fuzzy"
        exact = client.get("/search/suggestions", params={"q": "LHR"}, headers=sh).json()
        assert exact["places"][0] == {**exact["places"][0], "id": "apt:LHR", "match": "exact"}

    def test_popular_routes_come_from_searches(self, client, call, platform):
        _, sh = sender(client)
        for _ in range(3):
            search(client, sh, "apt:RHO", "apt:HER", date_from=day(40))
        search(client, sh, "apt:RHO", "apt:JTR", date_from=day(40))
        r = client.get("/search/suggestions", params={"q": "diagoras"}, headers=sh)  # Rhodes' airport
        routes = [(x["origin"], x["destination"], x["searches"]) for x in r.json()["routes"]]
        assert routes[:2] == [("apt:RHO", "apt:HER", 3), ("apt:RHO", "apt:JTR", 1)]
        assert r.json()["routes"][0]["origin_name"] == "Diagoras Airport"
        by_name = client.get("/search/suggestions", params={"q": "santorini"}, headers=sh).json()["routes"]
        assert [(x["origin"], x["destination"]) for x in by_name] == [("apt:RHO", "apt:JTR")]


class TestSavedSearches:
    def test_only_the_owner_sees_and_deletes_a_saved_search(self, client):
        _, sh = sender(client)
        _, other = sender(client)
        s = save(client, sh, name="Athens to Thessaloniki")
        assert [x["id"] for x in client.get("/search/saved", headers=sh).json()["items"]] == [s["id"]]
        assert client.get("/search/saved", headers=other).json()["items"] == []
        problem(client.delete(f"/search/saved/{s['id']}", headers=other), 404, "search.saved_not_found")
        assert client.delete(f"/search/saved/{s['id']}", headers=sh).status_code == 204
        problem(client.delete(f"/search/saved/{s['id']}", headers=sh), 404, "search.saved_not_found")

    def test_bad_saved_searches_are_refused(self, client):
        _, sh = sender(client)
        r = client.post("/search/saved", headers=sh, json={"origin": "apt:ATH", "destination": "apt:SKG",
                                                          "date_from": str(day(9)), "date_to": str(day(8))})
        problem(r, 422, "search.bad_dates")
        r = client.post("/search/saved", headers=sh, json={"origin": "apt:QQQ", "destination": "apt:SKG",
                                                          "date_from": str(day(8)), "date_to": str(day(9))})
        problem(r, 422, "search.unknown_place")


class TestAlerts:
    def test_a_matching_trip_raises_an_alert_and_others_do_not(self, client, call, platform, drain):
        _, sh = sender(client)
        _, other = sender(client)
        s = save(client, sh)
        _, th = traveler(client, call, platform)
        match = trip(client, th, ("ATH", "SKG"), when=at(31, 9))
        trip(client, th, ("ATH", "SKG"), when=at(36, 9))              # after the window
        trip(client, th, ("ATH", "RHO"), when=at(31, 9))              # elsewhere
        trip(client, th, ("ATH", "SKG"), when=at(31, 9), weight_g=1000)  # too little room
        docs = trip(client, th, ("ATH", "SKG"), when=at(31, 11), constraints={"allowed_categories": ["document"]})
        drain()
        got = alerts(client, sh)
        assert [(a["trip_id"], a["saved_search_id"]) for a in got] == [(match["id"], s["id"])]
        assert got[0]["category_checked"] and got[0]["from_location"] == "apt:ATH"
        assert docs["id"] not in {a["trip_id"] for a in got}
        assert alerts(client, other) == []
        assert client.delete(f"/trips/{match['id']}", headers=th).status_code == 200
        drain()
        assert [a["status"] for a in alerts(client, sh)] == ["trip_cancelled"]
