import pickle

from routing import RouteEvent, RouteGraph, search
from tests.factories.routing import at, place, query


def leg_payload(leg_id: str, a: str, b: str, dep_h: float, arr_h: float, **extra):
    return {"leg_id": leg_id, "from_place": a, "to_place": b, "departure": at(dep_h).isoformat(),
            "arrival": at(arr_h).isoformat(), "remaining_weight_g": 5000,
            "price": {"per_kg_minor": 1000, "minimum_minor": 0, "currency": "EUR"}, **extra}


def graph_with_a_trip() -> RouteGraph:
    g = RouteGraph([place("apt:A"), place("apt:B"), place("apt:C")])
    g.apply({"topic": "trip.published", "event_id": "e1",
             "payload": {"trip_id": "t1", "legs": [leg_payload("l1", "apt:A", "apt:B", 1, 2),
                                                   leg_payload("l2", "apt:B", "apt:C", 4, 6)]}})
    return g


class TestApply:
    def test_a_published_trip_becomes_edges_and_is_searchable(self):
        g = graph_with_a_trip()

        assert g.graph.number_of_edges() == 2 and g.graph["apt:A"]["apt:B"]["l1"]["kind"] == "flight"
        assert search(query("apt:A", "apt:C"), g.snapshot()).found

    def test_a_replayed_event_is_ignored(self):
        g = graph_with_a_trip()
        version = g.version

        assert not g.apply({"topic": "trip.cancelled", "event_id": "e1", "payload": {"trip_id": "t1"}})
        assert g.version == version

    def test_an_update_replaces_the_trip_legs(self):
        g = graph_with_a_trip()
        g.apply(RouteEvent("trip.updated", {"trip_id": "t1", "legs": [leg_payload("l3", "apt:A", "apt:C", 1, 3)]}))

        assert set(g.legs) == {"l3"}

    def test_a_capacity_change_can_fill_a_leg(self):
        g = graph_with_a_trip()
        g.apply(RouteEvent("trip.capacity_changed", {"trip_id": "t1", "leg_id": "l2", "remaining_weight_g": 100}))

        result = search(query("apt:A", "apt:C", weight_g=1000), g.snapshot())
        assert not result.found and [r.value for r in result.diagnostics.reasons] == ["capacity_full"]

    def test_a_cancelled_trip_leaves_the_graph(self):
        g = graph_with_a_trip()
        g.apply(RouteEvent("trip.cancelled", {"trip_id": "t1"}))

        assert g.graph.number_of_edges() == 0 and not search(query("apt:A", "apt:C"), g.snapshot()).found

    def test_segments_are_published_and_withdrawn(self):
        g = graph_with_a_trip()
        g.apply(RouteEvent("place.upserted", {"id": "addr:x", "tz": "Europe/London", "lat": 51.5, "lon": 0.0}))
        g.apply(RouteEvent("segment.published", {
            "segment_id": "s1", "provider_id": "p1", "from_place": "apt:C", "to_place": "addr:x",
            "duration_s": 3600, "price_minor": 700, "currency": "EUR",
            "window_open": "08:00", "window_close": "20:00"}))

        assert search(query("apt:A", "addr:x"), g.snapshot()).itineraries[0].price_minor == 2700
        g.apply(RouteEvent("segment.withdrawn", {"segment_id": "s1"}))
        assert not search(query("apt:A", "addr:x"), g.snapshot()).found

    def test_an_unknown_topic_is_not_ours(self):
        assert not graph_with_a_trip().apply(RouteEvent("payment.succeeded", {}))


class TestSnapshot:
    def test_a_snapshot_is_cached_until_the_next_change_and_pickles(self):
        g = graph_with_a_trip()
        snap = g.snapshot()

        assert g.snapshot() is snap
        clone = pickle.loads(pickle.dumps(snap.compile()))
        assert search(query("apt:A", "apt:C"), clone).found
        g.apply(RouteEvent("trip.cancelled", {"trip_id": "t1"}))
        assert g.snapshot() is not snap and search(query("apt:A", "apt:C"), snap).found

    def test_reverse_bfs_counts_legs_to_the_destination(self):
        assert graph_with_a_trip().hops_to("apt:C") == {"apt:C": 0, "apt:B": 1, "apt:A": 2}
