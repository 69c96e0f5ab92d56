"""Pure builders for the routing package (no services): keyword defaults, one line per
leg, and random pickup-and-delivery days for the vehicle-routing tests."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta, timezone

from routing import (
    BufferPolicy,
    CourierSegment,
    FlightLeg,
    ItineraryQuery,
    LegConstraints,
    LegPrice,
    Money,
    Network,
    OperatingWindow,
    Place,
)
from routing.vrp import Request, Stop, Vehicle, VrpProblem

T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)


def at(hour: float, day: int = 0) -> datetime:
    return T0 + timedelta(days=day, hours=hour)


def place(pid: str, tz: str = "UTC") -> Place:
    return Place(pid, tz)


def flight(leg_id: str, a: str, b: str, dep: datetime, arr: datetime, *, trip_id: str | None = None,
           weight_g: int = 5000, per_kg: int = 1000, minimum: int = 0, currency: str = "EUR",
           allowed=None, banned=(), max_item_g: int | None = None, max_dims=None, items=None) -> FlightLeg:
    return FlightLeg(trip_id=trip_id or f"trip-{leg_id}", leg_id=leg_id, from_place=a, to_place=b,
                     departure=dep, arrival=arr, remaining_weight_g=weight_g, remaining_items=items,
                     price=LegPrice(per_kg, minimum, currency),
                     constraints=LegConstraints(None if allowed is None else frozenset(allowed),
                                                frozenset(banned), max_item_g, max_dims))


def courier(seg_id: str, a: str, b: str, minutes: int, price: int, *, currency: str = "EUR",
            window: tuple[str, str] | None = None, max_weight_g: int | None = None) -> CourierSegment:
    w = OperatingWindow(time.fromisoformat(window[0]), time.fromisoformat(window[1])) if window else OperatingWindow()
    return CourierSegment(seg_id, f"prov-{seg_id}", a, b, timedelta(minutes=minutes), Money(price, currency),
                          max_weight_g, w)


def network(places, legs=(), segments=(), **buffers) -> Network:
    policy = BufferPolicy(**{k: timedelta(minutes=v) for k, v in buffers.items() if k in ("airport", "other")},
                          per_place={k: timedelta(minutes=v) for k, v in buffers.get("per_place", {}).items()})
    places = [p if isinstance(p, Place) else place(p) for p in places]
    return Network.build(places, legs, segments, policy)


def query(origin: str, destination: str, *, ready: datetime = T0, deadline: datetime | None = None,
          weight_g: int = 1000, dims=(100, 100, 100), category: str = "parcel", max_legs: int = 4,
          currency: str = "EUR") -> ItineraryQuery:
    return ItineraryQuery(origin, destination, ready, deadline or ready + timedelta(days=3), weight_g, dims,
                          category, currency, max_legs)


# -- vehicle routing: a day of pickups and deliveries around a Berlin depot ----------------
H = 3600
DEPOT = Stop("depot", (52.5200, 13.4050), (8 * H, 20 * H))
SPEED = 25 / 3.6


def random_day(seed: int, n_requests: int, n_vehicles: int, capacity: int = 8) -> VrpProblem:
    rnd = random.Random(seed)

    def stop(name, earliest):
        start = earliest + rnd.randrange(0, 4 * H, 900)
        return Stop(name, (52.52 + rnd.uniform(-0.04, 0.04), 13.405 + rnd.uniform(-0.06, 0.06)),
                    (start, start + rnd.choice([1, 2, 3]) * H), 300)

    def request(i):
        pickup = stop(f"p{i}", rnd.randrange(8 * H, 13 * H, 900))
        return Request(f"r{i}", stop(f"d{i}", pickup.window[0]), rnd.randint(2, 6), pickup)

    requests = tuple(request(i) for i in range(n_requests))
    return VrpProblem(DEPOT, tuple(Vehicle(f"v{i}", capacity) for i in range(n_vehicles)), requests, speed=SPEED)
