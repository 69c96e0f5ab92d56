"""Location Service over HTTP: search ranking, airports by city, geocoding, resolve."""
from __future__ import annotations

import pytest

from deployments.locations import UnknownAirport, UnknownLocation
from tests.factories.identity import signed_up


def ids(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()]


class TestSearch:
    def test_an_iata_code_finds_its_airport_first(self, client):
        found = ids(client.get("/locations/search", params={"q": "LHR"}))
        assert found[0] == "apt:LHR"

    def test_a_code_is_matched_whatever_its_case(self, client):
        assert ids(client.get("/locations/search", params={"q": "egll"}))[0] == "apt:LHR"

    def test_an_airport_name_word_finds_it_first(self, client):
        r = client.get("/locations/search", params={"q": "Heathrow"})
        assert ids(r)[0] == "apt:LHR"
        assert r.json()[0] | {} == r.json()[0] and r.json()[0]["tz"] == "Europe/London"

    def test_a_city_name_puts_the_city_then_its_airports_on_top(self, client):
        found = ids(client.get("/locations/search", params={"q": "london", "limit": 12}))
        assert found[0] == "city:GB:london"
        assert {"apt:LHR", "apt:LGW", "apt:STN", "apt:LTN", "apt:LCY"} <= set(found)
        airports = [i for i in found if i.startswith("apt:")]
        assert airports[:5] and all(a in {"apt:LHR", "apt:LGW", "apt:STN", "apt:LTN", "apt:LCY", "apt:BQH",
                                          "apt:NHT"} for a in airports[:5])

    def test_kind_narrows_the_results(self, client):
        r = client.get("/locations/search", params={"q": "london", "kind": "airport"})
        assert r.json() and all(x["kind"] == "airport" for x in r.json())

    def test_countries_are_found_by_iso_code_and_name(self, client):
        assert ids(client.get("/locations/search", params={"q": "GB", "kind": "country"}))[0] == "ctry:GB"
        assert ids(client.get("/locations/search", params={"q": "germany"}))[0] == "ctry:DE"

    def test_accents_are_ignored(self, client):
        assert "city:BR:sao-paulo" in ids(client.get("/locations/search", params={"q": "São Paulo"}))

    def test_wildcards_in_the_query_are_literal(self, client):
        assert ids(client.get("/locations/search", params={"q": "%_%"})) == []

    def test_search_is_public_and_bad_limits_are_422(self, client):
        r = client.get("/locations/search", params={"q": "x", "limit": 500})
        assert r.status_code == 422 and r.json()["code"] == "request.validation_failed"
        assert client.get("/locations/search", params={"q": ""}).status_code == 422


class TestAirportsByCity:
    def test_by_city_id(self, client):
        r = client.get("/locations/airports", params={"city": "city:GB:london"})
        assert r.status_code == 200
        codes = {a["iata"] for a in r.json()}
        assert {"LHR", "LGW", "STN", "LTN", "LCY"} <= codes and "YXU" not in codes
        lhr = next(a for a in r.json() if a["iata"] == "LHR")
        assert lhr == lhr | {"id": "apt:LHR", "icao": "EGLL", "country": "GB", "city_id": "city:GB:london",
                             "tz": "Europe/London"}

    def test_by_name_the_biggest_city_comes_first_and_country_narrows(self, client):
        every = client.get("/locations/airports", params={"city": "London"}).json()
        assert every[0]["country"] == "GB" and {"YXU", "LHR"} <= {a["iata"] for a in every}
        canada = client.get("/locations/airports", params={"city": "london", "country": "CA"}).json()
        assert [a["iata"] for a in canada] == ["YXU"]

    def test_an_unknown_city_is_404(self, client):
        r = client.get("/locations/airports", params={"city": "Atlantis"})
        assert r.status_code == 404 and r.json()["code"] == "location.unknown_city"


