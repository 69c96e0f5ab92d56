"""Itinerary search: every Pareto-best way to carry one package from origin to destination.

Criteria are price (minor units of the query currency), arrival time and number of legs.
The search runs in rounds, RAPTOR style: round k holds the itineraries of exactly k legs,
each place keeps a bag of non-dominated labels (arrival, price, legs) across rounds, and
only the labels that entered a bag in round k-1 are extended in round k. Two facts keep it
cheap and exact:

- a label that arrives no later, costs no more and used no more legs than another at the
  same place can do everything the other can (earlier arrival catches a superset of
  departures; costs are additive), so dominated labels are dropped, also against the
  labels already at the destination (target pruning);
- within one round a bag sorted by arrival is sorted by falling price, so for each flight
  only the latest label that still makes the connection buffer matters: the cheapest one.

The static graph prunes places that cannot reach the destination within the legs left.
Every leg boundary is a handoff and needs the buffer of its place; the ready time at the
origin is the earliest handoff, so the first leg needs no buffer.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Mapping

from p2p.pricing import convert
from routing.graph import MAX_LEGS, Network
from routing.network import CourierSegment, Dimensions, FlightLeg, earliest_start, fits, zone


class Reason(StrEnum):
    """Why a candidate (a leg, a segment or a whole query) was excluded."""

    UNKNOWN_PLACE = "unknown_place"
    NO_CONNECTION_FROM_ORIGIN = "no_connection_from_origin"
    NO_TRIP_ON_DATE = "no_trip_on_date"
    NO_ONWARD_CONNECTION = "no_onward_connection"
    DESTINATION_UNREACHABLE = "destination_unreachable"
    MAX_LEGS_EXCEEDED = "max_legs_exceeded"
    CAPACITY_FULL = "capacity_full"
    CATEGORY_NOT_ALLOWED = "category_not_allowed"
    TOO_HEAVY = "too_heavy"
    TOO_LARGE = "too_large"
    CURRENCY_MISMATCH = "currency_mismatch"
    MISSED_CONNECTION = "missed_connection"
    ARRIVAL_AFTER_DEADLINE = "arrival_after_deadline"


@dataclass(frozen=True)
class FxTable:
    """Exchange rates as major units of the second currency per major unit of the first."""

    rates: Mapping[tuple[str, str], Decimal]

    def convert(self, amount_minor: int, src: str, dst: str) -> int | None:
        if src == dst:
            return amount_minor
        rate = self.rates.get((src, dst))
        if rate is None:
            inverse = self.rates.get((dst, src))
            if not inverse:
                return None
            rate = 1 / Decimal(inverse)
        return convert(amount_minor, src, dst, rate)


@dataclass(frozen=True, slots=True)
class ItineraryQuery:
    """One package to move. `ready_at` is when it can first be handed over at the origin."""

    origin: str
    destination: str
    ready_at: datetime
    deadline: datetime
    weight_g: int
    dimensions_mm: Dimensions
    category: str
    currency: str
    max_legs: int = MAX_LEGS
    query_id: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_legs <= MAX_LEGS:
            raise ValueError(f"max_legs must be between 1 and {MAX_LEGS}")
        if self.ready_at.tzinfo is None or self.deadline.tzinfo is None:
            raise ValueError("ready_at and deadline must be timezone-aware")
        if self.deadline <= self.ready_at:
            raise ValueError("deadline must be after ready_at")
        if self.weight_g <= 0:
            raise ValueError("weight_g must be positive")


@dataclass(frozen=True, slots=True)
class ItineraryLeg:
    kind: Literal["flight", "courier"]
    edge_id: str
    from_place: str
    to_place: str
    departure_utc: datetime
    arrival_utc: datetime
    departure_local: str
    arrival_local: str
    price_minor: int
    currency: str
    trip_id: str | None = None
    leg_id: str | None = None
    segment_id: str | None = None
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class Itinerary:
    legs: tuple[ItineraryLeg, ...]
    price_minor: int
    currency: str

    @property
    def departure_utc(self) -> datetime:
        return self.legs[0].departure_utc

    @property
    def arrival_utc(self) -> datetime:
        return self.legs[-1].arrival_utc

    @property
    def legs_count(self) -> int:
        return len(self.legs)

    @property
    def criteria(self) -> tuple[int, datetime, int]:
        """(price, arrival, legs): the vector Pareto dominance is judged on."""
        return self.price_minor, self.arrival_utc, self.legs_count


@dataclass(frozen=True, slots=True)
class Exclusion:
    reason: Reason
    place: str
    edge_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Diagnostics:
    """Why candidates were excluded: a count per reason (distinct legs/segments/places)
    and up to a few examples of each. Always filled; what matters when nothing is found."""

    counts: Mapping[Reason, int]
    examples: tuple[Exclusion, ...]
    labels: int = 0

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(self.counts)


@dataclass(frozen=True)
class SearchResult:
    query: ItineraryQuery
    itineraries: tuple[Itinerary, ...]
    diagnostics: Diagnostics

    @property
    def found(self) -> bool:
        return bool(self.itineraries)


def dominates(a: tuple, b: tuple) -> bool:
    """Weak dominance on criteria vectors (every component <=)."""
    return all(x <= y for x, y in zip(a, b))


class _Label:
    __slots__ = ("arr", "price", "legs", "parent", "edge", "dep", "alive")

    def __init__(self, arr: int, price: int, legs: int, parent: "_Label | None",
                 edge: FlightLeg | CourierSegment | None, dep: int):
        self.arr, self.price, self.legs = arr, price, legs
        self.parent, self.edge, self.dep = parent, edge, dep
        self.alive = True


@dataclass
class _Collector:
    max_examples: int
    seen: set = field(default_factory=set)
    counts: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)

    def add(self, reason: Reason, place: str, edge_id: str | None = None, detail: str = "") -> None:
        key = (reason, place, edge_id)
        if key in self.seen:
            return
        self.seen.add(key)
        n = self.counts.get(reason, 0)
        self.counts[reason] = n + 1
        if n < self.max_examples:
            self.examples.append(Exclusion(reason, place, edge_id, detail))

    def freeze(self, labels: int) -> Diagnostics:
        return Diagnostics(dict(self.counts), tuple(self.examples), labels)


class _Search:
    def __init__(self, query: ItineraryQuery, network: Network, fx: FxTable | None, max_examples: int):
        self.q, self.net, self.fx = query, network, fx
        self.ready = int(query.ready_at.timestamp())
        self.deadline = int(query.deadline.timestamp())
        self.diag = _Collector(max_examples)
        self.bags: dict[str, list[_Label]] = {}
        self.target: list[_Label] = []
        self.checked: dict[str, tuple[Reason | None, int]] = {}
        self.labels = 0

    def run(self) -> SearchResult:
        q, net = self.q, self.net
        for pid in (q.origin, q.destination):
            if pid not in net.places:
                self.diag.add(Reason.UNKNOWN_PLACE, pid)
        if self.diag.counts:
            return self._result()
        self.hops = net.hops_to(q.destination, q.max_legs)
        if q.origin not in self.hops:
            self._explain_unreachable()
            return self._result()
        start = _Label(self.ready, 0, 0, None, None, self.ready)
        self.bags[q.origin] = [start]
        marked = {q.origin: [start]}
        for k in range(1, q.max_legs + 1):
            fresh: dict[str, list[_Label]] = {}
            for place, labels in marked.items():
                labels = sorted((lb for lb in labels if lb.alive), key=lambda lb: lb.arr)
                if labels:
                    self._scan_flights(place, labels, k, fresh)
                    self._scan_segments(place, labels, k, fresh)
            marked = fresh
        if not self.target and not self.diag.counts:
            self._explain_nothing()
        return self._result()

    # -- relaxation ----------------------------------------------------------------------

    def _scan_flights(self, place: str, labels: list[_Label], k: int, fresh: dict) -> None:
        deps, arrs, legs = self.net.flights_from(place)
        if not deps:
            return
        buf = 0 if k == 1 else self.net.buffer_s(place)
        lo, hi = bisect_left(deps, labels[0].arr), bisect_right(deps, self.deadline)
        if lo >= hi and not self.net.segments_from(place):
            reason = Reason.NO_TRIP_ON_DATE if k == 1 else Reason.NO_ONWARD_CONNECTION
            self.diag.add(reason, place, None, f"{len(deps)} flights leave {place}, none in the time window")
        hops, max_legs, n, j = self.hops, self.q.max_legs, len(labels), 0
        deadline, checked, target = self.deadline, self.checked, self.target
        cheapest = labels[-1].price
        beaten = min((t.arr for t in target if t.price <= cheapest and t.legs <= k), default=None)
        if beaten is not None:  # leaving at or after `beaten` cannot beat that answer
            hi = min(hi, bisect_left(deps, beaten, lo))
        for i in range(lo, hi):
            leg = legs[i]
            h = hops.get(leg.to_place)
            if h is None or h + k > max_legs:
                continue
            dep, arr = deps[i], arrs[i]
            while j < n and labels[j].arr + buf <= dep:
                j += 1
            if arr > deadline:
                self.diag.add(Reason.ARRIVAL_AFTER_DEADLINE, place, leg.leg_id)
                continue
            if j and target and _dominated(target, arr, labels[j - 1].price, k):
                continue  # already beaten at the destination whatever this leg costs
            reason, price = checked.get(leg.leg_id) or self._check(leg)
            if reason is not None:
                self.diag.add(reason, place, leg.leg_id)
                continue
            if j == 0:
                self.diag.add(Reason.MISSED_CONNECTION, place, leg.leg_id, f"needs {buf // 60} min at {place}")
                continue
            best = labels[j - 1]
            self._add(leg.to_place, _Label(arr, best.price + price, k, best, leg, dep), fresh)

    def _scan_segments(self, place: str, labels: list[_Label], k: int, fresh: dict) -> None:
        segments = self.net.segments_from(place)
        if not segments:
            return
        buf = 0 if k == 1 else self.net.buffer_s(place)
        tz = self.net.places[place].tz
        for seg in segments:
            h = self.hops.get(seg.to_place)
            if h is None or h + k > self.q.max_legs:
                continue
            reason, price = self._check(seg)
            if reason is not None:
                self.diag.add(reason, place, seg.segment_id)
                continue
            duration = int(seg.duration.total_seconds())
            for lb in labels:
                dep = _start(seg, tz, lb.arr + buf)
                if dep + duration > self.deadline:
                    self.diag.add(Reason.ARRIVAL_AFTER_DEADLINE, place, seg.segment_id)
                    break  # later labels start no earlier
                self._add(seg.to_place, _Label(dep + duration, lb.price + price, k, lb, seg, dep), fresh)

    def _add(self, place: str, label: _Label, fresh: dict) -> None:
        arr, price, legs = label.arr, label.price, label.legs
        if _dominated(self.target, arr, price, legs):
            return
        bag = self.bags.setdefault(place, [])
        for other in bag:
            if other.arr <= arr and other.price <= price and other.legs <= legs:
                return
        kept = []
        for other in bag:
            if arr <= other.arr and price <= other.price and legs <= other.legs:
                other.alive = False
            else:
                kept.append(other)
        kept.append(label)
        self.bags[place] = kept
        self.labels += 1
        if place == self.q.destination:
            self.target = kept
        else:
            fresh.setdefault(place, []).append(label)

    # -- static checks -------------------------------------------------------------------

    def _check(self, edge: FlightLeg | CourierSegment) -> tuple[Reason | None, int]:
        key = edge.edge_id
        hit = self.checked.get(key)
        if hit is None:
            hit = self.checked[key] = _check_leg(edge, self.q, self.fx) if isinstance(edge, FlightLeg) \
                else _check_segment(edge, self.q, self.fx)
        return hit

    def _explain_unreachable(self) -> None:
        q, net = self.q, self.net
        if not net.flights_from(q.origin)[0] and not net.segments_from(q.origin):
            self.diag.add(Reason.NO_CONNECTION_FROM_ORIGIN, q.origin)
            return
        needed = net.hops_to(q.destination, 2 * MAX_LEGS).get(q.origin)
        if needed is not None:
            self.diag.add(Reason.MAX_LEGS_EXCEEDED, q.origin, None,
                          f"the destination needs at least {needed} legs, max_legs is {q.max_legs}")
        else:
            self.diag.add(Reason.DESTINATION_UNREACHABLE, q.origin, None,
                          f"no chain of legs or segments leads to {q.destination}")

    def _explain_nothing(self) -> None:
        """Nothing failed a check, so what would help leaves too late: say which."""
        for place in self.bags:
            deps, _, legs = self.net.flights_from(place)
            for leg in legs[bisect_right(deps, self.deadline):]:
                if leg.to_place in self.hops:
                    self.diag.add(Reason.ARRIVAL_AFTER_DEADLINE, place, leg.leg_id, "departs after the deadline")
        if not self.diag.counts:
            self.diag.add(Reason.NO_TRIP_ON_DATE, self.q.origin, None,
                          "nothing leaving in the time window leads to the destination")

    def _result(self) -> SearchResult:
        found = sorted((lb for lb in self.target if lb.alive), key=lambda lb: (lb.arr, lb.price, lb.legs))
        itineraries = tuple(_itinerary(lb, self.net, self.q, self.fx) for lb in found)
        return SearchResult(self.q, itineraries, self.diag.freeze(self.labels))


def _dominated(target: list[_Label], arr: int, price: int, legs: int) -> bool:
    for t in target:
        if t.arr <= arr and t.price <= price and t.legs <= legs:
            return True
    return False


def _start(seg: CourierSegment, tz: str, not_before: int) -> int:
    w = seg.window
    if w.open == w.close:
        return not_before
    at = earliest_start(seg, tz, datetime.fromtimestamp(not_before, timezone.utc))
    return int(at.timestamp())


def _convert(amount: int, currency: str, q: ItineraryQuery, fx: FxTable | None) -> int | None:
    if currency == q.currency:
        return amount
    return fx.convert(amount, currency, q.currency) if fx else None


def _check_leg(leg: FlightLeg, q: ItineraryQuery, fx: FxTable | None) -> tuple[Reason | None, int]:
    c = leg.constraints
    if leg.remaining_weight_g < q.weight_g or leg.remaining_items is not None and leg.remaining_items < 1:
        return Reason.CAPACITY_FULL, 0
    volume_cm3 = -(-q.dimensions_mm[0] * q.dimensions_mm[1] * q.dimensions_mm[2] // 1000)
    if leg.remaining_volume_cm3 is not None and leg.remaining_volume_cm3 < volume_cm3:
        return Reason.CAPACITY_FULL, 0
    allowed = c.allowed_categories
    if q.category in c.banned_categories or (allowed is not None and q.category not in allowed):
        return Reason.CATEGORY_NOT_ALLOWED, 0
    if c.max_item_weight_g is not None and q.weight_g > c.max_item_weight_g:
        return Reason.TOO_HEAVY, 0
    if not fits(q.dimensions_mm, c.max_dimensions_mm):
        return Reason.TOO_LARGE, 0
    price = _convert(leg.price.for_weight(q.weight_g), leg.price.currency, q, fx)
    return (Reason.CURRENCY_MISMATCH, 0) if price is None else (None, price)


def _check_segment(seg: CourierSegment, q: ItineraryQuery, fx: FxTable | None) -> tuple[Reason | None, int]:
    if seg.max_weight_g is not None and q.weight_g > seg.max_weight_g:
        return Reason.TOO_HEAVY, 0
    price = _convert(seg.price.amount_minor, seg.price.currency, q, fx)
    return (Reason.CURRENCY_MISMATCH, 0) if price is None else (None, price)


def _local(epoch: int, tz: str) -> str:
    return f"{datetime.fromtimestamp(epoch, zone(tz)).isoformat()}[{tz}]"


def _itinerary(label: _Label, net: Network, q: ItineraryQuery, fx: FxTable | None) -> Itinerary:
    chain = []
    while label.parent is not None:
        chain.append(label)
        label = label.parent
    legs = []
    for lb in reversed(chain):
        e = lb.edge
        from_tz, to_tz = net.places[e.from_place].tz, net.places[e.to_place].tz
        price = lb.price - lb.parent.price
        common = dict(edge_id=e.edge_id, from_place=e.from_place, to_place=e.to_place,
                      departure_utc=datetime.fromtimestamp(lb.dep, timezone.utc),
                      arrival_utc=datetime.fromtimestamp(lb.arr, timezone.utc),
                      departure_local=_local(lb.dep, from_tz), arrival_local=_local(lb.arr, to_tz),
                      price_minor=price, currency=q.currency)
        if isinstance(e, FlightLeg):
            legs.append(ItineraryLeg(kind="flight", trip_id=e.trip_id, leg_id=e.leg_id, **common))
        else:
            legs.append(ItineraryLeg(kind="courier", segment_id=e.segment_id, provider_id=e.provider_id, **common))
    return Itinerary(tuple(legs), sum(leg.price_minor for leg in legs), q.currency)


def search(query: ItineraryQuery, network: Network, *, fx: FxTable | None = None,
           max_examples: int = 5) -> SearchResult:
    """The Pareto set of itineraries for one query, in this process (no Ray).

    Legs priced in another currency than the query's are excluded (`currency_mismatch`)
    unless `fx` converts them. When nothing is found, `diagnostics` says why.
    """
    return _Search(query, network, fx, max_examples).run()
