"""Shared fixtures: the session's database, settings and in-process platform, and one Ray
for the whole session. Service tests run on SQLite always and on PostgreSQL + Redis when
P2P_TEST_POSTGRES_URL / P2P_TEST_REDIS_URL are set (CI sets both).

The factories (tests/factories/, one module per domain) are registered below as plugins:
their fixtures are available everywhere, their helpers are imported from
`tests.factories.<domain>`. No test module imports another test module or this file."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

# Rewrite asserts in the factories even though this file imports one before pytest loads
# the plugins below (pytest would otherwise warn and leave them un-rewritten).
pytest.register_assert_rewrite("tests.factories")

pytest_plugins = [
    "tests.factories.common",
    "tests.factories.identity",
    "tests.factories.places",
    "tests.factories.trips",
    "tests.factories.routes",
    "tests.factories.routing",
    "tests.factories.kv",
    "tests.factories.shipments",
    "tests.factories.custody",
    "tests.factories.e2e",
    "tests.factories.customs",
    "tests.factories.money",
    "tests.factories.payments",
    "tests.factories.payouts",
]

from tests.factories.common import POSTGRES_URL, REDIS_URL, backends, flush_redis, pg_database  # noqa: E402


@pytest.fixture(scope="session", params=backends())
def database_url(request, tmp_path_factory) -> str:
    """A fresh, migrated database per backend for the whole session."""
    from storage.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'p2p.db'}"
        upgrade(url)
        yield url
        return
    name = f"p2p_test_{uuid.uuid4().hex[:8]}"
    url = pg_database(POSTGRES_URL, name)
    upgrade(url)
    yield url
    pg_database(POSTGRES_URL, name, drop=True)


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    from p2p.settings import Settings

    redis_url = REDIS_URL if database_url.startswith("postgresql") else None
    if redis_url:
        flush_redis(redis_url)
    return Settings(env="test", database_url=database_url, redis_url=redis_url,
                    data_dir=Path(tmp_path_factory.mktemp("data")), login_max_attempts_per_ip=10_000,
                    route_graph_refresh_s=0)


@pytest.fixture(scope="session")
def platform(settings):
    """Every service in this process (compact wiring, no Ray), on the session's database."""
    from deployments.local import LocalPlatform

    return LocalPlatform(settings)


@pytest.fixture(scope="session")
def client(platform):
    from fastapi.testclient import TestClient

    with TestClient(platform.app) as c:
        yield c


@pytest.fixture()
def drain(client, platform):
    """Relay pending domain events now (the relay loop is not running in service tests)."""
    return lambda: client.portal.call(platform.drain_events)


@pytest.fixture()
def call(client):
    """Run a coroutine function on the app's event loop: `call(service.method, *args)`."""
    return lambda fn, *args, **kw: client.portal.call(lambda: fn(*args, **kw))


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test session (the `ray` and `e2e` layers share it)."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, namespace="p2p", log_to_driver=False,
                 configure_logging=False)
    yield ray


def pytest_collection_modifyitems(items):
    """The end-to-end layer last: it keeps the full platform on Serve until the session ends;
    and within it the fault tests, which kill parts of the platform, after the rest."""
    items.sort(key=lambda item: 2 if item.get_closest_marker("faults") else 1 if item.get_closest_marker("e2e") else 0)
