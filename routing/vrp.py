"""Vehicle routing for a courier's day: pickups and deliveries with time windows, vehicle
capacities and service times, solved by OR-Tools; a portfolio of configurations runs as Ray
tasks and the best answer is kept.

Units: with `metric="haversine"` coordinates are (lat, lon), distances metres (great-circle
times `road_factor`), times seconds since the start of the day, `speed` metres per second.
With `metric="euclidean"` (Solomon) everything is in the instance's own units. OR-Tools
works on integers, so distances are scaled by `scale` and rounded, times scaled and rounded
up (never optimistic); reported figures are recomputed in floats along the routes.

The objective is hierarchical: a dropped request costs more than any fleet, a vehicle more
than any distance it could save (unless `vehicle_fixed_cost` is given), then distance.
Requests that cannot be served at all are rejected before solving with a reason; the rest
sit in disjunctions so an infeasible one is dropped instead of failing the whole solve.
"""
from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Sequence

Coord = tuple[float, float]
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Stop:
    place_id: str
    coord: Coord
    window: tuple[float, float] | None = None
    service: float = 0.0


@dataclass(frozen=True, slots=True)
class Request:
    """Carry `demand` units from `pickup` to `delivery`; no pickup means loaded at the depot."""

    id: str
    delivery: Stop
    demand: int
    pickup: Stop | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    capacity: int


@dataclass(frozen=True)
class TravelMatrix:
    """Distances and durations between places, when known better than from coordinates."""

    place_ids: tuple[str, ...]
    distance: tuple[tuple[float, ...], ...]
    duration: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class VrpProblem:
    depot: Stop
    vehicles: tuple[Vehicle, ...]
    requests: tuple[Request, ...]
    metric: Literal["haversine", "euclidean"] = "haversine"
    road_factor: float = 1.3
    speed: float = 25 / 3.6
    matrix: TravelMatrix | None = None
    vehicle_fixed_cost: float | None = None
    scale: int = 1
    name: str = ""


@dataclass(frozen=True, slots=True)
class SolverConfig:
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"

    @property
    def label(self) -> str:
        return f"{self.first_solution}+{self.metaheuristic}"


DEFAULT_CONFIG = SolverConfig()
PORTFOLIO = (
    SolverConfig("PATH_CHEAPEST_ARC", "GUIDED_LOCAL_SEARCH"),
    SolverConfig("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH"),
    SolverConfig("SAVINGS", "SIMULATED_ANNEALING"),
    SolverConfig("LOCAL_CHEAPEST_INSERTION", "TABU_SEARCH"),
)


class UnservedReason(StrEnum):
    DEMAND_EXCEEDS_CAPACITY = "demand_exceeds_capacity"
    INVALID_TIME_WINDOW = "invalid_time_window"
    TIME_WINDOW_UNREACHABLE = "time_window_unreachable"
    DROPPED_BY_SOLVER = "dropped_by_solver"
    NO_SOLUTION = "no_solution"


@dataclass(frozen=True, slots=True)
class RouteStop:
    request_id: str | None
    kind: Literal["depot", "pickup", "delivery"]
    place_id: str
    arrival: float
    start: float
    departure: float
    load_after: int


@dataclass(frozen=True, slots=True)
class VehicleRoute:
    vehicle_id: str
    stops: tuple[RouteStop, ...]  # first and last are the depot
    distance: float
    duration: float


@dataclass(frozen=True, slots=True)
class Unserved:
    request_id: str
    reason: UnservedReason


@dataclass(frozen=True)
class VrpSolution:
    routes: tuple[VehicleRoute, ...]
    unserved: tuple[Unserved, ...]
    config: SolverConfig
    status: str
    wall_s: float
    objective: int | None = None

    @property
    def distance(self) -> float:
        return sum(r.distance for r in self.routes)

    @property
    def vehicles_used(self) -> int:
        return len(self.routes)

    @property
    def key(self) -> tuple[int, int, float]:
        """Fewest unserved, then fewest vehicles, then least distance."""
        return len(self.unserved), self.vehicles_used, self.distance


@dataclass(frozen=True)
class PortfolioResult:
    best: VrpSolution
    runs: tuple[VrpSolution, ...]
    wall_s: float


