"""POST /bookings per second through the full topology over HTTP: 2-leg bookings, each leg a
flight on a different published trip (LHR->JFK, then JFK->LAX two hours after landing).

The script starts the platform as `p2p up` does (every service its own Serve application)
on a fresh PostgreSQL database, registers a traveler and a sender, grants the traveler role,
publishes pairs of trips (50 items of capacity each; `--per-pair` bookings per pair), and
creates one itinerary per booking. None of that is timed. Then it sends `--warmup` untimed
bookings and `--bookings` timed ones, `--concurrency` in flight, each with its own
Idempotency-Key. Printed: bookings/s, p50 / p99 latency, 201s and the other answers by
status and problem code, the held weight on every trip leg against the 201s, and, as a
ceiling in the same run at the same concurrency, `GET /healthz` on the edge and
`GET /bookings/healthz` on the Booking Service's own application. Exits 1 if any timed
booking was not a 201.

    python3 benchmarks/bookings_http.py [--bookings 400] [--concurrency 16] [--warmup 16]
        [--baseline-requests 400] [--per-pair 40] [--postgres postgresql://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/0]
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["RAY_AUTH_MODE"] = "disabled"

import httpx  # noqa: E402
from capacity_throughput import drop_database, fresh_database  # noqa: E402

PASSWORD = "benchmark password 1"
WEIGHT_G, VOLUME_CM3, ITEMS = 500, 1000, 1           # one booking's package
TRIP_CAPACITY = {"weight_g": 50_000, "volume_cm3": 300_000, "items": 50}  # the per-trip ceilings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(r: httpx.Response, status: int) -> dict:
    if r.status_code != status:
        raise SystemExit(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
    return r.json()


def signed_up(c: httpx.Client, who: str) -> tuple[str, str]:
    """Register a user and log in: (user id, email)."""
    email = f"bench-{who}-{uuid.uuid4().hex[:8]}@example.com"
    user = check(c.post("/users", json={"email": email, "password": PASSWORD, "display_name": who}), 201)
    return user["id"], email


def login(c: httpx.Client, email: str) -> dict:
    token = check(c.post("/auth/login", json={"email": email, "password": PASSWORD}), 200)["access_token"]
    return {"Authorization": f"Bearer {token}"}


def grant(user_id: str, *roles: str) -> None:
    """What the e2e tests do: the Authorization Service's `assign`, called as the system."""
    from ray import serve

    from deployments.authz import RolesAssign
    from deployments.kit import Ctx

    status, _ = serve.get_app_handle("authz").call.remote(
        "authz", "assign", (Ctx.system(), uuid.UUID(user_id), RolesAssign(roles=["member", *roles])), {}
    ).result(timeout_s=30)
    assert status == "ok", status


def trip_body(origin: str, destination: str, departs: datetime, hours: int = 8) -> dict:
    return {"legs": [{"origin": origin, "destination": destination, "departs_at": departs.isoformat(),
                      "arrives_at": (departs + timedelta(hours=hours)).isoformat(), "carrier": "BA",
                      "flight_number": "117"}],
            "capacity": TRIP_CAPACITY,
            "price": {"per_kg_minor": 1500, "min_price_minor": 500, "currency": "GBP"}}


def publish(c: httpx.Client, headers: dict, body: dict) -> dict:
    trip = check(c.post("/trips", json=body, headers=headers), 201)
    return check(c.post(f"/trips/{trip['id']}/publish", headers=headers), 200)


def publish_pairs(c: httpx.Client, headers: dict, pairs: int) -> list[tuple[dict, dict]]:
    """`pairs` (LHR->JFK, JFK->LAX) trip pairs, the second leaving 2 h after the first lands
    (the minimum connection is P2P_MIN_CONNECTION_MIN, 60 by default)."""
    day = datetime.now(timezone.utc).date() + timedelta(days=5)
    out = []
    for i in range(pairs):
        a_departs = datetime.combine(day, dtime(0), timezone.utc) + timedelta(hours=9, minutes=i)
        a = publish(c, headers, trip_body("LHR", "JFK", a_departs, hours=8))
        b = publish(c, headers, trip_body("JFK", "LAX", a_departs + timedelta(hours=10), hours=6))
        out.append((a, b))
    return out


