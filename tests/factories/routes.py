"""Route planning and trip search over HTTP: trips on a given day, courier segments between
any two places, and request bodies with keyword defaults. Each test flies its own airports,
so the session's shared route graph never mixes tests' trips."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from tests.factories.identity import user_with
from tests.factories.places import provider
from tests.factories.trips import create_trip


def day(offset: int) -> date:
    return datetime.now(timezone.utc).date() + timedelta(days=offset)


def at(offset: int, hour: float = 10.0) -> datetime:
    """`hour` o'clock UTC, `offset` days from today."""
    return datetime.combine(day(offset), time(0), timezone.utc) + timedelta(hours=hour)


def trip(client, headers, route, *, when: datetime, hours: float = 2, gap_h: float = 2, **kw) -> dict:
    """A published trip along `route` (IATA codes) leaving at `when`."""
    return create_trip(client, headers, route=route, start=when, hours=hours, gap_h=gap_h, **kw)


def courier(client, call, platform) -> tuple[dict, dict, dict]:
    """A courier (user, headers) and their provider."""
    user, headers = user_with(client, call, platform, "courier")
    return user, headers, provider(client, headers, max_parcels_per_day=10, max_weight_g_per_day=50_000)


def segment(client, headers, provider_id, frm: str, to: str, *, minutes: int = 60, price_minor: int = 1500,
            currency: str = "GBP", max_weight_g: int = 20_000) -> dict:
    r = client.post(f"/couriers/{provider_id}/segments", headers=headers, json={
        "from_location": frm, "to_location": to, "duration_min": minutes, "price_minor": price_minor,
        "currency": currency, "max_weight_g": max_weight_g})
    assert r.status_code == 201, r.text
    return r.json()


def route_body(origin: str, destination: str, *, ready: datetime, deadline: datetime | None = None,
               weight_g: int = 1000, category: str = "parcel", currency: str = "GBP", **kw) -> dict:
    return {"origin": origin, "destination": destination, "ready_at": ready.isoformat(),
            "deadline": (deadline or ready + timedelta(days=2)).isoformat(), "weight_g": weight_g,
            "dimensions_mm": [300, 200, 100], "category": category, "currency": currency, **kw}


def calculate(client, headers, origin: str, destination: str, **kw) -> dict:
    r = client.post("/routes/calculate", json=route_body(origin, destination, **kw), headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def kinds(itinerary: dict) -> list[str]:
    return [leg["kind"] for leg in itinerary["legs"]]


def trip_ids(answer: dict) -> set[str]:
    return {leg["trip_id"] for it in answer["itineraries"] for leg in it["legs"] if leg["trip_id"]}
