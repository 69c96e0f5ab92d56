"""The whole platform in the full topology, started once for the session through the same
code path as `p2p up`, and driven over real HTTP."""
from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from tests.factories.common import POSTGRES_URL, REDIS_URL, flush_redis, pg_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory):
    """The launched platform's settings (its data dir holds the sandbox providers' output)."""
    from p2p.settings import Settings

    name = f"p2p_e2e_{uuid.uuid4().hex[:8]}"
    db_url = pg_database(POSTGRES_URL, name) if POSTGRES_URL else None
    if REDIS_URL:  # a fresh database needs a fresh event stream: old events name rows it lacks
        flush_redis(REDIS_URL)
    yield Settings(env="test", data_dir=tmp_path_factory.mktemp("e2e"), database_url=db_url, redis_url=REDIS_URL,
                   http_port=free_port(), topology="full")
    if POSTGRES_URL:
        pg_database(POSTGRES_URL, name, drop=True)


@pytest.fixture(scope="session")
def platform_url(ray_session, e2e_settings):
    from p2p.launch import launch, shutdown

    launched = launch(e2e_settings, dashboard=False, join=False)
    with httpx.Client(base_url=launched.api_url, timeout=60) as c:
        yield c
    shutdown(stop_cluster=False)