def wait_for_role(c: httpx.Client, headers: dict, timeout: float = 30) -> None:
    """Until the Trip Service's replicas forget the traveler's cached permissions
    (P2P_PERMISSION_CACHE_S): a draft trip is accepted. The draft is left unpublished."""
    deadline = time.monotonic() + timeout
    body = trip_body("LHR", "JFK", datetime.now(timezone.utc) + timedelta(days=5))
    while True:
        r = c.post("/trips", json=body, headers=headers)
        if r.status_code == 201:
            return
        if r.status_code != 403 or time.monotonic() > deadline:
            raise SystemExit(f"POST /trips as the traveler: {r.status_code} {r.text}")
        time.sleep(0.5)


async def drive(client: httpx.AsyncClient, jobs: list, concurrency: int, send) -> tuple[float, list[tuple]]:
    """Run `send(client, job)` for every job, `concurrency` in flight: (seconds, [(latency s, response)])."""
    queue = iter(jobs)
    results: list[tuple] = []

    async def worker() -> None:
        for job in queue:
            t = time.perf_counter()
            try:
                r = await send(client, job)
            except httpx.HTTPError as exc:
                r = exc
            results.append((time.perf_counter() - t, r))

    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return time.perf_counter() - t0, results


def book(headers: dict):
    async def send(client: httpx.AsyncClient, itinerary_id: str) -> httpx.Response:
        return await client.post("/bookings", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json={
            "itinerary_id": itinerary_id, "weight_g": WEIGHT_G, "volume_cm3": VOLUME_CM3, "items": ITEMS,
            "category": "parcel"})
    return send


def outcome(r) -> str:
    if isinstance(r, Exception):
        return type(r).__name__
    if r.status_code < 400:
        return str(r.status_code)
    try:
        return f"{r.status_code} {r.json().get('code')}"
    except ValueError:
        return f"{r.status_code} (not JSON)"


def summary(seconds: float, results: list[tuple], ok: int) -> dict:
    lat = sorted(x for x, _ in results)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99
    counts = Counter(outcome(r) for _, r in results)
    good = counts.pop(str(ok), 0)
    return {"n": len(results), "rps": len(results) / seconds, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
            "ok": good, "other": sum(counts.values()), "codes": dict(counts), "seconds": seconds}


async def run(api_url: str, sender: dict, itineraries: list[str], warmup: int, concurrency: int,
              baseline: int) -> dict:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=api_url, timeout=60, limits=limits) as client:
        send = book(sender)
        if warmup:
            _, warm = await drive(client, itineraries[:warmup], concurrency, send)
            bad = [outcome(r) for _, r in warm if outcome(r) != "201"]
            if bad:
                print(f"warm-up bookings not 201: {Counter(bad)}")
        bookings = summary(*await drive(client, itineraries[warmup:], concurrency, send), ok=201)
        out = {"POST /bookings (2 legs, 2 trips)": bookings}
        for path in ("/healthz", "/bookings/healthz"):
            async def get(client, _, path=path):
                return await client.get(path)
            await drive(client, range(concurrency), concurrency, get)  # warm the connections to that app
            out[f"GET {path} (ceiling)"] = summary(*await drive(client, range(baseline), concurrency, get), ok=200)
    return out


async def create_itineraries(api_url: str, sender: dict, pairs: list[tuple[dict, dict]], n: int,
                             concurrency: int) -> list[str]:
    async def send(client: httpx.AsyncClient, i: int) -> httpx.Response:
        a, b = pairs[i % len(pairs)]
        return await client.post("/itineraries", headers=sender, json={"legs": [
            {"kind": "flight", "trip_id": a["id"], "leg_id": a["legs"][0]["id"]},
            {"kind": "flight", "trip_id": b["id"], "leg_id": b["legs"][0]["id"]}]})

    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        _, results = await drive(client, list(range(n)), concurrency, send)
    bad = Counter(outcome(r) for _, r in results if isinstance(r, Exception) or r.status_code != 201)
    if bad:
        raise SystemExit(f"POST /itineraries failed: {dict(bad)}")
    return [r.json()["id"] for _, r in results]


