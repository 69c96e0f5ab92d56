"""The inputs of itinerary search: places, flight legs, courier segments, buffers.

Plain frozen dataclasses with no database in sight, so a service converts its rows into
them once and a Ray task can pickle them. Money is integer minor units plus an ISO 4217
code, weights grams, lengths millimetres, volumes cubic centimetres, times aware datetimes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from p2p.pricing import per_kg

Dimensions = tuple[int, int, int]
CATEGORIES = ("document", "parcel", "electronics", "fragile", "food", "medicine", "other")


def _aware(value: datetime | str) -> datetime:
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: times must be timezone-aware")
    return dt


def fits(item: Dimensions, limit: Dimensions | None) -> bool:
    """Whether a box fits within a limit in some orientation (sorted side by side)."""
    return limit is None or all(a <= b for a, b in zip(sorted(item), sorted(limit)))


@lru_cache(maxsize=None)
def zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


@dataclass(frozen=True, slots=True)
class Place:
    """A node: `apt:LHR`, `city:GB:london`, `addr:<uuid>`."""

    id: str
    tz: str
    lat: float = 0.0
    lon: float = 0.0

    @property
    def is_airport(self) -> bool:
        return self.id.startswith("apt:")

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class LegPrice:
    """What a traveler charges: per kilogram, never below the minimum."""

    per_kg_minor: int
    minimum_minor: int
    currency: str

    def for_weight(self, weight_g: int) -> int:
        return per_kg(weight_g, self.per_kg_minor, self.minimum_minor)


@dataclass(frozen=True, slots=True)
class LegConstraints:
    """What a traveler accepts. `allowed_categories=None` means every category."""

    allowed_categories: frozenset[str] | None = None
    banned_categories: frozenset[str] = frozenset()
    max_item_weight_g: int | None = None
    max_dimensions_mm: Dimensions | None = None


@dataclass(frozen=True, slots=True)
class FlightLeg:
    """One leg of a traveler's published trip, airport to airport."""

    trip_id: str
    leg_id: str
    from_place: str
    to_place: str
    departure: datetime
    arrival: datetime
    remaining_weight_g: int
    price: LegPrice
    remaining_volume_cm3: int | None = None
    remaining_items: int | None = None
    constraints: LegConstraints = LegConstraints()

    def __post_init__(self) -> None:
        _aware(self.departure), _aware(self.arrival)
        if self.arrival < self.departure:
            raise ValueError(f"leg {self.leg_id} arrives before it departs")

    @property
    def edge_id(self) -> str:
        return self.leg_id


@dataclass(frozen=True, slots=True)
class OperatingWindow:
    """Daily hours in the local zone of the segment's start; `close <= open` wraps midnight,
    `open == close` means around the clock."""

    open: time = time(0, 0)
    close: time = time(0, 0)


@dataclass(frozen=True, slots=True)
class CourierSegment:
    """A local courier run, which may start at any time inside its daily window."""

    segment_id: str
    provider_id: str
    from_place: str
    to_place: str
    duration: timedelta
    price: Money
    max_weight_g: int | None = None
    window: OperatingWindow = OperatingWindow()

    @property
    def edge_id(self) -> str:
        return self.segment_id


@dataclass(frozen=True)
class BufferPolicy:
    """Minimum time between arriving at a place and leaving it on the next leg (handoff)."""

    airport: timedelta = timedelta(minutes=60)
    other: timedelta = timedelta(minutes=30)
    per_place: Mapping[str, timedelta] = field(default_factory=dict)

    def at(self, place_id: str) -> timedelta:
        if place_id in self.per_place:
            return self.per_place[place_id]
        return self.airport if place_id.startswith("apt:") else self.other


def earliest_start(segment: CourierSegment, tz: str, not_before: datetime) -> datetime:
    """The first instant at or after `not_before` that lies inside the segment's window."""
    w = segment.window
    if w.open == w.close:
        return not_before
    z = zone(tz)
    local = not_before.astimezone(z)
    for days in (-1, 0, 1, 2):
        day = local.date() + timedelta(days=days)
        opens = datetime.combine(day, w.open, z)
        closes = datetime.combine(day + timedelta(days=1) if w.close <= w.open else day, w.close, z)
        if not_before <= closes:
            start = max(not_before, opens)
            if start <= closes:
                return start.astimezone(timezone.utc)
    raise AssertionError("unreachable: a daily window opens within two days")


# ---- Building from event payloads / JSON-like mappings ---------------------------------

def _td(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))


def _time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def leg_from_dict(d: Mapping[str, Any]) -> FlightLeg:
    """A FlightLeg from a payload: scalar fields by name, `price` as
    `{per_kg_minor, minimum_minor, currency}`, optional `constraints` as
    `{allowed_categories, banned_categories, max_item_weight_g, max_dimensions_mm}`."""
    c = d.get("constraints") or {}
    allowed = c.get("allowed_categories")
    constraints = LegConstraints(
        allowed_categories=None if allowed is None else frozenset(allowed),
        banned_categories=frozenset(c.get("banned_categories") or ()),
        max_item_weight_g=c.get("max_item_weight_g"),
        max_dimensions_mm=tuple(c["max_dimensions_mm"]) if c.get("max_dimensions_mm") else None,
    )
    p = d["price"]
    price = p if isinstance(p, LegPrice) else LegPrice(int(p["per_kg_minor"]), int(p["minimum_minor"]), p["currency"])
    return FlightLeg(
        trip_id=str(d["trip_id"]), leg_id=str(d["leg_id"]),
        from_place=d["from_place"], to_place=d["to_place"],
        departure=_aware(d["departure"]), arrival=_aware(d["arrival"]),
        remaining_weight_g=int(d["remaining_weight_g"]),
        remaining_volume_cm3=d.get("remaining_volume_cm3"), remaining_items=d.get("remaining_items"),
        price=price, constraints=constraints,
    )


def segment_from_dict(d: Mapping[str, Any]) -> CourierSegment:
    """A CourierSegment from a payload: `duration_s`, `price_minor`, `currency`,
    `window_open`/`window_close` as "HH:MM" local times (absent: around the clock)."""
    window = OperatingWindow(_time(d.get("window_open", "00:00")), _time(d.get("window_close", "00:00")))
    return CourierSegment(
        segment_id=str(d["segment_id"]), provider_id=str(d["provider_id"]),
        from_place=d["from_place"], to_place=d["to_place"],
        duration=_td(d["duration_s"] if "duration_s" in d else d["duration"]),
        price=Money(int(d["price_minor"]), d["currency"]),
        max_weight_g=d.get("max_weight_g"), window=window,
    )


def place_from_dict(d: Mapping[str, Any]) -> Place:
    names = {f.name for f in fields(Place)}
    return Place(**{k: v for k, v in d.items() if k in names})
