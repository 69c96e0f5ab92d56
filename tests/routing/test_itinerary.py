from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from routing import FxTable, ItineraryQuery, Reason, search
from tests.factories.routing import T0, at, courier, flight, network, place, query

LONDON = ["apt:LHR", "apt:LGW", "apt:JFK", "apt:EWR"]


def chain_and_direct(direct_arrival_hour: float):
    """courier LHR->LGW (10.00), flight LGW->EWR (30.00), courier EWR->JFK (10.00) = 50.00,
    arriving 22:00, against a direct LHR->JFK flight at 90.00."""
    legs = [flight("direct", "apt:LHR", "apt:JFK", at(9), at(direct_arrival_hour), per_kg=9000),
            flight("lgw-ewr", "apt:LGW", "apt:EWR", at(11), at(19), per_kg=3000)]
    segments = [courier("lhr-lgw", "apt:LHR", "apt:LGW", 60, 1000),
                courier("ewr-jfk", "apt:EWR", "apt:JFK", 90, 1000)]
    return network(LONDON, legs, segments)


def summary(result):
    return [(i.price_minor, i.arrival_utc, [leg.edge_id for leg in i.legs]) for i in result.itineraries]


class TestParetoSet:
    def test_a_courier_flight_courier_chain_beats_a_direct_flight_on_price(self):
        result = search(query("apt:LHR", "apt:JFK"), chain_and_direct(direct_arrival_hour=23))

        cheapest = min(result.itineraries, key=lambda i: i.price_minor)
        assert (cheapest.price_minor, cheapest.arrival_utc) == (5000, at(21.5))
        assert [(leg.kind, leg.edge_id) for leg in cheapest.legs] == [
            ("courier", "lhr-lgw"), ("flight", "lgw-ewr"), ("courier", "ewr-jfk")]
        # later and dearer, the direct flight survives only on its single leg
        assert summary(result)[1] == (9000, at(23), ["direct"])

    def test_a_direct_flight_dominated_on_every_criterion_is_dropped(self):
        legs = [flight("direct", "apt:LHR", "apt:JFK", at(9), at(23), per_kg=9000),
                flight("cheap", "apt:LHR", "apt:JFK", at(10), at(20), per_kg=3000)]
        result = search(query("apt:LHR", "apt:JFK"), network(LONDON, legs))

        assert summary(result) == [(3000, at(20), ["cheap"])]

    def test_an_earlier_direct_flight_is_kept_beside_the_cheaper_chain(self):
        result = search(query("apt:LHR", "apt:JFK"), chain_and_direct(direct_arrival_hour=17))

        assert summary(result) == [(9000, at(17), ["direct"]),
                                   (5000, at(21.5), ["lhr-lgw", "lgw-ewr", "ewr-jfk"])]

    def test_fewer_legs_at_the_same_price_and_time_is_its_own_pareto_point(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(2), per_kg=100),
                flight("bc", "apt:B", "apt:C", at(4), at(6), per_kg=100),
                flight("ac", "apt:A", "apt:C", at(1), at(7), per_kg=300)]
        result = search(query("apt:A", "apt:C"), network(["apt:A", "apt:B", "apt:C"], legs))

        assert [(i.price_minor, i.legs_count) for i in result.itineraries] == [(200, 2), (300, 1)]

    def test_price_is_per_kg_rounded_up_never_below_the_minimum(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(2), per_kg=999, minimum=500)]
        net = network(["apt:A", "apt:B"], legs)

        assert search(query("apt:A", "apt:B", weight_g=1501), net).itineraries[0].price_minor == 1500
        assert search(query("apt:A", "apt:B", weight_g=100), net).itineraries[0].price_minor == 500


