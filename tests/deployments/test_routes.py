"""Route Planning Service over HTTP: the graph follows trip and segment events, itinerary
search answers the Pareto set or says why not, direct connections, a courier's day."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

from deployments.kit.events import dispatch_event
from deployments.trips.events import TripPublished
from p2p.events import Envelope
from tests.factories.common import problem
from tests.factories.identity import grant, signed_up, user_with
from tests.factories.routes import (
    at,
    calculate,
    courier,
    day,
    kinds,
    route_body,
    segment,
    trip,
    trip_ids,
)
from tests.factories.trips import sender, traveler


class TestCalculate:
    def test_a_courier_flight_courier_itinerary_joins_two_cities(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        flight = trip(client, th, ("MAN", "BCN"), when=at(10, 9))
        _, ch, p = courier(client, call, platform)
        segment(client, ch, p["id"], "city:GB:manchester", "apt:MAN", minutes=60, price_minor=1500)
        segment(client, ch, p["id"], "apt:BCN", "city:ES:barcelona", minutes=45, price_minor=1200)
        drain()
        _, sh = sender(client)
        answer = calculate(client, sh, "city:GB:manchester", "city:ES:barcelona", ready=at(10, 0))
        assert answer["found"] and answer["origin"]["tz"] == "Europe/London"
        [it] = [i for i in answer["itineraries"] if kinds(i) == ["courier", "flight", "courier"]]
        first, fly, last = it["legs"]
        assert fly["trip_id"] == flight["id"] and fly["flight"] == "BA117"
        assert first["to_place"] == fly["from_place"] == "apt:MAN" and last["to_place"] == "city:ES:barcelona"
        assert first["departure_local"].endswith("[Europe/London]")
        assert last["arrival_local"].endswith("[Europe/Madrid]")
        assert it["price_minor"] == 1500 + 1500 + 1200 and it["currency"] == "GBP"  # 1 kg at 15.00/kg
        assert fly["departure_utc"] >= first["arrival_utc"]

    def test_the_direct_flight_and_a_cheaper_connection_are_both_pareto_best(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        direct = trip(client, th, ("LTN", "FCO"), when=at(11, 9), per_kg_minor=3000)
        via = trip(client, th, ("LTN", "MXP", "FCO"), when=at(11, 8), hours=1.5, gap_h=2, per_kg_minor=400)
        drain()
        _, sh = sender(client)
        answer = calculate(client, sh, "apt:LTN", "apt:FCO", ready=at(11, 0))
        by_trip = {i["legs"][0]["trip_id"]: i for i in answer["itineraries"]}
        assert set(by_trip) == {direct["id"], via["id"]}
        assert by_trip[direct["id"]]["legs_count"] == 1 and by_trip[via["id"]]["legs_count"] == 2
        assert set(by_trip[direct["id"]]["tags"]) == {"fastest", "fewest_legs"}
        assert by_trip[via["id"]]["tags"] == ["cheapest"]
        assert by_trip[via["id"]]["price_minor"] < by_trip[direct["id"]]["price_minor"]

    def test_a_category_the_trip_refuses_is_a_reason_not_an_error(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        t = trip(client, th, ("OSL", "CPH"), when=at(12), constraints={"allowed_categories": ["document"]})
        drain()
        _, sh = sender(client)
        answer = calculate(client, sh, "apt:OSL", "apt:CPH", ready=at(12, 0), category="electronics")
        assert answer["found"] is False and answer["itineraries"] == []
        [reason] = [r for r in answer["reasons"] if r["reason"] == "category_not_allowed"]
        assert reason["count"] == 1 and reason["examples"][0]["edge_id"] == t["legs"][0]["id"]
        assert calculate(client, sh, "apt:OSL", "apt:CPH", ready=at(12, 0), category="document")["found"]

    def test_a_full_trip_and_a_day_without_trips_are_explained(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        trip(client, th, ("ARN", "HEL"), when=at(13), weight_g=1000)
        drain()
        _, sh = sender(client)
        full = calculate(client, sh, "apt:ARN", "apt:HEL", ready=at(13, 0), weight_g=5000)
        assert not full["found"] and "capacity_full" in {r["reason"] for r in full["reasons"]}
        later = calculate(client, sh, "apt:ARN", "apt:HEL", ready=at(20, 0))
        assert not later["found"] and [r["reason"] for r in later["reasons"]] == ["no_trip_on_date"]

    def test_a_cancelled_trip_leaves_the_results(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        t = trip(client, th, ("LIS", "OPO"), when=at(14))
        drain()
        _, sh = sender(client)
        assert trip_ids(calculate(client, sh, "apt:LIS", "apt:OPO", ready=at(14, 0))) == {t["id"]}
        assert client.delete(f"/trips/{t['id']}", headers=th).status_code == 200
        drain()
        answer = calculate(client, sh, "apt:LIS", "apt:OPO", ready=at(14, 0))
        assert not answer["found"] and answer["reasons"]

    def test_an_address_is_geocoded_and_searched_from_its_city(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        trip(client, th, ("MAN", "BCN"), when=at(10, 15))
        _, sh = sender(client)
        body = route_body("x", "apt:BCN", ready=at(10, 12))
        body.pop("origin")
        body["origin_address"] = {"lines": ["1 Piccadilly"], "city": "Manchester", "country": "GB"}
        drain()
        r = client.post("/routes/calculate", json=body, headers=sh)
        assert r.status_code == 200, r.text
        origin = r.json()["origin"]
        assert origin["id"].startswith("addr:") and origin["routed_from"] == "city:GB:manchester"

    def test_bad_input_is_a_clear_4xx(self, client, call, platform):
        _, sh = sender(client)

        def post(**kw):
            return client.post("/routes/calculate", headers=sh, json=route_body(**{
                "origin": "apt:LHR", "destination": "apt:JFK", "ready": at(5), **kw}))

        problem(post(origin="city:XX:nowhere"), 422, "routes.unknown_place")
        problem(post(deadline=at(4)), 422, "routes.deadline_before_ready")
        problem(post(ready=at(-5), deadline=at(-4)), 422, "routes.deadline_in_past")
        problem(post(deadline=at(60)), 422, "routes.window_too_long")
        problem(post(destination="apt:LHR"), 422, "routes.same_place")
        problem(post(max_legs=5), 422, "request.validation_failed")
        problem(post(weight_g=0), 422, "request.validation_failed")
        problem(post(currency="XYZ"), 422, "request.validation_failed")
        problem(post(origin="ctry:GB"), 422, "request.validation_failed")
        member, mh = signed_up(client)
        grant(call, platform, member["id"])  # member only: no routes:read
        problem(client.post("/routes/calculate", headers=mh, json=route_body("apt:LHR", "apt:JFK", ready=at(5))),
                403, "auth.forbidden")
        problem(client.post("/routes/calculate", json=route_body("apt:LHR", "apt:JFK", ready=at(5))), 401,
                "auth.unauthorized")


class TestAlternatives:
    def test_the_alternatives_of_a_day_are_tagged(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        t = trip(client, th, ("PRG", "BUD"), when=at(15, 8))
        drain()
        _, sh = sender(client)
        params = {"origin": "apt:PRG", "destination": "apt:BUD", "date": str(day(15)), "currency": "GBP"}
        r = client.get("/routes/alternatives", params=params, headers=sh)
        assert r.status_code == 200, r.text
        [it] = r.json()["itineraries"]
        assert it["legs"][0]["trip_id"] == t["id"] and set(it["tags"]) == {"cheapest", "fastest", "fewest_legs"}
        assert it["legs"][0]["departure_local"].endswith("+02:00[Europe/Prague]") or \
            it["legs"][0]["departure_local"].endswith("+01:00[Europe/Prague]")
        problem(client.get("/routes/alternatives", params={**params, "date": str(day(-3))}, headers=sh), 422,
                "routes.deadline_in_past")
        problem(client.get("/routes/alternatives", params={**params, "currency": "QQQ"}, headers=sh), 422,
                "request.validation_failed")


class TestTransit:
    def test_direct_flights_in_the_window_and_courier_segments_are_listed(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        first = trip(client, th, ("VIE", "ZRH"), when=at(16, 9))
        trip(client, th, ("VIE", "ZRH"), when=at(19, 9))
        _, ch, p = courier(client, call, platform)
        seg = segment(client, ch, p["id"], "city:AT:vienna", "apt:VIE", price_minor=900, currency="EUR")
        drain()
        _, sh = sender(client)
        r = client.get("/routes/transit", headers=sh, params={"origin": "apt:VIE", "destination": "apt:ZRH",
                                                              "start": at(16, 0).isoformat(),
                                                              "end": at(17, 0).isoformat()})
        assert r.status_code == 200, r.text
        [f] = r.json()["flights"]
        assert f["trip_id"] == first["id"] and f["remaining_weight_g"] == 10_000 and f["currency"] == "GBP"
        assert f["departure_local"].endswith("[Europe/Vienna]") and r.json()["couriers"] == []
        r = client.get("/routes/transit", headers=sh, params={"origin": "city:AT:vienna", "destination": "apt:VIE",
                                                              "start": at(16, 0).isoformat(),
                                                              "end": at(17, 0).isoformat()})
        assert [c["segment_id"] for c in r.json()["couriers"]] == [seg["id"]]
        problem(client.get("/routes/transit", headers=sh, params={
            "origin": "apt:VIE", "destination": "apt:ZRH", "start": at(17).isoformat(), "end": at(16).isoformat()}),
            422, "routes.deadline_before_ready")

    def test_a_capacity_change_reaches_the_graph(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        t = trip(client, th, ("BRU", "GVA"), when=at(17))
        r = client.put(f"/trips/{t['id']}", headers=th,
                       json={"capacity": {"weight_g": 3000, "volume_cm3": 20_000, "items": 5}})
        assert r.status_code == 200, r.text
        drain()
        _, sh = sender(client)
        r = client.get("/routes/transit", headers=sh, params={"origin": "apt:BRU", "destination": "apt:GVA",
                                                              "start": at(17, 0).isoformat(),
                                                              "end": at(18, 0).isoformat()})
        assert [(f["trip_id"], f["remaining_weight_g"], f["remaining_items"]) for f in r.json()["flights"]] == [
            (t["id"], 3000, 5)]

    def test_a_price_and_constraints_change_is_completed_from_the_trip(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        t = trip(client, th, ("DUB", "EDI"), when=at(19))
        r = client.put(f"/trips/{t['id']}", headers=th, json={
            "price": {"per_kg_minor": 700, "min_price_minor": 50, "currency": "GBP"},
            "constraints": {"banned_categories": ["food"]}})
        assert r.status_code == 200, r.text
        drain()  # the update names the fields only: the planner reads the trip back
        _, sh = sender(client)
        r = client.get("/routes/transit", headers=sh, params={"origin": "apt:DUB", "destination": "apt:EDI",
                                                              "start": at(19, 0).isoformat(),
                                                              "end": at(20, 0).isoformat()})
        [f] = r.json()["flights"]
        assert (f["trip_id"], f["price_per_kg_minor"], f["minimum_minor"]) == (t["id"], 700, 50)
        assert f["constraints"]["banned_categories"] == ["food"]

    def test_a_hold_and_its_release_move_what_remains(self, client, call, platform, drain):
        _, th = traveler(client, call, platform)
        t = trip(client, th, ("BSL", "NCE"), when=at(18))
        trips, booking = platform.runtime.services["trips"], uuid.uuid4()
        call(trips.hold, uuid.UUID(t["id"]), [uuid.UUID(t["legs"][0]["id"])], booking, 4000, 1000, 1)
        drain()

        async def edge():
            from storage.models.routes import RouteGraphEdge

            async with platform.runtime.services["routes"].uow(read=True) as uow:
                return await uow.get(RouteGraphEdge, uuid.UUID(t["legs"][0]["id"]))

        held = call(edge)  # the event's absolute amounts, applied without asking the Trip Service
        assert held.remaining_g == 6000 and held.remaining_items == 19 and not held.stale
        _, sh = sender(client)
        params = {"origin": "apt:BSL", "destination": "apt:NCE", "start": at(18, 0).isoformat(),
                  "end": at(19, 0).isoformat()}
        assert client.get("/routes/transit", headers=sh, params=params).json()["flights"][0]["remaining_weight_g"] \
            == 6000
        answer = calculate(client, sh, "apt:BSL", "apt:NCE", ready=at(18, 0), weight_g=7000)
        assert "capacity_full" in {r["reason"] for r in answer["reasons"]}
        call(trips.release, uuid.UUID(t["id"]), booking)
        drain()
        assert calculate(client, sh, "apt:BSL", "apt:NCE", ready=at(18, 0), weight_g=7000)["found"]


class TestEvents:
    def test_a_trip_event_carrying_its_price_needs_no_completion(self, client, call, platform):
        routes, trip_id, leg_id = platform.runtime.services["routes"], uuid.uuid4(), uuid.uuid4()
        published = TripPublished(  # a trip the Trip Service does not know: a completion would drop it
            trip_id=trip_id, traveler_id=uuid.uuid4(), status="published",
            capacity={"weight_g": 5000, "volume_cm3": 9000, "items": 3},
            price={"per_kg_minor": 2000, "min_price_minor": 100, "currency": "EUR"},
            constraints={"banned_categories": ["food"]},
            legs=[{"leg_id": leg_id, "origin_location": "apt:TLL", "destination_location": "apt:RIX", "carrier": "BT",
                   "flight_number": "312", "departs_at": at(24, 7), "arrives_at": at(24, 8)}])
        event = Envelope(id=uuid.uuid4(), topic=TripPublished.topic, source="trips", entity_id=str(trip_id),
                         version=2, occurred_at=at(0), payload=published.model_dump(mode="json"))
        assert call(dispatch_event, routes, event) is True
        assert call(dispatch_event, routes, event) is False  # a redelivery changes nothing
        _, sh = sender(client)
        answer = calculate(client, sh, "apt:TLL", "apt:RIX", ready=at(24, 0), currency="EUR")
        [it] = answer["itineraries"]
        assert it["legs"][0]["flight"] == "BT312" and it["price_minor"] == 2000
        banned = calculate(client, sh, "apt:TLL", "apt:RIX", ready=at(24, 0), currency="EUR", category="food")
        assert [r["reason"] for r in banned["reasons"]] == ["category_not_allowed"]
        malformed = event.model_copy(update={"id": uuid.uuid4(), "payload": {"trip_id": "not-a-uuid"}})
        assert call(dispatch_event, routes, malformed) is True  # skipped, not retried forever


def day_body(**kw) -> dict:
    opens = at(3, 8)

    def point(lat, lon, start=None, end=None):
        window = {"window_start": start.isoformat(), "window_end": end.isoformat()} if start else {}
        return {"lat": lat, "lon": lon, "service_min": 5, **window}

    return {"depot": {"lat": 51.5074, "lon": -0.1278, "opens_at": opens.isoformat(),
                      "closes_at": (opens + timedelta(hours=10)).isoformat()},
            "vehicles": [{"id": "van-1", "capacity": 10}, {"id": "van-2", "capacity": 10}],
            "requests": [
                {"id": "r1", "demand": 4, "pickup": point(51.515, -0.10), "delivery": point(51.53, -0.12)},
                {"id": "r2", "demand": 5, "pickup": point(51.50, -0.09),
                 "delivery": point(51.49, -0.15, opens + timedelta(hours=2), opens + timedelta(hours=5))},
                {"id": "r3", "demand": 3, "delivery": point(51.52, -0.08)},
                {"id": "huge", "demand": 50, "delivery": point(51.51, -0.11)}],
            "time_limit_s": 0.4, **kw}


class TestOptimize:
    def test_a_small_day_is_planned_and_an_oversized_request_is_explained(self, client, call, platform):
        _, ch = user_with(client, call, platform, "courier")
        r = client.post("/routes/optimize", json=day_body(), headers=ch)
        assert r.status_code == 200, r.text
        plan = r.json()
        assert plan["unserved"] == [{"request_id": "huge", "reason": "demand_exceeds_capacity",
                                     "detail": "its demand exceeds the largest vehicle's capacity"}]
        visits = {(s["request_id"], s["kind"]): (route["vehicle_id"], s) for route in plan["routes"]
                  for s in route["stops"] if s["request_id"]}
        assert {("r1", "pickup"), ("r1", "delivery"), ("r2", "pickup"), ("r2", "delivery"),
                ("r3", "delivery")} <= set(visits)
        for rid in ("r1", "r2"):
            (v1, p), (v2, d) = visits[(rid, "pickup")], visits[(rid, "delivery")]
            assert v1 == v2 and p["departure_at"] <= d["arrival_at"]
        r2 = datetime.fromisoformat(visits[("r2", "delivery")][1]["start_at"])
        assert at(3, 10) <= r2 <= at(3, 13)
        assert all(route["max_load"] <= 10 for route in plan["routes"])
        assert plan["total_distance_m"] > 0 and plan["solver"]["runs"] == 4

    def test_bad_days_are_refused(self, client, call, platform):
        _, ch = user_with(client, call, platform, "courier")
        body = day_body()
        body["requests"][0]["delivery"].update(window_start=at(3, 12).isoformat(), window_end=at(3, 11).isoformat())
        problem(client.post("/routes/optimize", json=body, headers=ch), 422, "routes.bad_time_window")
        body = day_body()
        body["requests"][0]["delivery"].update(window_start=at(3, 6).isoformat(), window_end=at(3, 9).isoformat())
        problem(client.post("/routes/optimize", json=body, headers=ch), 422, "routes.window_outside_day")
        body = day_body()
        body["requests"][1]["id"] = "r1"
        problem(client.post("/routes/optimize", json=body, headers=ch), 422, "routes.duplicate_id")
        problem(client.post("/routes/optimize", json=day_body(time_limit_s=60), headers=ch), 422,
                "request.validation_failed")
        _, sh = sender(client)
        problem(client.post("/routes/optimize", json=day_body(), headers=sh), 403, "auth.forbidden")


class TestRefresh:
    def test_a_replica_rebuilds_its_graph_at_most_once_per_refresh_interval(self, client, call, platform, drain,
                                                                           settings, monkeypatch):
        keeper = platform.runtime.services["routes"].keeper
        monkeypatch.setattr(settings, "route_graph_refresh_s", 60.0)
        before = call(keeper.current).version
        keeper._built_at = time.monotonic()
        _, th = traveler(client, call, platform)
        trip(client, th, ("TLL", "RIX"), when=at(21))
        drain()
        assert call(keeper.current).version == before  # within the interval: the graph it has
        keeper._built_at -= 61
        assert call(keeper.current).version > before
