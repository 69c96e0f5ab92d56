"""End to end over HTTP on the full topology: every service its own Serve application."""
from __future__ import annotations

import time
import uuid

import pyotp
import pytest

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_register_login_mfa_refresh_sessions_revoke(platform_url):
    c = platform_url
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    user = c.post("/users", json={"email": email, "password": PASSWORD, "display_name": "E2E"})
    assert user.status_code == 201, user.text
    user_id = user.json()["id"]

    first = c.post("/auth/login", json={"email": email, "password": PASSWORD, "device_name": "laptop"}).json()
    assert first["status"] == "ok"
    enrol = c.post("/auth/mfa/enroll", headers=bearer(first["access_token"])).json()
    totp = pyotp.TOTP(enrol["secret"])
    r = c.post("/auth/mfa/verify", headers=bearer(first["access_token"]),
               json={"factor_id": enrol["factor_id"], "code": totp.now()})
    assert r.status_code == 200 and r.json()["verified"]

    challenge = c.post("/auth/login", json={"email": email, "password": PASSWORD, "device_name": "phone"}).json()
    assert challenge["status"] == "mfa_required" and challenge["access_token"] is None
    phone = c.post("/auth/mfa/verify", json={"challenge_id": challenge["challenge_id"],
                                             "code": totp.at(time.time() + totp.interval)})
    assert phone.status_code == 200, phone.text
    phone = phone.json()

    rotated = c.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert rotated.status_code == 200
    rotated = rotated.json()
    reused = c.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["code"] == "auth.refresh_reused"

    sessions = c.get("/auth/sessions", headers=bearer(first["access_token"])).json()["items"]
    assert [s["device_name"] for s in sessions] == ["laptop"]  # the phone's died with the reuse
    assert c.delete(f"/auth/sessions/{first['session_id']}", headers=bearer(first["access_token"])).status_code == 204
    refused = c.get(f"/users/{user_id}", headers=bearer(first["access_token"]))
    assert refused.status_code == 401 and refused.json()["code"] == "auth.invalid_token"
    assert c.get(f"/users/{user_id}", headers=bearer(rotated["access_token"])).status_code == 401


def test_an_api_key_from_authorization_works_on_the_user_service(platform_url):
    c = platform_url
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    user_id = c.post("/users", json={"email": email, "password": PASSWORD, "display_name": "Key"}).json()["id"]
    token = c.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    key = c.post("/authz/api-keys", headers=bearer(token), json={"name": "e2e", "scopes": ["users:read"]})
    assert key.status_code == 201, key.text
    r = c.get(f"/users/{user_id}", headers={"X-API-Key": key.json()["key"]})
    assert r.status_code == 200 and r.json()["email"] == email
    assert c.put(f"/users/{user_id}", headers={"X-API-Key": key.json()["key"]}, json={"bio": "x"}).status_code == 403


def test_the_default_role_arrives_through_the_event_relay(platform_url):
    c = platform_url
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    c.post("/users", json={"email": email, "password": PASSWORD, "display_name": "Roles"})
    token = c.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    perms = c.get("/authz/permissions?permission=bookings:write", headers=bearer(token)).json()
    assert perms["roles"] == ["member", "sender"] and perms["allowed"] is True


def test_the_docs_page_and_its_assets_are_served_locally(platform_url):
    c = platform_url
    page = c.get("/docs")
    assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert c.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    doc = c.get("/openapi.json").json()
    assert "/users/{id}" in doc["paths"] and "/auth/login" in doc["paths"]
    missing = c.get("/no/such/thing")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert c.get("/readyz").json() == {"status": "ready"}