class TestConnections:
    def test_a_connection_inside_the_buffer_is_missed(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(9.5)),
                flight("bc", "apt:B", "apt:C", at(10), at(12))]
        result = search(query("apt:A", "apt:C"), network(["apt:A", "apt:B", "apt:C"], legs, airport=60))

        assert not result.found
        assert result.diagnostics.counts == {Reason.MISSED_CONNECTION: 1}
        assert result.diagnostics.examples[0].edge_id == "bc"

    def test_a_connection_that_respects_a_shorter_buffer_is_made(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(9.5)),
                flight("bc", "apt:B", "apt:C", at(10), at(12))]
        net = network(["apt:A", "apt:B", "apt:C"], legs, airport=60, per_place={"apt:B": 30})

        assert summary(search(query("apt:A", "apt:C"), net))[0][2] == ["ab", "bc"]

    def test_the_first_leg_needs_no_buffer_after_the_ready_time(self):
        net = network(["apt:A", "apt:B"], [flight("ab", "apt:A", "apt:B", T0, at(2))])

        assert search(query("apt:A", "apt:B", ready=T0), net).found

    def test_a_courier_waits_for_its_operating_window_in_local_time(self):
        # Tokyo is UTC+9: arriving 12:00 UTC is 21:00 local, after the 08:00-20:00 window.
        places = [place("apt:HND", "Asia/Tokyo"), place("addr:tokyo", "Asia/Tokyo"), place("apt:X")]
        legs = [flight("x-hnd", "apt:X", "apt:HND", at(2), at(12))]
        segments = [courier("last-mile", "apt:HND", "addr:tokyo", 60, 500, window=("08:00", "20:00"))]
        result = search(query("apt:X", "addr:tokyo"), network(places, legs, segments))

        last = result.itineraries[0].legs[-1]
        assert last.departure_local == "2025-03-02T08:00:00+09:00[Asia/Tokyo]"
        assert last.arrival_utc == datetime(2025, 3, 2, 0, tzinfo=timezone.utc)


class TestExclusions:
    def test_a_full_trip_is_skipped_for_a_later_one(self):
        legs = [flight("full", "apt:A", "apt:B", at(1), at(2), weight_g=500),
                flight("later", "apt:A", "apt:B", at(5), at(6))]
        result = search(query("apt:A", "apt:B", weight_g=1000), network(["apt:A", "apt:B"], legs))

        assert summary(result)[0][2] == ["later"]
        assert result.diagnostics.counts[Reason.CAPACITY_FULL] == 1

    def test_a_trip_with_no_items_left_is_full(self):
        legs = [flight("full", "apt:A", "apt:B", at(1), at(2), items=0)]
        result = search(query("apt:A", "apt:B"), network(["apt:A", "apt:B"], legs))

        assert result.diagnostics.reasons == (Reason.CAPACITY_FULL,)

    @pytest.mark.parametrize("allowed, banned", [({"document"}, ()), (None, ("parcel",))])
    def test_a_category_the_traveler_does_not_accept_is_refused(self, allowed, banned):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(2), allowed=allowed, banned=banned)]
        result = search(query("apt:A", "apt:B", category="parcel"), network(["apt:A", "apt:B"], legs))

        assert not result.found and result.diagnostics.reasons == (Reason.CATEGORY_NOT_ALLOWED,)

    def test_item_weight_and_dimensions_are_checked_in_any_orientation(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(2), max_item_g=2000, max_dims=(300, 200, 100))]
        net = network(["apt:A", "apt:B"], legs)

        assert search(query("apt:A", "apt:B", dims=(100, 300, 200)), net).found
        too_large = search(query("apt:A", "apt:B", dims=(100, 310, 200)), net)
        too_heavy = search(query("apt:A", "apt:B", weight_g=2500), net)
        assert too_large.diagnostics.reasons == (Reason.TOO_LARGE,)
        assert too_heavy.diagnostics.reasons == (Reason.TOO_HEAVY,)

    def test_a_courier_too_weak_for_the_package_is_refused(self):
        segments = [courier("ab", "addr:a", "addr:b", 30, 100, max_weight_g=500)]
        result = search(query("addr:a", "addr:b"), network(["addr:a", "addr:b"], (), segments))

        assert result.diagnostics.reasons == (Reason.TOO_HEAVY,)

    def test_an_arrival_after_the_deadline_is_refused(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(10))]
        result = search(query("apt:A", "apt:B", deadline=at(9)), network(["apt:A", "apt:B"], legs))

        assert not result.found and result.diagnostics.reasons == (Reason.ARRIVAL_AFTER_DEADLINE,)

    def test_a_leg_priced_in_another_currency_needs_an_fx_table(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(2), per_kg=1500, currency="USD")]
        net = network(["apt:A", "apt:B"], legs)

        assert search(query("apt:A", "apt:B"), net).diagnostics.reasons == (Reason.CURRENCY_MISMATCH,)
        converted = search(query("apt:A", "apt:B", currency="JPY"), net,
                           fx=FxTable({("USD", "JPY"): Decimal("150")}))
        assert converted.itineraries[0].price_minor == 2250


