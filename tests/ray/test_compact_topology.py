"""The compact topology: one ingress serving every service, through the `p2p up` code path."""
from __future__ import annotations

import socket
import uuid

import httpx
import pytest

pytestmark = pytest.mark.ray


def test_compact_serves_every_service_from_one_application(ray_session, tmp_path):
    from ray import serve

    from p2p.launch import launch, shutdown
    from p2p.settings import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen = []
    launched = launch(Settings(env="test", data_dir=tmp_path, http_port=port), topology="compact",
                      dashboard=False, join=False, on_progress=lambda done, total: seen.append((done, total)))
    try:
        assert launched.applications == ["platform"] and seen[-1] == (1, 1)
        assert list(serve.status().applications) == ["platform"]
        c = httpx.Client(base_url=launched.api_url, timeout=30)
        email = f"compact-{uuid.uuid4().hex[:8]}@example.com"
        user = c.post("/users", json={"email": email, "password": "compact password 1", "display_name": "C"})
        assert user.status_code == 201, user.text
        token = c.post("/auth/login", json={"email": email, "password": "compact password 1"}).json()["access_token"]
        perms = c.get("/authz/permissions", headers={"Authorization": f"Bearer {token}"})
        assert perms.status_code == 200 and "sender" in perms.json()["roles"]
        assert c.get("/docs").status_code == 200
    finally:
        shutdown(stop_cluster=False)
