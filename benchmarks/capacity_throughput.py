"""Booking-hold throughput: the trip-capacity shard actors (Ray, group commit) against a
plain `SELECT ... FOR UPDATE` implementation of the same operation, in the same run, on
the same freshly seeded trips, on PostgreSQL and on SQLite.

Two workloads: **spread** (HOLDS holds of 1 kg round-robin over 40 trips whose capacity
covers half of them) and **hot** (one trip with 2,000 free units, 4,000 holds of 1: the
case where `FOR UPDATE` serialises on one row lock). Each at 16 / 64 / 256 holds in
flight. Printed per run: holds/s (acknowledged + refused), p50 / p99 hold latency,
acknowledged, refused, and the oversell count (acknowledged holds beyond a trip's capacity
plus legs whose counters exceed it; must be 0).

    python3 benchmarks/capacity_throughput.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from storage.db import Database, sync_url  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models.trips import CapacityHold, LegCapacity, Trip, TripLeg  # noqa: E402

KG = 1000


def fresh_database(server_url: str) -> tuple[str, str]:
    import psycopg  # only for the PostgreSQL runs
    from sqlalchemy.engine import make_url

    name = f"p2p_bench_{uuid.uuid4().hex[:8]}"
    u = make_url(server_url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = u.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url, admin


def drop_database(admin: str, url: str) -> None:
    import psycopg  # only for the PostgreSQL runs
    from sqlalchemy.engine import make_url

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def seed(url: str, n: int, capacity_kg: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    engine = create_engine(sync_url(url))
    out = []
    start = datetime.now(timezone.utc) + timedelta(days=5)
    with Session(engine) as s, s.begin():
        for _ in range(n):
            trip_id, leg_id = uuid.uuid4(), uuid.uuid4()
            s.add(Trip(id=trip_id, traveler_id=uuid.uuid4(), status="published", capacity_g=capacity_kg * KG,
                       capacity_cm3=10**7, capacity_items=10**5, price_per_kg_minor=1000, currency="GBP"))
            s.flush()
            s.add(TripLeg(id=leg_id, trip_id=trip_id, seq=0, origin_iata="LHR", destination_iata="JFK",
                          origin_location="apt:LHR", destination_location="apt:JFK", origin_tz="Europe/London",
                          destination_tz="America/New_York", departs_at=start, arrives_at=start + timedelta(hours=8),
                          carrier="BA", flight_number="117"))
            s.flush()
            s.add(LegCapacity(trip_id=trip_id, leg_id=leg_id, capacity_g=capacity_kg * KG, capacity_cm3=10**7,
                              capacity_items=10**5))
            out.append((trip_id, leg_id))
    engine.dispose()
    return out


def oversell(url: str, trips, acked: Counter, capacity_kg: int) -> int:
    engine = create_engine(sync_url(url))
    ids = [t for t, _ in trips]
    with Session(engine) as s:
        bad_rows = s.scalar(select(text("count(*)")).select_from(LegCapacity).where(
            LegCapacity.trip_id.in_(ids), LegCapacity.held_g + LegCapacity.booked_g > LegCapacity.capacity_g))
    engine.dispose()
    return int(bad_rows) + sum(max(0, acked[t] - capacity_kg) for t in ids)


async def drive(trips, holds: int, concurrency: int, one) -> tuple[float, Counter, int, list[float]]:
    acked: Counter = Counter()
    refused = 0
    latencies: list[float] = []
    queue = [trips[i % len(trips)] for i in range(holds)]
    sem = asyncio.Semaphore(concurrency)

    async def run(trip):
        nonlocal refused
        async with sem:
            t = time.perf_counter()
            ok = await one(trip)
            latencies.append(time.perf_counter() - t)
            if ok:
                acked[trip[0]] += 1
            else:
                refused += 1

    t0 = time.perf_counter()
    await asyncio.gather(*[run(t) for t in queue])
    return time.perf_counter() - t0, acked, refused, latencies


async def ray_path(url, trips, holds, concurrency, shards):
    from actors.capacity import TripFull
    from deployments.trips.shards import RayShards

    client = RayShards(shards, url, prefix=f"bench-capacity-{uuid.uuid4().hex[:6]}")
    for i in range(shards):  # start the actors before the clock starts
        await client.handle(i).ping.remote()

    async def one(trip):
        try:
            await client.call(trip[0], "hold", [trip[1]], uuid.uuid4(), KG, 100, 1, 600)
            return True
        except TripFull:
            return False

    try:
        return await drive(trips, holds, concurrency, one)
    finally:
        import ray  # started once by main()

        for i in range(shards):
            ray.kill(client.handle(i), no_restart=True)


async def for_update_path(url, trips, holds, concurrency):
    """The baseline: one transaction per hold, the leg row locked with SELECT ... FOR UPDATE."""
    db = Database(url)

    async def one(trip):
        trip_id, leg_id = trip
        async with db.writer() as s, s.begin():
            row = await s.scalar(select(LegCapacity).where(LegCapacity.trip_id == trip_id,
                                                           LegCapacity.leg_id == leg_id).with_for_update())
            if row is None or row.held_g + row.booked_g + KG > row.capacity_g:
                return False
            row.held_g += KG
            row.held_cm3 += 100
            row.held_items += 1
            s.add(CapacityHold(booking_id=uuid.uuid4(), trip_id=trip_id, leg_ids=[str(leg_id)], weight_g=KG,
                               volume_cm3=100, items=1, status="held",
                               expires_at=datetime.now(timezone.utc) + timedelta(minutes=10)))
            return True

    try:
        return await drive(trips, holds, concurrency, one)
    finally:
        await db.dispose()


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


WORKLOADS = {  # name -> (trips, holds, capacity in kg per trip)
    "spread": (40, 4000, 50),
    "hot": (1, 4000, 2000),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", default=os.environ.get("P2P_TEST_POSTGRES_URL",
                                                         "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--backends", default="postgres,sqlite")
    ap.add_argument("--workloads", default="spread,hot")
    ap.add_argument("--concurrency", default="16,64,256")
    ap.add_argument("--shards", type=int, default=2, help="shard actors (default: 2, one per core here)")
    a = ap.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, namespace="p2p", log_to_driver=False, configure_logging=False)
    print(f"shards={a.shards} cpus={os.cpu_count()}")
    print("| backend | workload | in flight | path | holds/s | p50 ms | p99 ms | acknowledged | refused | oversell |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    bad_total, ratios = 0, []
    tmp = tempfile.TemporaryDirectory()
    try:
        for backend in a.backends.split(","):
            if backend == "postgres":
                url, admin = fresh_database(a.postgres)
            else:
                url, admin = f"sqlite:///{tmp.name}/bench.db", ""
                upgrade(url)
            try:
                for workload in a.workloads.split(","):
                    n_trips, holds, capacity_kg = WORKLOADS[workload]
                    for conc in (int(c) for c in a.concurrency.split(",")):
                        rate = {}
                        for name, path, extra in [("FOR UPDATE", for_update_path, ()),
                                                  ("shards", ray_path, (a.shards,))]:
                            trips = seed(url, n_trips, capacity_kg)
                            secs, acked, refused, lat = asyncio.run(path(url, trips, holds, conc, *extra))
                            bad = oversell(url, trips, acked, capacity_kg)
                            bad_total += bad
                            rate[name] = holds / secs
                            print(f"| {backend} | {workload} | {conc} | {name} | {holds / secs:,.0f} | "
                                  f"{pct(lat, 50) * 1e3:.1f} | {pct(lat, 99) * 1e3:.1f} | {sum(acked.values()):,} | "
                                  f"{refused:,} | {bad} |", flush=True)
                        ratios.append((backend, workload, conc, rate["shards"] / rate["FOR UPDATE"]))
            finally:
                if backend == "postgres":
                    drop_database(admin, url)
    finally:
        ray.shutdown()
        tmp.cleanup()
    print()
    for backend, workload, conc, r in ratios:
        print(f"{backend:8s} {workload:6s} {conc:4d} in flight: shards / FOR UPDATE = {r:.2f}x")
    return 0 if bad_total == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
