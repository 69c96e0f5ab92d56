"""One service as a real Serve application on local Ray: HTTP at its prefix, readiness on
the database, and the typed client path through its DeploymentHandle."""
from __future__ import annotations

import socket
import uuid

import httpx
import pytest

pytestmark = pytest.mark.ray


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def authz_app(ray_session, tmp_path):
    from ray import serve

    from deployments.serve import service_app
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    env = {"P2P_DATABASE_URL": url, "P2P_DATA_DIR": str(tmp_path), "P2P_ENV": "test"}
    serve.run(service_app({"service": "authz", "env": env}), name="authz", route_prefix="/authz")
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


def test_a_service_answers_at_its_prefix_and_through_its_handle(authz_app):
    from ray import serve

    r = httpx.get(f"{authz_app}/authz/readyz", timeout=30)
    assert r.status_code == 200 and r.json() == {"status": "ready", "service": "authz"}
    r = httpx.get(f"{authz_app}/authz/permissions", timeout=30)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-request-id"]

    handle = serve.get_app_handle("authz")
    user = uuid.uuid4()
    status, perms = handle.call.remote("authz", "effective_permissions", (user,), {}).result(timeout_s=30)
    assert status == "ok" and "users:read" in perms
    status, err = handle.call.remote("authz", "verify_api_key", ("p2pk_nope_x",), {}).result(timeout_s=30)
    assert status == "err" and err.code == "auth.invalid_api_key"
