"""Helpers for the end-to-end layer: users made over real HTTP, roles granted through the
Serve handle of the Authorization Service, and waiting for what the relay brings later."""
from __future__ import annotations

import time
import uuid

PASSWORD = "correct horse battery staple"


def signed_up(c) -> tuple[str, dict]:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    user_id = c.post("/users", json={"email": email, "password": PASSWORD, "display_name": "E2E"}).json()["id"]
    token = c.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return user_id, {"Authorization": f"Bearer {token}"}


def grant(user_id: str, *roles: str) -> None:
    from ray import serve

    from deployments.authz import RolesAssign
    from deployments.kit import Ctx

    status, _ = serve.get_app_handle("authz").call.remote(
        "authz", "assign", (Ctx.system(), uuid.UUID(user_id), RolesAssign(roles=["member", *roles])), {}
    ).result(timeout_s=30)
    assert status == "ok"


def eventually(fetch, ok, *, what: str, timeout: float = 60):
    """`fetch()` until `ok(answer)`: for what the relay or a permission cache brings later."""
    deadline = time.monotonic() + timeout
    while True:
        answer = fetch()
        if ok(answer):
            return answer
        assert time.monotonic() < deadline, f"{what}: {answer!r}"
        time.sleep(0.5)
