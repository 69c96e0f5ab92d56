"""Random small networks: every answer is feasible, none dominates another, and against a
brute-force enumeration of every path the Pareto set is complete.

The checker below is written independently of the search (own window arithmetic on
fixed-offset zones, own pricing) so that a shared bug does not pass silently."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import FlightLeg, search
from tests.factories.routing import T0, courier, flight, network, place, query

ZONES = {"UTC": 0, "Asia/Tokyo": 9 * 3600, "Pacific/Honolulu": -10 * 3600, "Asia/Kolkata": 19800}
CATEGORIES = ["parcel", "parcel", "document", "food"]
BUFFER = {"apt": 60 * 60, "addr": 30 * 60}
EPOCH0 = int(T0.timestamp())


@st.composite
def scenarios(draw):
    n = draw(st.integers(3, 6))
    ids = [("apt:" if i % 2 == 0 else "addr:") + f"P{i}" for i in range(n)]
    places = [place(pid, draw(st.sampled_from(sorted(ZONES)))) for pid in ids]
    origin, destination = draw(st.permutations(ids))[:2]
    legs = []
    for i in range(draw(st.integers(0, 20))):
        a, b = draw(st.permutations(ids))[:2]
        dep = draw(st.integers(0, 96)) * 30
        dur = draw(st.integers(1, 10)) * 30
        legs.append(flight(f"f{i}", a, b, T0 + timedelta(minutes=dep), T0 + timedelta(minutes=dep + dur),
                           weight_g=draw(st.sampled_from([500, 1000, 5000, 5000])),
                           per_kg=draw(st.integers(0, 5)) * 500, minimum=draw(st.sampled_from([0, 700])),
                           allowed=draw(st.sampled_from([None, None, None, {"parcel"}, {"document"}])),
                           banned=draw(st.sampled_from([(), (), ("food",)])),
                           max_dims=draw(st.sampled_from([None, None, (300, 300, 300), (100, 100, 130)]))))
    for c in range(draw(st.integers(0, 3))):  # chains: legs that connect, some inside the buffer
        here, t = draw(st.sampled_from([origin, origin] + ids)), draw(st.integers(0, 24)) * 30
        n_legs = draw(st.integers(1, 4))
        for j in range(n_legs):
            there = draw(st.sampled_from([p for p in ids if p != here]))
            if j == n_legs - 1 and here != destination and draw(st.booleans()):
                there = destination
            dur = draw(st.integers(1, 6)) * 30
            legs.append(flight(f"c{c}.{j}", here, there, T0 + timedelta(minutes=t),
                               T0 + timedelta(minutes=t + dur), per_kg=draw(st.integers(0, 3)) * 500))
            here, t = there, t + dur + draw(st.integers(0, 5)) * 30
    if draw(st.booleans()):  # layered: origin -> ... -> destination, deep paths and near misses
        order = [origin] + [p for p in ids if p not in (origin, destination)] + [destination]
        for i in range(draw(st.integers(4, 20))):
            k = draw(st.integers(0, len(order) - 2))
            a, b = order[k], order[min(k + draw(st.sampled_from([1, 1, 1, 2])), len(order) - 1)]
            dep = k * 300 + draw(st.integers(0, 10)) * 30
            legs.append(flight(f"l{i}", a, b, T0 + timedelta(minutes=dep),
                               T0 + timedelta(minutes=dep + draw(st.integers(1, 8)) * 30),
                               per_kg=draw(st.integers(0, 4)) * 500, weight_g=draw(st.sampled_from([500, 5000]))))
    segments = []
    for i in range(draw(st.integers(0, 6))):
        a, b = draw(st.permutations(ids))[:2]
        window = draw(st.sampled_from([None, ("08:00", "20:00"), ("22:00", "06:00"), ("12:00", "13:00")]))
        segments.append(courier(f"s{i}", a, b, draw(st.integers(1, 8)) * 30, draw(st.integers(0, 4)) * 400,
                                window=window, max_weight_g=draw(st.sampled_from([None, 800, 5000]))))
    q = query(origin, destination, deadline=T0 + timedelta(hours=draw(st.integers(2, 80))),
              weight_g=draw(st.sampled_from([400, 1000])), dims=draw(st.sampled_from([(50, 80, 120), (250, 90, 90)])),
              category=draw(st.sampled_from(CATEGORIES)), max_legs=draw(st.sampled_from([1, 2, 3, 4, 4, 4])))
    return places, legs, segments, q


def buffer(pid: str) -> int:
    return BUFFER["apt" if pid.startswith("apt:") else "addr"]


def hhmm(t) -> int:
    return t.hour * 3600 + t.minute * 60


def courier_start(seg, tz: str, t: int) -> int:
    o, c = hhmm(seg.window.open), hhmm(seg.window.close)
    if o == c:
        return t
    local = (t + ZONES[tz]) % 86400
    if o < c:
        if local < o:
            return t + o - local
        return t if local <= c else t + 86400 - local + o
    return t if local >= o or local <= c else t + o - local


def edge_ok(edge, q) -> int | None:
    """The edge's price for the query, or None when the package may not use it."""
    if isinstance(edge, FlightLeg):
        c = edge.constraints
        ok = (edge.remaining_weight_g >= q.weight_g and q.category not in c.banned_categories
              and (c.allowed_categories is None or q.category in c.allowed_categories)
              and (c.max_dimensions_mm is None
                   or all(x <= y for x, y in zip(sorted(q.dimensions_mm), sorted(c.max_dimensions_mm)))))
        return max(edge.price.minimum_minor, -(-edge.price.per_kg_minor * q.weight_g // 1000)) if ok else None
    ok = edge.max_weight_g is None or q.weight_g <= edge.max_weight_g
    return edge.price.amount_minor if ok else None


def brute_force(places, legs, segments, q) -> set[tuple[int, int, int]]:
    tz = {p.id: p.tz for p in places}
    deadline = int(q.deadline.timestamp())
    vectors = set()

    def walk(at_place, t, price, n):
        if at_place == q.destination and n > 0:
            vectors.add((price, t, n))
            return
        if n == q.max_legs:
            return
        ready = t + (buffer(at_place) if n else 0)
        for leg in legs:
            dep, arr = int(leg.departure.timestamp()), int(leg.arrival.timestamp())
            p = edge_ok(leg, q)
            if leg.from_place == at_place and dep >= ready and arr <= deadline and p is not None:
                walk(leg.to_place, arr, price + p, n + 1)
        for seg in segments:
            p = edge_ok(seg, q)
            if seg.from_place == at_place and p is not None:
                arr = courier_start(seg, tz[at_place], ready) + int(seg.duration.total_seconds())
                if arr <= deadline:
                    walk(seg.to_place, arr, price + p, n + 1)

    walk(q.origin, int(q.ready_at.timestamp()), 0, 0)
    return {v for v in vectors if not any(w != v and all(a <= b for a, b in zip(w, v)) for w in vectors)}


def check_feasible(itinerary, places, legs, segments, q) -> tuple[int, int, int]:
    edges = {leg.leg_id: leg for leg in legs} | {s.segment_id: s for s in segments}
    tz = {p.id: p.tz for p in places}
    at_place, t, price = q.origin, int(q.ready_at.timestamp()), 0
    assert 1 <= len(itinerary.legs) <= q.max_legs
    for n, leg in enumerate(itinerary.legs):
        edge = edges[leg.edge_id]
        assert (leg.from_place, leg.to_place) == (edge.from_place, edge.to_place)
        assert leg.from_place == at_place, "legs must chain"
        dep, arr = int(leg.departure_utc.timestamp()), int(leg.arrival_utc.timestamp())
        assert dep >= t + (buffer(at_place) if n else 0), "buffer at every handoff"
        p = edge_ok(edge, q)
        assert p is not None and leg.price_minor == p, "capacity and constraints"
        if isinstance(edge, FlightLeg):
            assert (dep, arr) == (int(edge.departure.timestamp()), int(edge.arrival.timestamp()))
        else:
            assert courier_start(edge, tz[at_place], dep) == dep, "courier starts inside its window"
            assert arr == dep + int(edge.duration.total_seconds())
        at_place, t, price = leg.to_place, arr, price + p
    assert at_place == q.destination and t <= int(q.deadline.timestamp())
    assert price == itinerary.price_minor
    return price, t, len(itinerary.legs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_answer_is_feasible_non_dominated_and_complete(scenario):
    places, legs, segments, q = scenario
    result = search(q, network(places, legs, segments, airport=60, other=30))

    found = [check_feasible(i, places, legs, segments, q) for i in result.itineraries]
    for a in found:
        assert not any(b != a and all(x <= y for x, y in zip(b, a)) for b in found), "no dominated answer"
    assert len(set(found)) == len(found)
    assert set(found) == brute_force(places, legs, segments, q)
    if not found:
        assert result.diagnostics.counts or q.origin not in {e.from_place for e in legs + segments}