class TestGeocode:
    def test_an_address_resolves_to_its_city_and_is_stored_normalised(self, client):
        _, headers = signed_up(client)
        body = {"lines": ["  10   Downing   Street "], "city": "LONDON", "country": "gb", "postcode": "sw1a  2aa"}
        r = client.post("/locations/geocode", json=body, headers=headers)
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["id"].startswith("addr:") and out["location_id"] == "city:GB:london" and out["level"] == "city"
        assert out["normalized"] == "10 Downing Street, SW1A 2AA London, GB"
        assert out["tz"] == "Europe/London" and 51 < out["lat"] < 52
        got = client.get(f"/locations/{out['id']}", headers=headers).json()
        assert got["kind"] == "address" and got["name"] == out["normalized"] and got["city_id"] == "city:GB:london"

    def test_an_address_at_an_airport_resolves_to_the_airport(self, client):
        _, headers = signed_up(client)
        r = client.post("/locations/geocode", headers=headers,
                        json={"lines": ["Terminal 5", "Heathrow Airport"], "city": "London", "country": "GB"})
        assert r.status_code == 201 and r.json()["location_id"] == "apt:LHR" and r.json()["level"] == "airport"

    def test_a_city_field_naming_an_airport_resolves_to_it(self, client):
        _, headers = signed_up(client)
        r = client.post("/locations/geocode", headers=headers,
                        json={"lines": ["Cargo Centre"], "city": "heathrow", "country": "GB"})
        assert r.status_code == 201 and r.json()["location_id"] == "apt:LHR" and r.json()["city"] == "London"

    def test_a_country_may_be_given_by_name(self, client):
        _, headers = signed_up(client)
        r = client.post("/locations/geocode", headers=headers,
                        json={"lines": ["1 Rue de Rivoli"], "city": "Paris", "country": "France"})
        assert r.status_code == 201 and r.json()["location_id"] == "city:FR:paris"

    @pytest.mark.parametrize("city,country", [("Atlantis", "GB"), ("London", "Narnia")])
    def test_an_unknown_place_is_422_not_resolved_and_stores_nothing(self, client, city, country):
        _, headers = signed_up(client)
        r = client.post("/locations/geocode", headers=headers, json={"lines": ["1 Main St"], "city": city,
                                                                     "country": country})
        assert r.status_code == 422 and r.json()["code"] == "location.not_resolved"
        assert r.headers["content-type"] == "application/problem+json" and r.json()["detail"]

    def test_geocoding_needs_a_signed_in_user(self, client):
        r = client.post("/locations/geocode", json={"lines": ["x"], "city": "London", "country": "GB"})
        assert r.status_code == 401

    def test_others_do_not_see_an_address(self, client):
        _, ann = signed_up(client)
        _, bob = signed_up(client)
        addr = client.post("/locations/geocode", headers=ann,
                           json={"lines": ["1 High St"], "city": "London", "country": "GB"}).json()["id"]
        assert client.get(f"/locations/{addr}", headers=bob).status_code == 404


class TestGet:
    def test_airport_city_and_country(self, client):
        _, headers = signed_up(client)
        apt = client.get("/locations/apt:LHR", headers=headers).json()
        assert apt["kind"] == "airport" and apt["code"] == "LHR" and apt["city_id"] == "city:GB:london"
        city = client.get("/locations/city:GB:london", headers=headers).json()
        assert city["kind"] == "city" and city["name"] == "London" and city["tz"] == "Europe/London"
        assert client.get("/locations/ctry:GB", headers=headers).json()["name"] == "United Kingdom"

    @pytest.mark.parametrize("bad", ["apt:ZZZ", "nothing", "addr:not-a-uuid",
                                     "addr:00000000-0000-0000-0000-000000000001"])
    def test_an_unknown_id_is_404(self, client, bad):
        _, headers = signed_up(client)
        r = client.get(f"/locations/{bad}", headers=headers)
        assert r.status_code == 404 and r.json()["code"] == "location.unknown"


class TestInternal:
    def test_airport_by_code(self, call, platform):
        svc = platform.runtime.services["locations"]
        out = call(svc.airport, "lhr")
        assert (out.id, out.iata, out.icao, out.city_id, out.country) == ("apt:LHR", "LHR", "EGLL", "city:GB:london",
                                                                          "GB")
        with pytest.raises(UnknownAirport) as err:
            call(svc.airport, "ZZZ")
        assert err.value.code == "location.unknown_airport"

    def test_resolve(self, call, platform):
        svc = platform.runtime.services["locations"]
        out = call(svc.resolve, "apt:JFK")
        assert out.kind == "airport" and out.tz == "America/New_York" and out.lat and out.lon
        with pytest.raises(UnknownLocation):
            call(svc.resolve, "city:XX:nowhere")
