"""GET /users/{id} (authenticated, real database) through the full topology, with two
ceilings measured in the same run: a bare Serve endpoint on the same Serve instance and a
plain FastAPI endpoint on uvicorn.

    python3 benchmarks/users_get.py [--seconds 15] [--connections 32] [--database-url URL]
                                    [--redis-url URL] [--fast-serve] [--tracking]

`--tracking` also measures the public `GET /tracking/{number}` (no token: the Shipment
Service resolves the number, the custody shard answers the state, the Tracking Service
reads the events) of a shipment picked up on a one-leg trip.

`--fast-serve` sets RAY_SERVE_ENABLE_HA_PROXY=1 and RAY_SERVE_THROUGHPUT_OPTIMIZED=1 before
Ray starts (faster proxy; see the design guide)."""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from _wrk import wrk  # noqa: E402

BARE = '''
from fastapi import FastAPI
app = FastAPI()
@app.get("/bare")
async def bare():
    return {"ok": True}
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--redis-url", default=None)
    ap.add_argument("--fast-serve", action="store_true")
    ap.add_argument("--tracking", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if args.fast_serve:
        os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "1"
        os.environ["RAY_SERVE_THROUGHPUT_OPTIMIZED"] = "1"

    import httpx
    from fastapi import FastAPI
    from ray import serve

    from p2p.launch import launch, shutdown
    from p2p.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="p2p-bench-"))
    port = free_port()
    settings = Settings(data_dir=data, database_url=args.database_url, redis_url=args.redis_url, http_port=port)
    t0 = time.perf_counter()
    launched = launch(settings, topology="full", dashboard=False, join=False)
    print(f"full topology up in {time.perf_counter() - t0:.1f}s: {launched.applications}")

    c = httpx.Client(base_url=launched.api_url, timeout=30)
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    user = c.post("/users", json={"email": email, "password": "benchmark password 1", "display_name": "Bench"}).json()
    token = c.post("/auth/login", json={"email": email, "password": "benchmark password 1"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert c.get(f"/users/{user['id']}", headers=headers).status_code == 200

    number = picked_up_shipment(c) if args.tracking else None

    bare_app = FastAPI()

    @bare_app.get("/")
    async def bare():
        return {"ok": True}

    @serve.deployment(ray_actor_options={"num_cpus": 0.05}, max_ongoing_requests=200)
    @serve.ingress(bare_app)
    class Bare:
        pass

    serve.run(Bare.bind(), name="bare", route_prefix="/bare")
    results = {}
    results["GET /users/{id} (full topology)"] = wrk(f"{launched.api_url}/users/{user['id']}", seconds=args.seconds,
                                                     connections=args.connections, headers=headers)
    if number is not None:
        results["GET /tracking/{number} (public, full topology)"] = wrk(
            f"{launched.api_url}/tracking/{number}", seconds=args.seconds, connections=args.connections)
    results["bare Serve endpoint (ceiling)"] = wrk(f"{launched.api_url}/bare", seconds=args.seconds,
                                                   connections=args.connections)
    serve.delete("bare")
    shutdown(stop_cluster=launched.started_cluster)

    uv_port = free_port()
    app_file = data / "bare_uvicorn.py"
    app_file.write_text(BARE)
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_uvicorn:app", "--port", str(uv_port),
                             "--log-level", "warning", "--no-access-log"], cwd=data)
    try:
        for _ in range(50):
            try:
                httpx.get(f"http://127.0.0.1:{uv_port}/bare")
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        results["plain uvicorn endpoint (ceiling)"] = wrk(f"http://127.0.0.1:{uv_port}/bare", seconds=args.seconds,
                                                          connections=args.connections)
    finally:
        proc.terminate()

    db = "PostgreSQL" if args.database_url else "SQLite"
    kv = "Redis" if args.redis_url else "Ray actor KV"
    print(f"\n{db}, {kv}, fast-serve={args.fast_serve}, wrk -t2 -c{args.connections} -d{args.seconds}s\n")
    print("| endpoint | requests/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx']} |")
    base = results["bare Serve endpoint (ceiling)"]["rps"]
    full = results["GET /users/{id} (full topology)"]["rps"]
    uvicorn = results["plain uvicorn endpoint (ceiling)"]["rps"]
    print(f"\nGET /users/{{id}} reaches {full / base:.0%} of the bare Serve ceiling and {full / uvicorn:.0%} "
          f"of plain uvicorn.")
    if number is not None:
        track = results["GET /tracking/{number} (public, full topology)"]["rps"]
        print(f"GET /tracking/{{number}} reaches {track / base:.0%} of the bare Serve ceiling.")


def picked_up_shipment(c) -> str:
    """A shipment on a confirmed one-leg trip, handed to the traveler: its tracking number."""
    from tests.factories.e2e import eventually, grant, signed_up
    from tests.factories.places import JPEG
    from tests.factories.routes import at
    from tests.factories.shipments import shipment_body
    from tests.factories.trips import trip_body

    traveler, th = signed_up(c)
    grant(traveler, "traveler")
    _, sh = signed_up(c)
    trip = eventually(lambda: c.post("/trips", json=trip_body(route=("CDG", "MAD"), start=at(5, 9), hours=2),
                                     headers=th), lambda r: r.status_code == 201, what="traveler role").json()
    c.post(f"/trips/{trip['id']}/publish", headers=th).raise_for_status()
    shipment = c.post("/shipments", headers=sh, json=shipment_body(
        pickup={"location_id": "city:FR:paris"}, currency="EUR",
        recipient={"name": "R", "phone": "+34915550000", "address": {"location_id": "city:ES:madrid"}})).json()
    it = c.post("/itineraries", headers=sh, json={"legs": [
        {"kind": "flight", "trip_id": trip["id"], "leg_id": trip["legs"][0]["id"]}]}).json()
    b = c.post("/bookings", headers=sh, json={"itinerary_id": it["id"], "shipment_id": shipment["id"],
                                              "weight_g": 1500, "volume_cm3": 6000, "items": 1, "category": "parcel"})
    c.put(f"/bookings/{b.json()['id']}/confirm", headers=th).raise_for_status()
    eventually(lambda: c.get(f"/tracking/{shipment['id']}", headers=sh), lambda r: r.status_code == 200,
               what="custody opened")
    first = min(c.post("/handoffs", json={"shipment_id": shipment["id"]}, headers=sh).json()["steps"],
                key=lambda s: s["seq"])
    for kind in ("handoff", "package"):
        payload = c.post("/qr/generate", json={"handoff_id": first["id"], "kind": kind}, headers=sh).json()["payload"]
        c.post(f"/handoffs/{first['id']}/scan", headers=th, json={
            "scan_id": str(uuid.uuid4()), "kind": kind, "payload": payload, "lat": 49.0097,
            "lon": 2.5479}).raise_for_status()
    c.post(f"/handoffs/{first['id']}/photos", headers=sh, files={"file": ("p.jpg", JPEG, "image/jpeg")})
    number = shipment["tracking_number"]
    assert c.get(f"/tracking/{number}").json()["status"] == "out_for_delivery"
    return number


if __name__ == "__main__":
    main()