# ---- geometry -------------------------------------------------------------------------

def haversine_m(a: Coord, b: Coord) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class _Nodes:
    """The flat node list the solver sees: 0 is the depot, then pickup/delivery nodes."""

    stops: list[Stop] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    requests: list[str | None] = field(default_factory=list)
    demands: list[int] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)

    def add(self, stop: Stop, kind: str, request_id: str | None, demand: int) -> int:
        self.stops.append(stop), self.kinds.append(kind)
        self.requests.append(request_id), self.demands.append(demand)
        return len(self.stops) - 1


class Travel:
    """Distance and duration between stops, from the matrix or from coordinates."""

    def __init__(self, problem: VrpProblem):
        self.p = problem
        m = problem.matrix
        self.index = {pid: i for i, pid in enumerate(m.place_ids)} if m else None

    def distance(self, a: Stop, b: Stop) -> float:
        if self.index is not None:
            return self.p.matrix.distance[self.index[a.place_id]][self.index[b.place_id]]
        if self.p.metric == "euclidean":
            return math.dist(a.coord, b.coord)
        return haversine_m(a.coord, b.coord) * self.p.road_factor

    def duration(self, a: Stop, b: Stop) -> float:
        if self.index is not None:
            return self.p.matrix.duration[self.index[a.place_id]][self.index[b.place_id]]
        return self.distance(a, b) / self.p.speed


def _window(stop: Stop, depot: Stop) -> tuple[float, float]:
    return stop.window or depot.window or (0.0, math.inf)


def precheck(problem: VrpProblem, travel: Travel | None = None) -> dict[str, UnservedReason]:
    """Requests no vehicle can serve whatever the others do, with the reason."""
    travel = travel or Travel(problem)
    depot = problem.depot
    d_open, d_close = _window(depot, depot)
    max_cap = max((v.capacity for v in problem.vehicles), default=0)
    rejected = {}
    for r in problem.requests:
        pickup = r.pickup or depot
        pw, dw = _window(pickup, depot), _window(r.delivery, depot)
        if r.demand > max_cap:
            rejected[r.id] = UnservedReason.DEMAND_EXCEEDS_CAPACITY
        elif pw[0] > pw[1] or dw[0] > dw[1]:
            rejected[r.id] = UnservedReason.INVALID_TIME_WINDOW
        else:
            p_start = max(d_open + travel.duration(depot, pickup), pw[0])
            d_start = max(p_start + pickup.service + travel.duration(pickup, r.delivery), dw[0])
            back = d_start + r.delivery.service + travel.duration(r.delivery, depot)
            if p_start > pw[1] + 1e-9 or d_start > dw[1] + 1e-9 or back > d_close + 1e-9:
                rejected[r.id] = UnservedReason.TIME_WINDOW_UNREACHABLE
    return rejected


def _nodes(problem: VrpProblem, rejected: dict) -> _Nodes:
    nodes = _Nodes()
    nodes.add(problem.depot, "depot", None, 0)
    paired = any(r.pickup is not None for r in problem.requests)
    for r in problem.requests:
        if r.id in rejected:
            continue
        if paired:
            # a delivery-only request in a mixed day is picked up at the depot (a reload)
            p = nodes.add(r.pickup or problem.depot, "pickup", r.id, r.demand)
            d = nodes.add(r.delivery, "delivery", r.id, -r.demand)
            nodes.pairs.append((p, d))
        else:
            nodes.add(r.delivery, "delivery", r.id, r.demand)
    return nodes


