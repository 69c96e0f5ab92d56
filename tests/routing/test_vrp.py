"""Vehicle routing: small pickup-and-delivery days against brute force, rejections with
reasons, and one Solomon instance. The checker here is independent of routing.vrp."""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from routing.solomon import read_bks, read_solomon, to_problem
from routing.vrp import (
    PORTFOLIO,
    Request,
    SolverConfig,
    Stop,
    UnservedReason,
    Vehicle,
    VrpProblem,
    portfolio_solve,
    solve,
    violations,
)
from tests.factories.routing import DEPOT, SPEED, H, random_day

SOLOMON = Path(__file__).resolve().parents[2] / "benchmarks/data/solomon"


def metres(a, b) -> float:
    (la1, lo1), (la2, lo2) = (tuple(map(math.radians, a)), tuple(map(math.radians, b)))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h)) * 1.3


def schedule(problem: VrpProblem, visits: list[tuple[str, str]], cap: int) -> float | None:
    """Distance of a route visiting (request, kind) in order, or None if infeasible."""
    req = {r.id: r for r in problem.requests}
    t, at, load, dist = DEPOT.window[0], DEPOT, 0, 0.0
    for rid, kind in visits:
        r = req[rid]
        stop = r.pickup if kind == "pickup" else r.delivery
        d = metres(at.coord, stop.coord)
        t = max(t + d / SPEED, stop.window[0])
        if t > stop.window[1] + 1e-6:
            return None
        load += r.demand if kind == "pickup" else -r.demand
        if load > cap:
            return None
        t, at, dist = t + stop.service, stop, dist + d
    d = metres(at.coord, DEPOT.coord)
    return None if t + d / SPEED > DEPOT.window[1] else dist + d


def best_single_route(problem: VrpProblem, rids: tuple[str, ...], cap: int) -> float | None:
    best = None
    nodes = [(rid, k) for rid in rids for k in ("pickup", "delivery")]
    for order in itertools.permutations(nodes):
        if all(order.index((rid, "pickup")) < order.index((rid, "delivery")) for rid in rids):
            d = schedule(problem, list(order), cap)
            if d is not None and (best is None or d < best):
                best = d
    return best


def brute_force(problem: VrpProblem) -> tuple[int, int, float]:
    """Best (unserved, vehicles, distance) over every assignment of requests to vehicles or none."""
    ids = [r.id for r in problem.requests]
    caps = [v.capacity for v in problem.vehicles]
    best = (len(ids), 0, 0.0)
    for assignment in itertools.product(range(len(caps) + 1), repeat=len(ids)):
        total, used, ok = 0.0, 0, True
        for v, cap in enumerate(caps):
            mine = tuple(rid for rid, a in zip(ids, assignment) if a == v + 1)
            if mine:
                d = best_single_route(problem, mine, cap)
                if d is None:
                    ok = False
                    break
                total, used = total + d, used + 1
        if ok:
            key = (sum(a == 0 for a in assignment), used, total)
            best = min(best, key)
    return best


def check(problem: VrpProblem, solution) -> None:
    caps = {v.id: v.capacity for v in problem.vehicles}
    served = []
    for route in solution.routes:
        visits = [(s.request_id, s.kind) for s in route.stops[1:-1]]
        assert route.stops[0].kind == route.stops[-1].kind == "depot"
        assert schedule(problem, visits, caps[route.vehicle_id]) == pytest.approx(route.distance)
        for rid in {rid for rid, _ in visits}:
            assert visits.index((rid, "pickup")) < visits.index((rid, "delivery")), "pickup first, same vehicle"
        served += [rid for rid, kind in visits if kind == "delivery"]
    assert sorted(served + [u.request_id for u in solution.unserved]) == sorted(r.id for r in problem.requests)


