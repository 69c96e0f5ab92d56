"""Solomon VRPTW instances (text layout) as `VrpProblem`s, and the best-known table.

Distance and travel time are the unrounded Euclidean distance; the objective is vehicles
first, then distance (the solver's automatic fixed cost per vehicle does that).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from routing.vrp import Request, Stop, Vehicle, VrpProblem


@dataclass(frozen=True)
class SolomonInstance:
    name: str
    vehicles: int
    capacity: int
    rows: tuple[tuple[int, float, float, int, float, float, float], ...]  # no, x, y, demand, ready, due, service


def read_solomon(path: str | Path) -> SolomonInstance:
    lines = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    name = lines[0][0]
    at = next(i for i, parts in enumerate(lines) if parts[0].upper() == "NUMBER")
    vehicles, capacity = int(lines[at + 1][0]), int(lines[at + 1][1])
    rows = []
    for parts in lines[at + 2:]:
        if len(parts) == 7 and parts[0].isdigit():
            no, x, y, demand, ready, due, service = parts
            rows.append((int(no), float(x), float(y), int(float(demand)), float(ready), float(due), float(service)))
    return SolomonInstance(name, vehicles, capacity, tuple(rows))


def to_problem(instance: SolomonInstance, *, vehicles: int | None = None, scale: int = 1000) -> VrpProblem:
    (_, x0, y0, _, ready0, due0, _), *customers = instance.rows
    depot = Stop("0", (x0, y0), (ready0, due0))
    requests = tuple(Request(str(no), Stop(str(no), (x, y), (ready, due), service), demand)
                     for no, x, y, demand, ready, due, service in customers)
    fleet = tuple(Vehicle(f"v{i}", instance.capacity) for i in range(vehicles or instance.vehicles))
    return VrpProblem(depot, fleet, requests, metric="euclidean", speed=1.0, scale=scale, name=instance.name)


def read_bks(path: str | Path) -> dict[str, tuple[int, float]]:
    """`instance -> (vehicles, distance)` from a tab-separated best-known-solutions file."""
    with open(path, newline="") as f:
        return {row["instance"]: (int(row["vehicles"]), float(row["distance"]))
                for row in csv.DictReader(f, delimiter="\t")}
