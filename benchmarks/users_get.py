"""GET /users/{id} (authenticated, real database) through the full topology, with two
ceilings measured in the same run: a bare Serve endpoint on the same Serve instance and a
plain FastAPI endpoint on uvicorn.

    python3 benchmarks/users_get.py [--seconds 15] [--connections 32] [--database-url URL]
                                    [--redis-url URL] [--fast-serve]

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


if __name__ == "__main__":
    main()
