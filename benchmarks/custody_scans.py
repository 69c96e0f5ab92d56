"""Scan throughput through the custody shards (Ray actors, group commit) against the plain
path a scan would take without them (one transaction per scan: lock the shipment's
custody row with `SELECT ... FOR UPDATE`, check the step, insert the scan, bump the row),
in the same run, on the same database.

Workload: SHIPMENTS open shipments; each scan is the receiver's handoff-code scan of step
0 of one of them, round-robin, `--inflight` at once; the first scan of each shipment is
accepted, the rest are replays (refused as replayed and recorded, which is a write too).
Printed per run: scans/s, p50 / p99 latency, accepted, refused, and the check that every
shipment has exactly one accepted scan.

    python3 benchmarks/custody_scans.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from sqlalchemy import func, select, update  # noqa: E402

from benchmarks.capacity_throughput import drop_database, fresh_database  # noqa: E402
from storage.db import Database, utcnow  # noqa: E402
from storage.models.handoffs import HandoffScan  # noqa: E402
from storage.models.tracking import CustodyState  # noqa: E402
from tests.factories.custody import Walk  # noqa: E402

SHIPMENTS, SCANS = 200, 2000


async def open_all(url: str, n: int) -> list[tuple[Walk, object]]:
    from actors.custody.shard import CustodyShard

    shard, out = CustodyShard(0, 1, url), []
    for _ in range(n):
        w = Walk()
        out.append((w, await shard.open(w.shipment, w.plan)))
    await shard.close()
    return out


async def run(label: str, scan, walks, inflight: int) -> dict:
    sem, lat, ok, refused = asyncio.Semaphore(inflight), [], 0, 0

    async def one(i: int) -> None:
        nonlocal ok, refused
        w, opened = walks[i % len(walks)]
        body = w.scan(opened.steps[0], "handoff", w.traveler)
        async with sem:
            t = time.perf_counter()
            try:
                await scan(w.shipment, body)
                ok += 1
            except Exception:
                refused += 1
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(SCANS)))
    took = time.perf_counter() - t0
    lat.sort()
    return {"path": label, "inflight": inflight, "scans_s": round(SCANS / took), "p50_ms": round(
        statistics.median(lat) * 1000, 1), "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1), "ok": ok,
        "refused": refused}


def locking_path(db: Database):
    """One transaction per scan, serialised on the custody row (the baseline)."""
    async def scan(shipment_id, body):
        async with db.writer() as s, s.begin():
            state = await s.scalar(select(CustodyState).where(CustodyState.shipment_id == shipment_id)
                                   .with_for_update())
            done = await s.scalar(select(func.count()).select_from(HandoffScan).where(
                HandoffScan.step_id == body.step_id, HandoffScan.kind == body.kind, HandoffScan.outcome == "ok"))
            s.add(HandoffScan(id=body.scan_id, step_id=body.step_id, shipment_id=shipment_id, kind=body.kind,
                              scanner_id=body.scanner_id, outcome="replayed" if done else "ok",
                              code="handoff.code_replayed" if done else "ok", qr_id=body.qr_id, lat=body.lat,
                              lon=body.lon, scanned_at=body.scanned_at, recorded_at=utcnow()))
            await s.execute(update(CustodyState).where(CustodyState.shipment_id == shipment_id)
                            .values(version=state.version + 1))
        if done:  # recorded and committed, then refused, as the shard does
            raise RuntimeError("replayed")
    return scan


async def check(url: str, walks) -> bool:
    """Every scanned step of this run (and only those) has exactly one accepted scan."""
    steps = {opened.steps[0].id for _, opened in walks}
    db = Database(url)
    async with db.reader() as s:
        rows = (await s.execute(select(HandoffScan.step_id, func.count()).where(
            HandoffScan.outcome == "ok", HandoffScan.step_id.in_(steps)).group_by(HandoffScan.step_id))).all()
    await db.dispose()
    return len(rows) == len(steps) and all(c == 1 for _, c in rows)


async def bench(url: str, inflight: int, shards: int) -> list[dict]:
    import ray

    from actors.client import RayShardClient
    from actors.registry import custody_shard

    prefix = f"bench-custody-{uuid.uuid4().hex[:6]}"
    client = RayShardClient(shards, lambda i: custody_shard(i, shards=shards, database_url=url, prefix=prefix))
    out = []
    walks = await open_all(url, SHIPMENTS)
    for w, _ in walks:  # start the actors and load the views: both paths are timed warm
        await client.call(w.shipment, "state")
    r = await run("custody shards", lambda sid, body: client.call(sid, "scan", body), walks, inflight)
    r["exactly_one_ok"] = await check(url, walks)
    out.append(r)
    walks = await open_all(url, SHIPMENTS)
    db = Database(url)
    await run("warm-up", locking_path(db), walks[:10], inflight)
    walks = await open_all(url, SHIPMENTS)
    r = await run("FOR UPDATE per scan", locking_path(db), walks, inflight)
    r["exactly_one_ok"] = None
    out.append(r)
    await db.dispose()
    for i in range(shards):
        ray.kill(ray.get_actor(f"{prefix}-{i}", namespace="p2p"))
    return out


def main() -> None:
    import ray

    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", required=True)
    ap.add_argument("--inflight", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--shards", type=int, default=2)
    args = ap.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    url, admin = fresh_database(args.postgres)
    try:
        for n in args.inflight:
            for row in asyncio.run(bench(url, n, args.shards)):
                print(row, flush=True)
    finally:
        drop_database(admin, url)
        ray.shutdown()


if __name__ == "__main__":
    main()
