"""Local Courier Service over HTTP: providers, service areas, segments, capacity."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from deployments.couriers.errors import CapacityExhausted, SegmentNotFound, SegmentUnavailable
from tests.factories.common import portal_call
from tests.factories.identity import signed_up, user_with
from tests.factories.places import provider, segment, square


@pytest.fixture(scope="module")
def courier(client, platform):
    return user_with(client, portal_call(client), platform, "courier")


@pytest.fixture()
def svc(platform):
    return platform.runtime.services["couriers"]


def topics(call, platform, entity_id) -> list[str]:
    """The domain events recorded for an entity (read from the outbox, as the relay would)."""
    from sqlalchemy import select

    from storage.models.events import OutboxEvent
    from storage.uow import UnitOfWork

    async def read():
        async with UnitOfWork(platform.runtime.db, source="test", read=True) as uow:
            return await uow.all(select(OutboxEvent.topic).where(OutboxEvent.entity_id == str(entity_id))
                                 .order_by(OutboxEvent.seq))

    return call(read)


class TestRegister:
    def test_a_courier_registers_a_provider_in_a_known_city(self, client, courier):
        user, headers = courier
        p = provider(client, headers)
        assert p["owner_id"] == user["id"] and p["country"] == "GB" and p["active"] is True
        assert client.get(f"/couriers/{p['id']}", headers=headers).json() == p

    def test_a_plain_sender_cannot_register_a_provider(self, client):
        _, headers = signed_up(client)
        r = client.post("/couriers", headers=headers, json={"name": "X", "city_id": "city:GB:london",
                                                            "max_parcels_per_day": 1, "max_weight_g_per_day": 1})
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"

    @pytest.mark.parametrize("city,code", [("city:XX:nowhere", "courier.unknown_location"),
                                           ("apt:LHR", "courier.unknown_location"),
                                           ("ctry:GB", "request.validation_failed")])  # not a LocationId
    def test_the_home_must_be_a_known_city(self, client, courier, city, code):
        r = client.post("/couriers", headers=courier[1], json={"name": "X", "city_id": city,
                                                               "max_parcels_per_day": 1, "max_weight_g_per_day": 1})
        assert r.status_code == 422 and r.json()["code"] == code

    def test_bad_limits_are_422(self, client, courier):
        r = client.post("/couriers", headers=courier[1], json={"name": "X", "city_id": "city:GB:london",
                                                               "max_parcels_per_day": 0, "max_weight_g_per_day": 1})
        assert r.status_code == 422 and r.json()["code"] == "request.validation_failed"


class TestList:
    def test_filtered_by_city_and_paginated(self, client, courier):
        _, headers = courier
        made = [provider(client, headers, city_id="city:FR:paris", name=f"Paris {i}")["id"] for i in range(3)]
        first = client.get("/couriers", params={"city_id": "city:FR:paris", "limit": 2}, headers=headers).json()
        rest = client.get("/couriers", params={"city_id": "city:FR:paris", "limit": 2,
                                               "cursor": first["next_cursor"]}, headers=headers).json()
        assert [p["id"] for p in first["items"] + rest["items"]] == made and rest["next_cursor"] is None

    def test_any_signed_in_user_may_list_but_not_anonymously(self, client):
        _, headers = signed_up(client)
        assert client.get("/couriers", headers=headers).status_code == 200
        assert client.get("/couriers").status_code == 401
        assert client.get("/couriers", params={"cursor": "garbage!"}, headers=headers).status_code == 400


class TestAreas:
    def test_areas_are_replaced_and_decide_who_is_served(self, client, courier, call, svc):
        _, headers = courier
        p = provider(client, headers)
        r = client.put(f"/couriers/{p['id']}/areas", headers=headers,
                       json={"areas": [{"name": "Central", "geometry": square(-0.12, 51.5, 0.1)}]})
        assert r.status_code == 200 and r.json()["areas"][0]["bbox"] == pytest.approx([-0.22, 51.4, -0.02, 51.6])
        pid = uuid.UUID(p["id"])
        assert call(svc.serves, pid, 51.5074, -0.1278) is True           # Trafalgar Square
        assert call(svc.serves, pid, 51.4706, -0.46194) is False          # Heathrow is outside
        client.put(f"/couriers/{p['id']}/areas", headers=headers,
                   json={"areas": [{"name": "Heathrow", "geometry": square(-0.46, 51.47, 0.05)}]})
        assert call(svc.serves, pid, 51.5074, -0.1278) is False
        assert call(svc.serves, pid, 51.4706, -0.46194) is True
        assert len(client.get(f"/couriers/{p['id']}/areas", headers=headers).json()["areas"]) == 1

    def test_a_multipolygon_with_a_hole(self, client, courier, call, svc):
        _, headers = courier
        p = provider(client, headers)
        outer = square(2.35, 48.85, 0.2)["coordinates"][0]
        hole = square(2.35, 48.85, 0.05)["coordinates"][0]
        geometry = {"type": "MultiPolygon", "coordinates": [[outer, hole], square(4.83, 45.76)["coordinates"]]}
        assert client.put(f"/couriers/{p['id']}/areas", headers=headers,
                          json={"areas": [{"name": "Paris and Lyon", "geometry": geometry}]}).status_code == 200
        pid = uuid.UUID(p["id"])
        assert call(svc.serves, pid, 48.95, 2.35) and call(svc.serves, pid, 45.76, 4.83)
        assert not call(svc.serves, pid, 48.85, 2.35)  # in the hole

    @pytest.mark.parametrize("geometry", [
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},            # not closed
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},                     # too few positions
        {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},           # longitude out of range
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], ["a", 1], [0, 0]]]},
        {"type": "MultiPolygon", "coordinates": []},
    ], ids=["point", "open-ring", "three-positions", "lon-200", "not-a-number", "empty-multi"])
    def test_a_bad_polygon_is_422_and_keeps_the_old_areas(self, client, courier, geometry):
        _, headers = courier
        p = provider(client, headers)
        client.put(f"/couriers/{p['id']}/areas", headers=headers,
                   json={"areas": [{"name": "Old", "geometry": square(0, 0)}]})
        r = client.put(f"/couriers/{p['id']}/areas", headers=headers, json={"areas": [{"name": "New",
                                                                                       "geometry": geometry}]})
        assert r.status_code == 422 and r.json()["code"] == "request.validation_failed"
        assert [a["name"] for a in client.get(f"/couriers/{p['id']}/areas", headers=headers).json()["areas"]] == ["Old"]

    def test_only_the_owner_changes_areas_and_segments(self, client, courier, call, platform):
        from deployments.authz import RoleCreate
        from deployments.kit import Ctx

        _, headers = courier
        p = provider(client, headers)
        # couriers:manage without :any (the seeded courier role's couriers:* would include :any)
        role = f"courier_ops_{uuid.uuid4().hex[:8]}"
        call(platform.runtime.services["authz"].create_role, Ctx.system(),
             RoleCreate(name=role, permissions=["couriers:manage"]))
        _, other = user_with(client, call, platform, role)
        r = client.put(f"/couriers/{p['id']}/areas", headers=other, json={"areas": []})
        assert r.status_code == 403 and r.json()["code"] == "courier.not_owner"
        r = segment(client, other, p["id"])
        assert r.status_code == 403 and r.json()["code"] == "courier.not_owner"
        assert client.get(f"/couriers/{p['id']}/segments", headers=headers).json() == []

    def test_an_unknown_provider_is_404(self, client, courier, call, svc):
        r = client.put(f"/couriers/{uuid.uuid4()}/areas", headers=courier[1], json={"areas": []})
        assert r.status_code == 404 and r.json()["code"] == "courier.not_found"
        assert call(svc.serves, uuid.uuid4(), 0.0, 0.0) is False


class TestSegments:
    def test_a_segment_is_published_listed_and_found_by_the_planner(self, client, courier, call, svc, drain,
                                                                     platform):
        _, headers = courier
        p = provider(client, headers)
        r = segment(client, headers, p["id"], currency="gbp")
        assert r.status_code == 201, r.text
        s = r.json()
        assert s | {} == s and (s["currency"], s["price_minor"], s["active"]) == ("GBP", 1850, True)
        assert [x["id"] for x in client.get(f"/couriers/{p['id']}/segments", headers=headers).json()] == [s["id"]]
        found = call(svc.segments, from_location="city:GB:london", to_location="apt:LHR")
        assert s["id"] in {str(x.id) for x in found}
        one = call(svc.segment, uuid.UUID(s["id"]))
        assert one.provider_id == uuid.UUID(p["id"]) and one.max_weight_g == 10_000
        assert topics(call, platform, s["id"]) == ["segment.published"]
        assert "courier.registered" in topics(call, platform, p["id"])
        drain()

    def test_an_update_bumps_the_version_and_withdrawn_segments_are_not_offered(self, client, courier, call, svc,
                                                                                 platform):
        _, headers = courier
        p = provider(client, headers)
        s = segment(client, headers, p["id"], from_location="apt:LGW").json()
        r = client.put(f"/couriers/{p['id']}/segments/{s['id']}", headers=headers,
                       json={"price_minor": 2100, "active": False})
        assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["price_minor"] == 2100
        assert topics(call, platform, s["id"]) == ["segment.published", "segment.updated"]
        assert s["id"] not in {str(x.id) for x in call(svc.segments, from_location="apt:LGW")}

    @pytest.mark.parametrize("change,code", [({"to_location": "apt:ZZZ"}, "courier.unknown_location"),
                                             ({"from_location": "city:GB:atlantis"}, "courier.unknown_location"),
                                             ({"to_location": "ctry:GB"}, "request.validation_failed")],
                             ids=["airport", "city", "country"])  # a country is not a LocationId
    def test_an_unknown_location_is_422_and_publishes_nothing(self, client, courier, change, code):
        _, headers = courier
        p = provider(client, headers)
        r = segment(client, headers, p["id"], **change)
        assert r.status_code == 422 and r.json()["code"] == code
        assert client.get(f"/couriers/{p['id']}/segments", headers=headers).json() == []

    @pytest.mark.parametrize("change", [{"currency": "XXY"}, {"price_minor": -1}, {"price_minor": 12.5},
                                        {"duration_min": 0}, {"to_location": "city:GB:london"}])
    def test_bad_money_or_shape_is_422(self, client, courier, change):
        _, headers = courier
        p = provider(client, headers)
        r = segment(client, headers, p["id"], **change)
        assert r.status_code == 422 and r.json()["code"] == "request.validation_failed"

    def test_a_segment_cannot_carry_more_than_a_day(self, client, courier):
        _, headers = courier
        p = provider(client, headers)
        r = segment(client, headers, p["id"], max_weight_g=50_000)
        assert r.status_code == 422 and r.json()["code"] == "courier.segment_over_capacity"

    def test_an_address_from_the_location_service_is_a_valid_end(self, client, courier):
        _, headers = courier
        addr = client.post("/locations/geocode", headers=headers,
                           json={"lines": ["221B Baker Street"], "city": "London", "country": "GB"}).json()["id"]
        p = provider(client, headers)
        assert segment(client, headers, p["id"], from_location=addr).status_code == 201

    def test_an_unknown_segment(self, client, courier, call, svc):
        _, headers = courier
        p = provider(client, headers)
        r = client.put(f"/couriers/{p['id']}/segments/{uuid.uuid4()}", headers=headers, json={"active": False})
        assert r.status_code == 404 and r.json()["code"] == "courier.segment_not_found"
        with pytest.raises(SegmentNotFound):
            call(svc.segment, uuid.uuid4())


class TestCapacity:
    def test_holds_use_the_day_once_and_release_gives_it_back(self, client, courier, call, svc):
        _, headers = courier
        p = provider(client, headers)  # 3 parcels, 20 kg a day
        pid, day = uuid.UUID(p["id"]), date(2031, 5, 1)
        url = f"/couriers/{p['id']}/capacity"
        fresh = client.get(url, params={"day": "2031-05-01"}, headers=headers).json()
        assert (fresh["used_parcels"], fresh["remaining_parcels"], fresh["remaining_weight_g"]) == (0, 3, 20_000)
        call(svc.hold_capacity, pid, day, 8_000, "leg-a")
        call(svc.hold_capacity, pid, day, 8_000, "leg-a")  # a retry changes nothing
        call(svc.hold_capacity, pid, day, 8_000, "leg-b")
        used = client.get(url, params={"day": "2031-05-01"}, headers=headers).json()
        assert (used["used_parcels"], used["used_weight_g"], used["remaining_weight_g"]) == (2, 16_000, 4_000)
        with pytest.raises(CapacityExhausted):
            call(svc.hold_capacity, pid, day, 5_000, "leg-c")
        call(svc.release_capacity, "leg-a")
        call(svc.release_capacity, "leg-a")
        call(svc.hold_capacity, pid, day, 5_000, "leg-c")
        after = client.get(url, params={"day": "2031-05-01"}, headers=headers).json()
        assert (after["used_parcels"], after["used_weight_g"]) == (2, 13_000)
        other_day = client.get(url, params={"day": "2031-05-02"}, headers=headers).json()
        assert other_day["used_parcels"] == 0

    def test_capacity_of_an_unknown_provider_and_a_bad_day(self, client, courier):
        _, headers = courier
        assert client.get(f"/couriers/{uuid.uuid4()}/capacity", headers=headers).status_code == 404
        p = provider(client, headers)
        r = client.get(f"/couriers/{p['id']}/capacity", params={"day": "someday"}, headers=headers)
        assert r.status_code == 422


class TestHoldSegment:
    def test_a_courier_leg_holds_the_day_once_and_names_the_carrier(self, client, courier, call, svc):
        user, headers = courier
        p = provider(client, headers)
        s = segment(client, headers, p["id"]).json()
        held = call(svc.hold_segment, uuid.UUID(s["id"]), date(2031, 6, 1), 4_000, "booking-1-leg-0")
        again = call(svc.hold_segment, uuid.UUID(s["id"]), date(2031, 6, 1), 4_000, "booking-1-leg-0")
        assert held == again and str(held.carrier_id) == user["id"] and str(held.provider_id) == p["id"]
        used = client.get(f"/couriers/{p['id']}/capacity", params={"day": "2031-06-01"}, headers=headers).json()
        assert (used["used_parcels"], used["used_weight_g"]) == (1, 4_000)

    def test_a_withdrawn_or_too_light_segment_is_refused(self, client, courier, call, svc):
        _, headers = courier
        p = provider(client, headers)
        s = segment(client, headers, p["id"]).json()  # carries 10 kg
        with pytest.raises(SegmentUnavailable):
            call(svc.hold_segment, uuid.UUID(s["id"]), date(2031, 6, 1), 12_000, "too-heavy")
        client.put(f"/couriers/{p['id']}/segments/{s['id']}", headers=headers, json={"active": False})
        with pytest.raises(SegmentUnavailable):
            call(svc.hold_segment, uuid.UUID(s["id"]), date(2031, 6, 1), 1_000, "withdrawn")