class TestTimeZones:
    def test_a_flight_across_the_date_line_lands_before_it_left_in_local_time(self):
        places = [place("apt:AKL", "Pacific/Auckland"), place("apt:HNL", "Pacific/Honolulu"),
                  place("apt:LAX", "America/Los_Angeles")]
        legs = [flight("akl-hnl", "apt:AKL", "apt:HNL", at(9), at(17, ) + timedelta(minutes=40)),
                flight("hnl-lax", "apt:HNL", "apt:LAX", at(19), at(24.5))]
        result = search(query("apt:AKL", "apt:LAX"), network(places, legs))

        first, second = result.itineraries[0].legs
        assert first.departure_local == "2025-03-01T22:00:00+13:00[Pacific/Auckland]"
        assert first.arrival_local == "2025-03-01T07:40:00-10:00[Pacific/Honolulu]"
        assert first.arrival_utc > first.departure_utc
        assert second.departure_local == "2025-03-01T09:00:00-10:00[Pacific/Honolulu]"
        assert second.arrival_local == "2025-03-01T16:30:00-08:00[America/Los_Angeles]"


class TestLimitsAndDiagnostics:
    def three_leg_network(self):
        legs = [flight("ab", "apt:A", "apt:B", at(1), at(2)),
                flight("bc", "apt:B", "apt:C", at(4), at(5)),
                flight("cd", "apt:C", "apt:D", at(7), at(8))]
        return network(["apt:A", "apt:B", "apt:C", "apt:D"], legs)

    def test_max_legs_is_respected(self):
        net = self.three_leg_network()

        assert search(query("apt:A", "apt:D", max_legs=3), net).itineraries[0].legs_count == 3
        result = search(query("apt:A", "apt:D", max_legs=2), net)
        assert not result.found and result.diagnostics.reasons == (Reason.MAX_LEGS_EXCEEDED,)

    def test_an_origin_with_nothing_leaving_says_so(self):
        net = network(["apt:A", "apt:B", "apt:C"], [flight("bc", "apt:B", "apt:C", at(1), at(2))])

        assert search(query("apt:A", "apt:C"), net).diagnostics.reasons == (Reason.NO_CONNECTION_FROM_ORIGIN,)

    def test_a_destination_nothing_reaches_says_so(self):
        net = network(["apt:A", "apt:B", "apt:C"], [flight("ab", "apt:A", "apt:B", at(1), at(2))])

        assert search(query("apt:A", "apt:C"), net).diagnostics.reasons == (Reason.DESTINATION_UNREACHABLE,)

    def test_no_flight_on_the_date_says_so(self):
        net = network(["apt:A", "apt:B"], [flight("ab", "apt:A", "apt:B", at(1, day=5), at(2, day=5))])
        result = search(query("apt:A", "apt:B", deadline=at(0, day=2)), net)

        assert result.diagnostics.reasons == (Reason.NO_TRIP_ON_DATE,)

    def test_an_unknown_place_says_so(self):
        net = self.three_leg_network()

        assert search(query("apt:A", "apt:ZZZ"), net).diagnostics.reasons == (Reason.UNKNOWN_PLACE,)

    def test_several_reasons_are_reported_together(self):
        legs = [flight("full", "apt:A", "apt:B", at(1), at(2), weight_g=10),
                flight("late", "apt:A", "apt:B", at(1), at(30)),
                flight("docs", "apt:A", "apt:B", at(1), at(2), allowed={"document"})]
        result = search(query("apt:A", "apt:B", deadline=at(20)), network(["apt:A", "apt:B"], legs))

        assert set(result.diagnostics.reasons) == {Reason.CAPACITY_FULL, Reason.ARRIVAL_AFTER_DEADLINE,
                                                   Reason.CATEGORY_NOT_ALLOWED}

    def test_a_query_must_be_sane(self):
        with pytest.raises(ValueError):
            query("apt:A", "apt:B", max_legs=5)
        with pytest.raises(ValueError):
            ItineraryQuery("apt:A", "apt:B", T0, T0, 1, (1, 1, 1), "parcel", "EUR")