def held_check(c: httpx.Client, headers: dict, pairs: list[tuple[dict, dict]], expected_bookings: int) -> str:
    """The held weight on every trip leg, summed per side of the pair, against the 201s."""
    held = {"LHR-JFK": 0, "JFK-LAX": 0}
    for a, b in pairs:
        for side, trip in (("LHR-JFK", a), ("JFK-LAX", b)):
            legs = check(c.get(f"/trips/{trip['id']}/capacity", headers=headers), 200)["legs"]
            held[side] += sum(leg["held_g"] for leg in legs)
    want = expected_bookings * WEIGHT_G
    verdict = "ok" if all(v == want for v in held.values()) else "MISMATCH"
    return f"held g per side {held}, expected {want} each ({expected_bookings} bookings x {WEIGHT_G} g): {verdict}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bookings", type=int, default=400, help="timed bookings")
    ap.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    ap.add_argument("--warmup", type=int, default=None, help="untimed bookings first (default: --concurrency)")
    ap.add_argument("--baseline-requests", type=int, default=None,
                    help="requests per ceiling endpoint (default: the larger of --bookings and 400)")
    ap.add_argument("--per-pair", type=int, default=40, help="bookings per trip pair (at most 50: items)")
    ap.add_argument("--postgres", default=os.environ.get("P2P_TEST_POSTGRES_URL")
                    or "postgresql://postgres@127.0.0.1:5432/test", help="server URL; a fresh database is made")
    ap.add_argument("--redis", default=None, help="Redis URL (default: none, the Ray actor KV store)")
    args = ap.parse_args()
    warmup = args.concurrency if args.warmup is None else args.warmup
    baseline = args.baseline_requests or max(args.bookings, 400)
    if not 0 < args.per_pair <= TRIP_CAPACITY["items"]:
        ap.error(f"--per-pair must be 1-{TRIP_CAPACITY['items']}")
    total = args.bookings + warmup
    pairs_n = math.ceil(total / args.per_pair)

    from p2p.launch import launch, shutdown
    from p2p.settings import Settings

    db_url, admin = fresh_database(args.postgres)
    launched = None
    try:
        settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="p2p-bench-")), database_url=db_url,
                            redis_url=args.redis, http_port=free_port())
        t0 = time.perf_counter()
        launched = launch(settings, topology="full", dashboard=False, join=False)
        print(f"full topology up in {time.perf_counter() - t0:.1f}s ({len(launched.applications)} applications)")

        t0 = time.perf_counter()
        with httpx.Client(base_url=launched.api_url, timeout=60) as c:
            traveler_id, traveler_email = signed_up(c, "traveler")
            _, sender_email = signed_up(c, "sender")
            grant(traveler_id, "traveler")
            traveler = login(c, traveler_email)
            wait_for_role(c, traveler)
            pairs = publish_pairs(c, traveler, pairs_n)
            sender = login(c, sender_email)
            itineraries = asyncio.run(create_itineraries(launched.api_url, sender, pairs, total, args.concurrency))
            print(f"setup in {time.perf_counter() - t0:.1f}s: {2 * pairs_n} trips published, "
                  f"{len(itineraries)} 2-leg itineraries ({warmup} for the warm-up)")
            sender = login(c, sender_email)  # a fresh access token for the timed part
            results = asyncio.run(run(launched.api_url, sender, itineraries, warmup, args.concurrency,
                                      baseline))
            consistency = held_check(c, traveler, pairs, warmup + results["POST /bookings (2 legs, 2 trips)"]["ok"])

        kv = "Redis" if args.redis else "Ray actor KV"
        print(f"\nPostgreSQL, {kv}, full topology, httpx client, {args.concurrency} in flight, {args.bookings} "
              f"bookings over {pairs_n} trip pairs ({warmup} warm-up), {baseline} requests per ceiling\n")
        print("| request | requests/s | p50 ms | p99 ms | 2xx | other |")
        print("|---|---|---|---|---|---|")
        for name, r in results.items():
            other = f"{r['other']} {r['codes']}" if r["other"] else "0"
            print(f"| {name} | {r['rps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['ok']} | {other} |")
        bookings, edge = results["POST /bookings (2 legs, 2 trips)"], results["GET /healthz (ceiling)"]
        svc = results["GET /bookings/healthz (ceiling)"]
        print(f"\nbookings/s {bookings['rps']:.1f} = {bookings['rps'] / edge['rps']:.1%} of GET /healthz and "
              f"{bookings['rps'] / svc['rps']:.1%} of GET /bookings/healthz at the same concurrency")
        print(consistency)
    finally:
        import ray

        if launched is not None:
            shutdown(stop_cluster=launched.started_cluster)
        elif ray.is_initialized():  # launch failed part-way
            shutdown(stop_cluster=True)
        drop_database(admin, db_url)
    if bookings["other"] or "MISMATCH" in consistency:
        sys.exit(1)


if __name__ == "__main__":
    main()
