"""The test environment and cross-cutting helpers. Service tests run on SQLite always and
on PostgreSQL + Redis when P2P_TEST_POSTGRES_URL / P2P_TEST_REDIS_URL are set (CI sets both)."""
from __future__ import annotations

import os
import time
from datetime import datetime, timezone

POSTGRES_URL = os.environ.get("P2P_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("P2P_TEST_REDIS_URL")


def pg_database(server_url: str, name: str, *, drop: bool = False) -> str:
    """Create (or drop) database `name` on the server of `server_url`; returns its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(server_url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return u.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def flush_redis(url: str) -> None:
    import redis

    r = redis.from_url(url)
    for key in r.scan_iter("p2p:*"):
        r.delete(key)
    r.close()


def backends() -> list[str]:
    return ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def problem(r, status: int, code: str) -> None:
    """Assert an RFC 9457 problem answer with `status` and the platform's error `code`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code, r.json()


def portal_call(client):
    """The `call` fixture for module-scoped fixtures: run a coroutine function on the app's loop."""
    return lambda fn, *args, **kw: client.portal.call(lambda: fn(*args, **kw))


def wait_until(condition, *, timeout: float, interval: float = 0.05, what: str = "the condition"):
    """Poll `condition()` until it is truthy and return its value; fail after `timeout`
    seconds. For waits on background work (a sweep, a relay): bounded, and no longer than
    needed, unlike a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(interval)
    return value


def wait_past(moment: datetime | str, *, timeout: float = 30) -> None:
    """Wait until the wall clock is past `moment` (a datetime or an ISO 8601 string), for
    deadlines the service computes from the real clock (holds' and bookings' `expires_at`)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    wait_until(lambda: datetime.now(timezone.utc) > moment, timeout=timeout, interval=0.01,
               what=f"the clock passing {moment.isoformat()}")
