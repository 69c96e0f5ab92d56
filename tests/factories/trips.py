"""Trips, itineraries and bookings: seeded capacity rows for the shard tests (no services
involved), a settable clock for the capacity shard, and HTTP helpers for the service tests.

Production modules are imported inside the helpers: this module is loaded as a pytest
plugin at start-up, before any test is collected."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.factories.identity import grant, signed_up, user_with
from tests.factories.places import provider, segment


def seed_trip(url: str, *, capacity_g: int = 10_000, capacity_cm3: int = 100_000, capacity_items: int = 100,
              legs: int = 1, trip_id: uuid.UUID | None = None) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A published trip with `legs` legs and their capacity rows, written straight to the
    database (what the Trip Service does on publish)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from storage.db import sync_url
    from storage.models.trips import LegCapacity, Trip, TripLeg

    trip_id = trip_id or uuid.uuid4()
    leg_ids = [uuid.uuid4() for _ in range(legs)]
    start = datetime.now(timezone.utc) + timedelta(days=3)
    airports = ["LHR", "JFK", "SFO", "NRT", "SYD"]
    engine = create_engine(sync_url(url))
    with Session(engine) as s, s.begin():
        s.add(Trip(id=trip_id, traveler_id=uuid.uuid4(), status="published", capacity_g=capacity_g,
                   capacity_cm3=capacity_cm3, capacity_items=capacity_items, price_per_kg_minor=1000,
                   currency="GBP"))
        s.flush()
        for i, leg_id in enumerate(leg_ids):
            a, b = airports[i % 5], airports[(i + 1) % 5]
            s.add(TripLeg(id=leg_id, trip_id=trip_id, seq=i, origin_iata=a, destination_iata=b,
                          origin_location=f"apt:{a}", destination_location=f"apt:{b}", origin_tz="UTC",
                          destination_tz="UTC", departs_at=start + timedelta(hours=10 * i),
                          arrives_at=start + timedelta(hours=10 * i + 8), carrier="BA", flight_number="117"))
        s.flush()
        for leg_id in leg_ids:
            s.add(LegCapacity(trip_id=trip_id, leg_id=leg_id, capacity_g=capacity_g, capacity_cm3=capacity_cm3,
                              capacity_items=capacity_items))
    engine.dispose()
    return trip_id, leg_ids


def ledger(url: str, trip_id: uuid.UUID) -> dict:
    """The database's own view of a trip's capacity: counters and the holds behind them."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from storage.db import sync_url
    from storage.models.trips import CapacityHold, LegCapacity

    engine = create_engine(sync_url(url))
    with Session(engine) as s:
        legs = s.scalars(select(LegCapacity).where(LegCapacity.trip_id == trip_id)).all()
        sums = dict(s.execute(select(CapacityHold.status, func.coalesce(func.sum(CapacityHold.weight_g), 0))
                              .where(CapacityHold.trip_id == trip_id).group_by(CapacityHold.status)).all())
        count = dict(s.execute(select(CapacityHold.status, func.count()).where(CapacityHold.trip_id == trip_id)
                               .group_by(CapacityHold.status)).all())
    engine.dispose()
    return {"capacity_g": legs[0].capacity_g, "held_g": [x.held_g for x in legs],
            "booked_g": [x.booked_g for x in legs], "holds_g": sums, "holds": count}


class Clock:
    """A settable stand-in for `storage.db.utcnow`: `clock()` is the time, `advance(s)` moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture()
def capacity_clock(monkeypatch) -> Clock:
    """The clock of the in-process capacity shard (`actors.capacity.shard`), frozen until the test
    advances it: TTLs elapse without waiting. (TripCapacity takes no clock, so this patches
    the module's `utcnow`; it affects only shards running in this process.)"""
    from actors.capacity import shard

    clock = Clock()
    monkeypatch.setattr(shard, "utcnow", clock)
    return clock


# -- HTTP helpers for the service tests ---------------------------------------------------
def traveler(client, call, platform) -> tuple[dict, dict]:
    """A signed-up user with the traveler role: (user, headers)."""
    user, headers = signed_up(client)
    grant(call, platform, user["id"], "traveler")
    return user, headers


def sender(client) -> tuple[dict, dict]:
    return signed_up(client)


def legs_body(route=("LHR", "JFK"), *, start: datetime | None = None, hours: int = 8, gap_h: int = 3) -> list[dict]:
    """Chained legs along `route` (airport codes), each `hours` long, `gap_h` apart."""
    t = start or datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
    legs = []
    for a, b in zip(route, route[1:]):
        legs.append({"origin": a, "destination": b, "departs_at": t.isoformat(),
                     "arrives_at": (t + timedelta(hours=hours)).isoformat(), "carrier": "BA",
                     "flight_number": "117"})
        t += timedelta(hours=hours + gap_h)
    return legs


def trip_body(route=("LHR", "JFK"), *, weight_g: int = 10_000, volume_cm3: int = 50_000, items: int = 20,
              per_kg_minor: int = 1500, currency: str = "GBP", constraints: dict | None = None, **kw) -> dict:
    body = {"legs": legs_body(route, **kw),
            "capacity": {"weight_g": weight_g, "volume_cm3": volume_cm3, "items": items},
            "price": {"per_kg_minor": per_kg_minor, "min_price_minor": 500, "currency": currency}}
    if constraints is not None:
        body["constraints"] = constraints
    return body


def create_trip(client, headers, *, publish: bool = True, **kw) -> dict:
    r = client.post("/trips", json=trip_body(**kw), headers=headers)
    assert r.status_code == 201, r.text
    if not publish:
        return r.json()
    r = client.post(f"/trips/{r.json()['id']}/publish", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def courier_segment(client, call, platform, *, start_offset_h: float = -3.0, **kw) -> tuple[dict, dict, dict]:
    """A courier (user, headers) with a provider in London and a segment London -> LHR."""
    user, headers = user_with(client, call, platform, "courier")
    p = provider(client, headers, max_parcels_per_day=10, max_weight_g_per_day=50_000)
    r = segment(client, headers, p["id"], **kw)
    assert r.status_code == 201, r.text
    return user, headers, r.json()


def itinerary(client, headers, legs: list[dict]) -> dict:
    r = client.post("/itineraries", json={"legs": legs}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def flight_leg(trip: dict, i: int = 0) -> dict:
    return {"kind": "flight", "trip_id": trip["id"], "leg_id": trip["legs"][i]["id"]}


def courier_leg(seg: dict, trip: dict, *, before_h: float = 3.0) -> dict:
    dep = datetime.fromisoformat(trip["legs"][0]["departs_at"].replace("Z", "+00:00"))
    return {"kind": "courier", "segment_id": seg["id"], "starts_at": (dep - timedelta(hours=before_h)).isoformat()}
