"""Small factories for route-planning tests: keyword defaults, one line per leg."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from routing import (BufferPolicy, CourierSegment, FlightLeg, ItineraryQuery, LegConstraints, LegPrice,
                     Money, Network, OperatingWindow, Place)

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
