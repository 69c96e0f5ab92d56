"""Users: sign-up, login, bearer headers and roles, with keyword defaults."""
from __future__ import annotations

import uuid

PASSWORD = "correct horse battery staple"


def email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def register(client, *, email_: str | None = None, password: str = PASSWORD, display_name: str = "Test User",
             **extra) -> dict:
    r = client.post("/users", json={"email": email_ or email(), "password": password,
                                    "display_name": display_name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def login(client, email_: str, password: str = PASSWORD, **extra) -> dict:
    r = client.post("/auth/login", json={"email": email_, "password": password, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(tokens_or_token) -> dict:
    token = tokens_or_token["access_token"] if isinstance(tokens_or_token, dict) else tokens_or_token
    return {"Authorization": f"Bearer {token}"}


def signed_up(client, **kw) -> tuple[dict, dict]:
    """A registered and logged-in user: (user, headers)."""
    user = register(client, **kw)
    return user, bearer(login(client, user["email"], kw.get("password", PASSWORD)))


def grant(call, platform, user_id, *roles: str) -> None:
    """Give roles as the system (for tests that need an admin or support agent)."""
    from deployments.authz import RolesAssign
    from deployments.kit import Ctx

    svc = platform.runtime.services["authz"]
    call(svc.assign, Ctx.system(), uuid.UUID(str(user_id)), RolesAssign(roles=["member", *roles]))
    for s in [platform.runtime]:
        s.forget_permissions(uuid.UUID(str(user_id)))


def user_with(client, call, platform, *roles: str) -> tuple[dict, dict]:
    """A signed-up user holding `roles` (on top of member): (user, headers)."""
    user, headers = signed_up(client)
    grant(call, platform, user["id"], *roles)
    return user, headers