class TestPickupAndDelivery:
    @pytest.mark.parametrize("seed, n_requests, n_vehicles", [(1, 3, 2), (2, 3, 2), (3, 4, 1), (4, 4, 1)])
    def test_the_solver_finds_the_brute_force_optimum(self, seed, n_requests, n_vehicles):
        problem = random_day(seed, n_requests, n_vehicles)
        solution = solve(problem, time_limit_s=0.5)

        check(problem, solution)
        assert violations(problem, solution) == []
        unserved, vehicles, distance = brute_force(problem)
        assert (len(solution.unserved), solution.vehicles_used) == (unserved, vehicles)
        assert solution.distance == pytest.approx(distance, rel=1e-3, abs=5)

    def test_arrival_times_and_loads_are_reported_per_stop(self):
        problem = random_day(3, 4, 1, capacity=20)
        route = solve(problem, time_limit_s=0.3).routes[0]

        for stop in route.stops[1:-1]:
            assert stop.arrival <= stop.start <= stop.departure
        assert [s.load_after for s in route.stops][0] == 0 == route.stops[-1].load_after
        assert route.duration == pytest.approx(route.stops[-1].arrival - route.stops[0].departure)

    def test_requests_that_cannot_be_served_say_why(self):
        base = random_day(5, 2, 1, capacity=8)
        far = Stop("far", (52.52, 14.5), (8 * H, 8 * H + 600), 300)  # ~75 km away, closes 10 min after opening
        heavy = Request("heavy", base.requests[0].delivery, 50, base.requests[0].pickup)
        late = Request("late", far, 1, base.requests[1].pickup)
        backwards = Request("backwards", Stop("b", DEPOT.coord, (12 * H, 11 * H)), 1)
        problem = VrpProblem(DEPOT, base.vehicles, base.requests + (heavy, late, backwards), speed=SPEED)
        solution = solve(problem, time_limit_s=0.3)

        reasons = {u.request_id: u.reason for u in solution.unserved}
        assert reasons == {"heavy": UnservedReason.DEMAND_EXCEEDS_CAPACITY,
                           "late": UnservedReason.TIME_WINDOW_UNREACHABLE,
                           "backwards": UnservedReason.INVALID_TIME_WINDOW}
        check(problem, solution)

    def test_two_requests_that_exclude_each_other_drop_one_instead_of_failing(self):
        a, b = (Stop(n, (52.52 + dy, 13.405), (9 * H, 9 * H + 300), 1800) for n, dy in (("a", 0.01), ("b", -0.01)))
        requests = (Request("ra", a, 1), Request("rb", b, 1))
        problem = VrpProblem(DEPOT, (Vehicle("v0", 5),), requests, speed=SPEED)
        solution = solve(problem, time_limit_s=0.3)

        assert solution.vehicles_used == 1
        assert [u.reason for u in solution.unserved] == [UnservedReason.DROPPED_BY_SOLVER]

    def test_delivery_only_requests_in_a_mixed_day_load_at_the_depot(self):
        base = random_day(6, 2, 1, capacity=20)
        parcel = Request("from-depot", Stop("x", (52.53, 13.40), (9 * H, 19 * H), 120), 3)
        problem = VrpProblem(DEPOT, base.vehicles, base.requests + (parcel,), speed=SPEED)
        solution = solve(problem, time_limit_s=0.3)

        assert violations(problem, solution) == [] and not solution.unserved
        kinds = [(s.kind, s.place_id) for s in solution.routes[0].stops if s.request_id == "from-depot"]
        assert kinds == [("pickup", "depot"), ("delivery", "x")]

    def test_every_portfolio_configuration_solves_locally(self):
        problem = random_day(7, 3, 2)
        result = portfolio_solve(problem, 0.2, PORTFOLIO, use_ray=False)

        assert len(result.runs) == len(PORTFOLIO)
        assert result.best.key == min(run.key for run in result.runs)
        for run in result.runs:
            check(problem, run)


class TestSolomon:
    def test_the_parser_reads_the_fleet_and_every_customer(self):
        instance = read_solomon(SOLOMON / "C101.txt")

        assert (instance.name, instance.vehicles, instance.capacity, len(instance.rows)) == ("C101", 25, 200, 101)
        assert instance.rows[1] == (1, 45.0, 68.0, 10, 912.0, 967.0, 90.0)
        assert read_bks(SOLOMON / "bks.tsv")["R101"] == (19, 1650.80)

    def test_a_short_solve_of_r101_is_feasible(self):
        problem = to_problem(read_solomon(SOLOMON / "R101.txt"))
        solution = solve(problem, 2.0, SolverConfig("PATH_CHEAPEST_ARC", "GUIDED_LOCAL_SEARCH"))

        assert not solution.unserved and violations(problem, solution) == []
        demand = {r.id: r.demand for r in problem.requests}
        for route in solution.routes:
            ids = [s.request_id for s in route.stops[1:-1]]
            assert sum(demand[i] for i in ids) <= 200
            t, at = 0.0, problem.depot
            for i in ids:  # Euclidean, unrounded: arrive, wait for the window, serve
                stop = next(r.delivery for r in problem.requests if r.id == i)
                t = max(t + math.dist(at.coord, stop.coord), stop.window[0])
                assert t <= stop.window[1] + 1e-6
                t, at = t + stop.service, stop
        assert 19 <= solution.vehicles_used <= 22
