"""The static route graph, kept current by domain events, and its immutable snapshots.

`RouteGraph` is the mutable, long-lived side (one per search replica): a networkx
MultiDiGraph with places as nodes and one edge per flight leg or courier segment, keyed by
the leg/segment id and carrying the object as its `item` attribute. `snapshot()` freezes it
into a `Network`, the read-only value the time-dependent search runs on and that Ray tasks
receive through the object store.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

import networkx as nx

from routing.network import (
    BufferPolicy,
    CourierSegment,
    FlightLeg,
    Place,
    leg_from_dict,
    place_from_dict,
    segment_from_dict,
)

MAX_LEGS = 4
_NO_FLIGHTS: tuple[list[int], list[int], list[FlightLeg]] = ([], [], [])


@dataclass(frozen=True, slots=True)
class RouteEvent:
    """A domain event as the graph consumes it. `event_id` makes re-delivery harmless."""

    topic: str
    payload: Mapping[str, Any]
    event_id: str | None = None


@dataclass(frozen=True, eq=False)
class Network:
    """An immutable view of places, legs, segments and buffers, plus lazily built indexes.

    `adjacency` is the static place graph (one edge per connected ordered pair of places)
    used to prune the search to places that can still reach the destination in time.
    """

    places: Mapping[str, Place]
    legs: tuple[FlightLeg, ...]
    segments: tuple[CourierSegment, ...]
    buffers: BufferPolicy = BufferPolicy()
    adjacency: nx.DiGraph | None = None
    version: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, places: Iterable[Place], legs: Iterable[FlightLeg] = (),
              segments: Iterable[CourierSegment] = (), buffers: BufferPolicy | None = None) -> "Network":
        return RouteGraph(places, legs, segments, buffers).snapshot()

    def compile(self) -> "Network":
        """Build every index now (before shipping the snapshot to Ray workers)."""
        self._departures()
        self._segments_from()
        self._buffers_s()
        return self

    def flights_from(self, place_id: str) -> tuple[list[int], list[int], list[FlightLeg]]:
        """Flights leaving a place, sorted by departure: (departure epochs, arrival epochs, legs)."""
        return self._departures().get(place_id, _NO_FLIGHTS)

    def segments_from(self, place_id: str) -> list[CourierSegment]:
        return self._segments_from().get(place_id, [])

    def buffer_s(self, place_id: str) -> int:
        b = self._buffers_s().get(place_id)
        return b if b is not None else int(self.buffers.at(place_id).total_seconds())

    def hops_to(self, destination: str, cutoff: int = MAX_LEGS) -> dict[str, int]:
        """Fewest legs from each place to `destination` (reverse BFS on the static graph)."""
        key = ("hops", destination, cutoff)
        if key not in self._cache:
            g = self.adjacency if self.adjacency is not None else nx.DiGraph()
            if destination not in g:
                hops = {destination: 0}
            else:
                hops = nx.single_source_shortest_path_length(g.reverse(copy=False), destination, cutoff=cutoff)
            self._cache[key] = hops
        return self._cache[key]

    def departures_in(self, place_id: str, start: int, end: int) -> int:
        deps = self.flights_from(place_id)[0]
        return bisect_left(deps, end + 1) - bisect_left(deps, start)

    def _departures(self) -> dict[str, tuple[list[int], list[int], list[FlightLeg]]]:
        if "dep" not in self._cache:
            by_place: dict[str, list[FlightLeg]] = {}
            for leg in self.legs:
                by_place.setdefault(leg.from_place, []).append(leg)
            index = {}
            for place, legs in by_place.items():
                legs.sort(key=lambda leg: leg.departure)
                index[place] = ([int(leg.departure.timestamp()) for leg in legs],
                                [int(leg.arrival.timestamp()) for leg in legs], legs)
            self._cache["dep"] = index
        return self._cache["dep"]

    def _segments_from(self) -> dict[str, list[CourierSegment]]:
        if "seg" not in self._cache:
            index: dict[str, list[CourierSegment]] = {}
            for s in self.segments:
                index.setdefault(s.from_place, []).append(s)
            self._cache["seg"] = index
        return self._cache["seg"]

    def _buffers_s(self) -> dict[str, int]:
        if "buf" not in self._cache:
            self._cache["buf"] = {p: int(self.buffers.at(p).total_seconds()) for p in self.places}
        return self._cache["buf"]


class RouteGraph:
    """The static graph, mutated only through `apply` (or the upsert/remove helpers).

    Topics and payloads (every payload is plain JSON-like data, times ISO 8601 with offset):

    - `place.upserted`: `{id, tz, lat, lon}`
    - `trip.published`, `trip.updated`: `{trip_id, legs: [leg]}`; the trip's legs are
      replaced by these. A leg is `{leg_id, from_place, to_place, departure, arrival,
      remaining_weight_g, remaining_volume_cm3?, remaining_items?, price: {per_kg_minor,
      minimum_minor, currency}, constraints?: {allowed_categories?, banned_categories?,
      max_item_weight_g?, max_dimensions_mm?}}` (`trip_id` is filled in from the trip).
    - `trip.cancelled`, `trip.completed`: `{trip_id}`; its legs leave the graph.
    - `trip.capacity_changed`: `{trip_id, leg_id, remaining_weight_g, remaining_volume_cm3?,
      remaining_items?}`. Absolute values, not deltas, so a replayed event is harmless.
    - `segment.published`, `segment.updated`: `{segment_id, provider_id, from_place,
      to_place, duration_s, price_minor, currency, max_weight_g?, window_open?, window_close?}`
    - `segment.withdrawn`: `{segment_id}`

    Other topics are ignored. An event whose `event_id` was already applied is skipped.
    """

    def __init__(self, places: Iterable[Place] = (), legs: Iterable[FlightLeg] = (),
                 segments: Iterable[CourierSegment] = (), buffers: BufferPolicy | None = None):
        self.graph = nx.MultiDiGraph()
        self.buffers = buffers or BufferPolicy()
        self.places: dict[str, Place] = {}
        self.legs: dict[str, FlightLeg] = {}
        self.segments: dict[str, CourierSegment] = {}
        self.version = 0
        self._seen: set[str] = set()
        self._snapshot: Network | None = None
        for p in places:
            self.upsert_place(p)
        for leg in legs:
            self.upsert_leg(leg)
        for s in segments:
            self.upsert_segment(s)

    # -- mutations --------------------------------------------------------------------

    def upsert_place(self, place: Place) -> None:
        self.places[place.id] = place
        self.graph.add_node(place.id, place=place)
        self._changed()

    def upsert_leg(self, leg: FlightLeg) -> None:
        self.remove_leg(leg.leg_id)
        self._ensure_nodes(leg.from_place, leg.to_place)
        self.legs[leg.leg_id] = leg
        self.graph.add_edge(leg.from_place, leg.to_place, key=leg.leg_id, kind="flight", item=leg)
        self._changed()

    def remove_leg(self, leg_id: str) -> None:
        leg = self.legs.pop(leg_id, None)
        if leg is not None:
            self.graph.remove_edge(leg.from_place, leg.to_place, key=leg_id)
            self._changed()

    def upsert_segment(self, seg: CourierSegment) -> None:
        self.remove_segment(seg.segment_id)
        self._ensure_nodes(seg.from_place, seg.to_place)
        self.segments[seg.segment_id] = seg
        self.graph.add_edge(seg.from_place, seg.to_place, key=seg.segment_id, kind="courier", item=seg)
        self._changed()

    def remove_segment(self, segment_id: str) -> None:
        seg = self.segments.pop(segment_id, None)
        if seg is not None:
            self.graph.remove_edge(seg.from_place, seg.to_place, key=segment_id)
            self._changed()

    def apply(self, event: RouteEvent | Mapping[str, Any]) -> bool:
        """Apply one domain event; returns False when it was a duplicate or not ours."""
        if isinstance(event, Mapping):
            event = RouteEvent(event["topic"], event.get("payload", {}), event.get("event_id"))
        if event.event_id is not None:
            if event.event_id in self._seen:
                return False
            self._seen.add(event.event_id)
        handler = _HANDLERS.get(event.topic)
        if handler is None:
            return False
        handler(self, event.payload)
        return True

    # -- reads ------------------------------------------------------------------------

    def snapshot(self) -> Network:
        """An immutable Network of the current state (cached until the next change)."""
        if self._snapshot is None:
            adjacency = nx.DiGraph()
            adjacency.add_nodes_from(self.graph.nodes)
            adjacency.add_edges_from((u, v) for u, v, _ in self.graph.edges(keys=True))
            self._snapshot = Network(dict(self.places), tuple(self.legs.values()),
                                     tuple(self.segments.values()), self.buffers,
                                     nx.freeze(adjacency), self.version)
        return self._snapshot

    def hops_to(self, destination: str, cutoff: int = MAX_LEGS) -> dict[str, int]:
        return self.snapshot().hops_to(destination, cutoff)

    def _ensure_nodes(self, *place_ids: str) -> None:
        for pid in place_ids:
            if pid not in self.places:
                raise KeyError(f"unknown place {pid!r}: publish the place first")

    def _changed(self) -> None:
        self.version += 1
        self._snapshot = None


def _trip_replace(g: RouteGraph, payload: Mapping[str, Any]) -> None:
    trip_id = str(payload["trip_id"])
    _trip_remove(g, payload)
    for raw in payload.get("legs", ()):
        g.upsert_leg(leg_from_dict({**raw, "trip_id": trip_id}))


def _trip_remove(g: RouteGraph, payload: Mapping[str, Any]) -> None:
    trip_id = str(payload["trip_id"])
    for leg_id in [lid for lid, leg in g.legs.items() if leg.trip_id == trip_id]:
        g.remove_leg(leg_id)


def _capacity(g: RouteGraph, payload: Mapping[str, Any]) -> None:
    leg = g.legs.get(str(payload["leg_id"]))
    if leg is None:
        return
    changes = {k: payload[k] for k in ("remaining_weight_g", "remaining_volume_cm3", "remaining_items")
               if k in payload}
    g.upsert_leg(replace(leg, **changes))


_HANDLERS = {
    "place.upserted": lambda g, p: g.upsert_place(place_from_dict(p)),
    "trip.published": _trip_replace,
    "trip.updated": _trip_replace,
    "trip.cancelled": _trip_remove,
    "trip.completed": _trip_remove,
    "trip.capacity_changed": _capacity,
    "segment.published": lambda g, p: g.upsert_segment(segment_from_dict(p)),
    "segment.updated": lambda g, p: g.upsert_segment(segment_from_dict(p)),
    "segment.withdrawn": lambda g, p: g.remove_segment(str(p["segment_id"])),
}
