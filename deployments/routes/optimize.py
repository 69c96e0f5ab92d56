"""A courier's day: its schemas, and the way between the wire and the vehicle-routing core
(ISO datetimes become seconds since the depot opens, the plan's seconds datetimes again)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from deployments.kit import Schema
from deployments.routes.errors import BadTimeWindow, DuplicateId, WindowOutsideDay
from routing import PortfolioResult, Request, Stop, UnservedReason, Vehicle, VrpProblem

Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
StopId = Annotated[str, Field(min_length=1, max_length=64)]


class DepotIn(Schema):
    id: StopId = "depot"
    lat: Lat
    lon: Lon
    opens_at: AwareDatetime = Field(description="Start of the courier's day; times are counted from here")
    closes_at: AwareDatetime = Field(description="Every vehicle is back by then (at most 24 h after opening)")


class StopIn(Schema):
    lat: Lat
    lon: Lon
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    service_min: float = Field(default=0, ge=0, le=240, description="Minutes spent at the stop")


class VehicleIn(Schema):
    id: StopId
    capacity: int = Field(ge=1, le=1_000_000, description="In the unit of the requests' demand")


class RequestIn(Schema):
    id: StopId
    pickup: StopIn | None = Field(default=None, description="None: loaded at the depot")
    delivery: StopIn
    demand: int = Field(ge=1, le=1_000_000)


class OptimizeIn(Schema):
    depot: DepotIn
    vehicles: list[VehicleIn] = Field(min_length=1, max_length=20)
    requests: list[RequestIn] = Field(min_length=1, max_length=200)
    time_limit_s: float = Field(default=2.0, ge=0.1, le=30, description="Wall-clock budget of the solver")
    speed_kmh: float = Field(default=25.0, gt=1, le=130)
    road_factor: float = Field(default=1.3, ge=1, le=3, description="Road distance over great-circle distance")


class PlannedStop(Schema):
    request_id: str | None
    kind: Literal["depot", "pickup", "delivery"]
    lat: float
    lon: float
    arrival_at: datetime
    start_at: datetime
    departure_at: datetime
    load_after: int


class VehiclePlan(Schema):
    vehicle_id: str
    stops: list[PlannedStop]
    distance_m: float
    duration_s: float
    max_load: int


class UnservedOut(Schema):
    request_id: str
    reason: str
    detail: str


class SolverOut(Schema):
    config: str
    status: str
    runs: int
    wall_s: float


class OptimizeOut(Schema):
    routes: list[VehiclePlan]
    unserved: list[UnservedOut]
    vehicles_used: int
    total_distance_m: float
    total_duration_s: float
    solver: SolverOut


MAX_DAY = timedelta(hours=24)
DETAIL = {
    UnservedReason.DEMAND_EXCEEDS_CAPACITY: "its demand exceeds the largest vehicle's capacity",
    UnservedReason.INVALID_TIME_WINDOW: "a time window ends before it starts",
    UnservedReason.TIME_WINDOW_UNREACHABLE: "no vehicle can reach its stops within their windows and be back "
                                            "before the depot closes",
    UnservedReason.DROPPED_BY_SOLVER: "no vehicle has room for it in its day alongside the other requests",
    UnservedReason.NO_SOLUTION: "the solver found no plan within the time limit",
}


def problem_of(body: OptimizeIn) -> VrpProblem:
    d = body.depot
    if d.closes_at <= d.opens_at or d.closes_at - d.opens_at > MAX_DAY:
        raise BadTimeWindow("The depot must close after it opens, within 24 hours.", opens_at=d.opens_at.isoformat(),
                            closes_at=d.closes_at.isoformat())
    for kind, ids in (("vehicle", [v.id for v in body.vehicles]), ("request", [r.id for r in body.requests])):
        if len(set(ids)) != len(ids):
            raise DuplicateId(f"Each {kind} needs its own id.", kind=kind)
    day = (d.closes_at - d.opens_at).total_seconds()

    def stop(place_id: str, s: StopIn) -> Stop:
        if (s.window_start is None) != (s.window_end is None):
            raise BadTimeWindow("Give both ends of a time window, or neither.", stop=place_id)
        window = None
        if s.window_start is not None:
            window = ((s.window_start - d.opens_at).total_seconds(), (s.window_end - d.opens_at).total_seconds())
            if window[1] < window[0]:
                raise BadTimeWindow("A time window ends before it starts.", stop=place_id)
            if window[0] < 0 or window[1] > day:
                raise WindowOutsideDay("A time window lies outside the depot's opening hours.", stop=place_id)
        return Stop(place_id, (s.lat, s.lon), window, s.service_min * 60)

    requests = tuple(Request(r.id, stop(f"{r.id}:delivery", r.delivery), r.demand,
                             stop(f"{r.id}:pickup", r.pickup) if r.pickup else None) for r in body.requests)
    return VrpProblem(depot=Stop(d.id, (d.lat, d.lon), (0.0, day)), vehicles=tuple(Vehicle(v.id, v.capacity)
                                                                                   for v in body.vehicles),
                      requests=requests, road_factor=body.road_factor, speed=body.speed_kmh / 3.6)


def plan_of(problem: VrpProblem, result: PortfolioResult, opens_at: datetime) -> OptimizeOut:
    coords = {problem.depot.place_id: problem.depot.coord}
    for r in problem.requests:
        coords[r.delivery.place_id] = r.delivery.coord
        if r.pickup:
            coords[r.pickup.place_id] = r.pickup.coord

    def at(seconds: float) -> datetime:
        return opens_at + timedelta(seconds=round(seconds, 3))

    best = result.best
    routes = [VehiclePlan(vehicle_id=r.vehicle_id, distance_m=round(r.distance, 1), duration_s=round(r.duration, 1),
                          max_load=max(s.load_after for s in r.stops),
                          stops=[PlannedStop(request_id=s.request_id, kind=s.kind, lat=coords[s.place_id][0],
                                             lon=coords[s.place_id][1], arrival_at=at(s.arrival), start_at=at(s.start),
                                             departure_at=at(s.departure), load_after=s.load_after)
                                 for s in r.stops])
              for r in best.routes]
    return OptimizeOut(routes=routes,
                       unserved=[UnservedOut(request_id=u.request_id, reason=str(u.reason), detail=DETAIL[u.reason])
                                 for u in best.unserved],
                       vehicles_used=best.vehicles_used, total_distance_m=round(best.distance, 1),
                       total_duration_s=round(sum(r.duration for r in best.routes), 1),
                       solver=SolverOut(config=best.config.label, status=best.status, runs=len(result.runs),
                                        wall_s=round(result.wall_s, 3)))