def solve(problem: VrpProblem, time_limit_s: float = 5.0, config: SolverConfig = DEFAULT_CONFIG) -> VrpSolution:
    """One OR-Tools run with one configuration, in this process."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # heavy: loaded by the solver only

    started = _time.perf_counter()
    travel = Travel(problem)
    rejected = precheck(problem, travel)
    nodes = _nodes(problem, rejected)
    unserved = [Unserved(rid, reason) for rid, reason in rejected.items()]
    if len(nodes.stops) == 1 or not problem.vehicles:
        unserved += [Unserved(rid, UnservedReason.NO_SOLUTION) for rid in dict.fromkeys(nodes.requests[1:])]
        return VrpSolution((), tuple(unserved), config, "empty", _time.perf_counter() - started, 0)

    s, n, depot = problem.scale, len(nodes.stops), problem.depot
    dist = [[round(travel.distance(a, b) * s) for b in nodes.stops] for a in nodes.stops]
    ttime = [[math.ceil((a.service + travel.duration(a, b)) * s - 1e-9) for b in nodes.stops] for a in nodes.stops]
    d_open, d_close = _window(depot, depot)
    horizon = int(math.ceil(d_close * s)) if math.isfinite(d_close) else sum(max(row) for row in ttime) + 1
    fixed = (sum(max(row) for row in dist) + 1 if problem.vehicle_fixed_cost is None
             else round(problem.vehicle_fixed_cost * s))
    penalty = 10 * (fixed * len(problem.vehicles) + sum(max(row) for row in dist)) + 1

    manager = pywrapcp.RoutingIndexManager(n, len(problem.vehicles), 0)
    model = pywrapcp.RoutingModel(manager)
    cost = model.RegisterTransitMatrix(dist)
    model.SetArcCostEvaluatorOfAllVehicles(cost)
    model.SetFixedCostOfAllVehicles(fixed)
    load = model.RegisterUnaryTransitVector(nodes.demands)
    model.AddDimensionWithVehicleCapacity(load, 0, [v.capacity for v in problem.vehicles], True, "load")
    model.AddDimension(model.RegisterTransitMatrix(ttime), horizon, horizon, False, "time")
    time_dim = model.GetDimensionOrDie("time")
    for node in range(1, n):
        lo, hi = _window(nodes.stops[node], depot)
        index = manager.NodeToIndex(node)
        time_dim.CumulVar(index).SetRange(int(math.ceil(lo * s)), min(horizon, int(math.floor(hi * s))))
        model.AddDisjunction([index], penalty)
    for v in range(len(problem.vehicles)):
        for index in (model.Start(v), model.End(v)):
            time_dim.CumulVar(index).SetRange(int(math.ceil(d_open * s)), horizon)
    solver = model.solver()
    for p, d in nodes.pairs:
        pi, di = manager.NodeToIndex(p), manager.NodeToIndex(d)
        model.AddPickupAndDelivery(pi, di)
        solver.Add(model.ActiveVar(pi) == model.ActiveVar(di))
        solver.Add(model.VehicleVar(pi) == model.VehicleVar(di))
        solver.Add(time_dim.CumulVar(pi) <= time_dim.CumulVar(di))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, config.first_solution)
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, config.metaheuristic)
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    assignment = model.SolveWithParameters(params)
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(model.status())
    if assignment is None:
        unserved += [Unserved(rid, UnservedReason.NO_SOLUTION) for rid in dict.fromkeys(nodes.requests[1:])]
        return VrpSolution((), tuple(unserved), config, status, _time.perf_counter() - started)

    routes, served = [], set()
    for v, vehicle in enumerate(problem.vehicles):
        order, index = [], assignment.Value(model.NextVar(model.Start(v)))
        while not model.IsEnd(index):
            order.append(manager.IndexToNode(index))
            index = assignment.Value(model.NextVar(index))
        if order:
            routes.append(_route(vehicle, order, nodes, travel, depot))
            served.update(nodes.requests[i] for i in order)
    unserved += [Unserved(rid, UnservedReason.DROPPED_BY_SOLVER)
                 for rid in dict.fromkeys(nodes.requests[1:]) if rid not in served]
    return VrpSolution(tuple(routes), tuple(unserved), config, status, _time.perf_counter() - started,
                       assignment.ObjectiveValue())


def _route(vehicle: Vehicle, order: list[int], nodes: _Nodes, travel: Travel, depot: Stop) -> VehicleRoute:
    """Earliest-start schedule along the order, leaving the depot just in time."""
    d_open, _ = _window(depot, depot)
    first = nodes.stops[order[0]]
    start_first = max(d_open + travel.duration(depot, first), _window(first, depot)[0])
    leave = start_first - travel.duration(depot, first)
    # deliveries loaded at the depot (no pickup node) are on board from the start
    load = sum(nodes.demands[i] for i in order if nodes.kinds[i] == "delivery" and not nodes.pairs)
    stops = [RouteStop(None, "depot", depot.place_id, leave, leave, leave, load)]
    at, t, distance = depot, leave, 0.0
    for node in order:
        stop = nodes.stops[node]
        arrival = t + travel.duration(at, stop)
        begin = max(arrival, _window(stop, depot)[0])
        load += nodes.demands[node] if nodes.pairs else -nodes.demands[node]
        distance += travel.distance(at, stop)
        stops.append(RouteStop(nodes.requests[node], nodes.kinds[node], stop.place_id, arrival, begin,
                               begin + stop.service, load))
        at, t = stop, begin + stop.service
    back = t + travel.duration(at, depot)
    distance += travel.distance(at, depot)
    stops.append(RouteStop(None, "depot", depot.place_id, back, back, back, load))
    return VehicleRoute(vehicle.id, tuple(stops), distance, back - leave)


# ---- portfolio ------------------------------------------------------------------------

_REMOTE = None


def _remote_solve():
    global _REMOTE
    if _REMOTE is None:
        import ray  # heavy: routing/ stays pure and importable without Ray

        _REMOTE = ray.remote(num_cpus=1)(solve)
    return _REMOTE


def portfolio_solve(problem: VrpProblem, time_limit_s: float, configs: Sequence[SolverConfig] = PORTFOLIO,
                    use_ray: bool = True) -> PortfolioResult:
    """Run every configuration for `time_limit_s` each and keep the best (see
    `VrpSolution.key`). With Ray (already initialised by the caller) the runs are parallel
    tasks sharing one copy of the problem in the object store; without, they run in turn."""
    started = _time.perf_counter()
    if use_ray:
        import ray  # heavy: routing/ stays pure and importable without Ray

        ref, task = ray.put(problem), _remote_solve()
        runs = ray.get([task.remote(ref, time_limit_s, c) for c in configs])
    else:
        runs = [solve(problem, time_limit_s, c) for c in configs]
    best = min(runs, key=lambda r: r.key)
    return PortfolioResult(best, tuple(runs), _time.perf_counter() - started)


def violations(problem: VrpProblem, solution: VrpSolution, tol: float = 1e-6) -> list[str]:
    """Every broken rule in a solution: windows, capacity, pairing, coverage. Empty if none."""
    travel, depot = Travel(problem), problem.depot
    caps = {v.id: v.capacity for v in problem.vehicles}
    requests = {r.id: r for r in problem.requests}
    found, seen = [], {}
    for route in solution.routes:
        visits = route.stops[1:-1]
        picked = {st.request_id for st in visits if st.kind == "pickup"}
        load = sum(requests[st.request_id].demand for st in visits
                   if st.kind == "delivery" and st.request_id not in picked)
        t, at = route.stops[0].departure, depot
        for st in visits:
            r = requests[st.request_id]
            stop = r.delivery if st.kind == "delivery" else (r.pickup or depot)
            t = max(t + travel.duration(at, stop), _window(stop, depot)[0])
            if t > _window(stop, depot)[1] + tol:
                found.append(f"{route.vehicle_id}: {st.kind} of {r.id} at {t:.3f} after its window")
            load += r.demand if st.kind == "pickup" else -r.demand
            if not 0 <= load <= caps[route.vehicle_id]:
                found.append(f"{route.vehicle_id}: load {load} outside 0..{caps[route.vehicle_id]}")
            seen.setdefault(r.id, []).append((route.vehicle_id, st.kind))
            t, at = t + stop.service, stop
        if t + travel.duration(at, depot) > _window(depot, depot)[1] + tol:
            found.append(f"{route.vehicle_id}: back at the depot after it closes")
    unserved = {u.request_id for u in solution.unserved}
    for rid in requests:
        visits = seen.get(rid, [])
        if rid in unserved:
            if visits:
                found.append(f"{rid}: both served and unserved")
            continue
        if [k for _, k in visits] not in (["delivery"], ["pickup", "delivery"]):
            found.append(f"{rid}: visited as {visits}")
        elif len({v for v, _ in visits}) != 1:
            found.append(f"{rid}: pickup and delivery on different vehicles")
    return found
