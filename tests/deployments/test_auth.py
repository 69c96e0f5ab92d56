"""Authentication Service: login, refresh rotation and reuse, logout, sessions, devices, MFA,
brute-force limits, and the token checks every service applies."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pyotp
import pytest

from tests.factories.identity import PASSWORD, bearer, grant, login, register, signed_up


def enrol_mfa(client, headers) -> str:
    e = client.post("/auth/mfa/enroll", headers=headers).json()
    r = client.post("/auth/mfa/verify", headers=headers,
                    json={"factor_id": e["factor_id"], "code": pyotp.TOTP(e["secret"]).now()})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    return e["secret"]


def next_code(secret: str) -> str:
    """A valid code for the next 30 s step (the current one was spent at enrolment)."""
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + totp.interval)


class TestLogin:
    def test_the_right_password_gives_a_token_pair(self, client):
        user = register(client)
        tokens = login(client, user["email"].upper())
        assert tokens["status"] == "ok" and tokens["token_type"] == "Bearer"
        assert tokens["refresh_token"].startswith("rt_") and tokens["user_id"] == user["id"]
        header = jwt.get_unverified_header(tokens["access_token"])
        assert header["alg"] == "EdDSA" and header["kid"]

    def test_a_wrong_password_and_an_unknown_email_look_the_same(self, client):
        user = register(client)
        wrong = client.post("/auth/login", json={"email": user["email"], "password": "not the password"})
        unknown = client.post("/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["code"] == unknown.json()["code"] == "auth.invalid_credentials"

    def test_repeated_failures_lock_the_account_with_retry_after(self, client, settings):
        user = register(client)
        for _ in range(settings.login_max_failures_per_account):
            r = client.post("/auth/login", json={"email": user["email"], "password": "wrong-wrong"})
            assert r.status_code == 401
        r = client.post("/auth/login", json={"email": user["email"], "password": PASSWORD})
        assert r.status_code == 429 and r.json()["code"] == "auth.too_many_attempts"
        assert int(r.headers["retry-after"]) >= 1

    def test_too_many_attempts_from_one_address_are_refused(self, client, platform, settings):
        old = settings.login_max_attempts_per_ip
        object.__setattr__(settings, "login_max_attempts_per_ip", 3)
        try:
            ip = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250}"}
            codes = [client.post("/auth/login", headers=ip,
                                 json={"email": f"x{i}@example.com", "password": "whatever1"}).status_code
                     for i in range(5)]
            assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
        finally:
            object.__setattr__(settings, "login_max_attempts_per_ip", old)


class TestRefresh:
    def test_a_refresh_token_rotates_and_the_old_one_is_refused(self, client):
        user = register(client)
        first = login(client, user["email"])
        second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        assert second.json()["refresh_token"] != first["refresh_token"]
        assert client.get(f"/users/{user['id']}", headers=bearer(second.json())).status_code == 200

    def test_a_replayed_refresh_token_revokes_the_whole_session(self, client):
        user = register(client)
        first = login(client, user["email"])
        second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
        replay = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 401 and replay.json()["code"] == "auth.refresh_reused"
        # the legitimate holder's newer tokens die with the session
        assert client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
        r = client.get(f"/users/{user['id']}", headers=bearer(second))
        assert r.status_code == 401 and r.json()["code"] == "auth.invalid_token"

    def test_an_unknown_refresh_token_is_401(self, client):
        r = client.post("/auth/refresh", json={"refresh_token": "rt_" + "x" * 40})
        assert r.status_code == 401 and r.json()["code"] == "auth.invalid_refresh"


class TestSessions:
    def test_sessions_are_listed_and_a_revoked_one_stops_at_once(self, client):
        user = register(client)
        laptop = login(client, user["email"], device_name="laptop")
        phone = login(client, user["email"], device_name="phone")
        listed = client.get("/auth/sessions", headers=bearer(laptop)).json()["items"]
        assert {s["device_name"] for s in listed} >= {"laptop", "phone"}
        assert [s["current"] for s in listed if s["id"] == laptop["session_id"]] == [True]
        assert client.delete(f"/auth/sessions/{phone['session_id']}", headers=bearer(laptop)).status_code == 204
        assert client.get(f"/users/{user['id']}", headers=bearer(phone)).status_code == 401
        assert client.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 401
        assert client.get(f"/users/{user['id']}", headers=bearer(laptop)).status_code == 200

    def test_pages_follow_the_cursor(self, client):
        user = register(client)
        tokens = [login(client, user["email"], device_name=f"d{i}") for i in range(3)]
        h = bearer(tokens[0])
        page1 = client.get("/auth/sessions?limit=2", headers=h).json()
        page2 = client.get(f"/auth/sessions?limit=2&cursor={page1['next_cursor']}", headers=h).json()
        ids = [s["id"] for s in page1["items"] + page2["items"]]
        assert len(ids) == len(set(ids)) == 3 and page2["next_cursor"] is None
        assert client.get("/auth/sessions?cursor=garbage!", headers=h).status_code == 400
        assert client.get("/auth/sessions?limit=0", headers=h).status_code == 422

    def test_another_user_can_neither_list_nor_revoke_my_sessions(self, client):
        ann = register(client)
        ann_tokens = login(client, ann["email"])
        _, bob = signed_up(client)
        assert client.get(f"/auth/sessions?user_id={ann['id']}", headers=bob).status_code == 404
        assert client.delete(f"/auth/sessions/{ann_tokens['session_id']}", headers=bob).status_code == 404
        assert client.get(f"/users/{ann['id']}", headers=bearer(ann_tokens)).status_code == 200

    def test_support_may_list_anyones_sessions(self, client, call, platform):
        ann = register(client)
        login(client, ann["email"])
        agent, agent_headers = signed_up(client)
        grant(call, platform, agent["id"], "support")
        r = client.get(f"/auth/sessions?user_id={ann['id']}", headers=agent_headers)
        assert r.status_code == 200 and len(r.json()["items"]) == 1

    def test_logout_ends_the_session(self, client):
        user = register(client)
        tokens = login(client, user["email"])
        assert client.post("/auth/logout", headers=bearer(tokens)).status_code == 204
        assert client.get(f"/users/{user['id']}", headers=bearer(tokens)).status_code == 401

    def test_devices_are_listed_and_revoking_one_signs_it_out(self, client):
        user = register(client)
        a = login(client, user["email"], device_name="tablet")
        b = login(client, user["email"], device_name="desktop")
        devices = client.get("/auth/devices", headers=bearer(b)).json()
        tablet = next(d for d in devices if d["name"] == "tablet")
        assert client.delete(f"/auth/devices/{tablet['id']}", headers=bearer(b)).status_code == 204
        assert client.get(f"/users/{user['id']}", headers=bearer(a)).status_code == 401
        assert "tablet" not in {d["name"] for d in client.get("/auth/devices", headers=bearer(b)).json()}


class TestMfa:
    def test_with_totp_on_login_needs_the_code(self, client):
        user, headers = signed_up(client)
        secret = enrol_mfa(client, headers)
        step1 = login(client, user["email"])
        assert step1["status"] == "mfa_required" and step1["access_token"] is None
        bad = client.post("/auth/mfa/verify", json={"challenge_id": step1["challenge_id"], "code": "000000"})
        assert bad.status_code == 401 and bad.json()["code"] == "auth.invalid_mfa_code"
        ok = client.post("/auth/mfa/verify", json={"challenge_id": step1["challenge_id"], "code": next_code(secret)})
        assert ok.status_code == 200 and ok.json()["access_token"]
        claims = jwt.decode(ok.json()["access_token"], options={"verify_signature": False})
        assert claims["amr"] == ["pwd", "otp"]
        again = client.post("/auth/mfa/verify", json={"challenge_id": step1["challenge_id"], "code": next_code(secret)})
        assert again.status_code == 401  # a challenge is single-use

    def test_enrolment_needs_a_signed_in_user_and_a_valid_code(self, client):
        _, headers = signed_up(client)
        assert client.post("/auth/mfa/enroll").status_code == 401
        e = client.post("/auth/mfa/enroll", headers=headers).json()
        assert e["otpauth_uri"].startswith("otpauth://totp/") and e["qr_svg_base64"]
        r = client.post("/auth/mfa/verify", headers=headers, json={"factor_id": e["factor_id"], "code": "123456"})
        assert r.status_code == 401
        assert client.post("/auth/mfa/verify", json={"code": "12"}).status_code == 422


class TestTokenChecks:
    """Every service refuses forged, expired, foreign and unsigned tokens."""

    @pytest.fixture()
    def victim(self, client):
        user = register(client)
        return user, login(client, user["email"])

    def claims(self, token):
        return jwt.decode(token, options={"verify_signature": False})

    def test_a_tampered_token_is_refused(self, client, victim):
        user, tokens = victim
        head, body, sig = tokens["access_token"].split(".")
        forged_body = jwt.utils.base64url_encode(
            jwt.utils.base64url_decode(body).replace(user["id"].encode(), str(uuid.uuid4()).encode())).decode()
        r = client.get(f"/users/{user['id']}", headers=bearer(f"{head}.{forged_body}.{sig}"))
        assert r.status_code == 401 and r.json()["code"] == "auth.invalid_token"

    def test_a_token_signed_with_another_key_is_refused(self, client, victim):
        from p2p.security import issue_access_token, new_signing_key

        user, tokens = victim
        kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
        _, private_pem, _ = new_signing_key()
        c = self.claims(tokens["access_token"])
        forged = issue_access_token(kid=kid, private_pem=private_pem, user_id=uuid.UUID(c["sub"]),
                                    session_id=uuid.UUID(c["sid"]), ttl_s=300)
        assert client.get(f"/users/{user['id']}", headers=bearer(forged)).status_code == 401

    def test_an_unknown_kid_is_refused(self, client, victim):
        from p2p.security import issue_access_token, new_signing_key

        user, tokens = victim
        kid, private_pem, _ = new_signing_key()
        c = self.claims(tokens["access_token"])
        forged = issue_access_token(kid=kid, private_pem=private_pem, user_id=uuid.UUID(c["sub"]),
                                    session_id=uuid.UUID(c["sid"]), ttl_s=300)
        r = client.get(f"/users/{user['id']}", headers=bearer(forged))
        assert r.status_code == 401 and r.json()["data"]["reason"] == "unknown_kid"

    def test_alg_none_is_refused(self, client, victim):
        user, tokens = victim
        kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
        unsigned = jwt.encode(self.claims(tokens["access_token"]), key=None, algorithm="none", headers={"kid": kid})
        assert client.get(f"/users/{user['id']}", headers=bearer(unsigned)).status_code == 401

    def test_an_expired_token_is_refused(self, client, victim, call, platform):
        from p2p.security import issue_access_token

        user, tokens = victim
        auth = platform.runtime.services["auth"]
        c = self.claims(tokens["access_token"])
        expired = issue_access_token(kid=auth.tokens.key.kid, private_pem=auth.tokens.key.private_pem,
                                     user_id=uuid.UUID(c["sub"]), session_id=uuid.UUID(c["sid"]), ttl_s=60,
                                     now=datetime.now(timezone.utc) - timedelta(minutes=10))
        r = client.get(f"/users/{user['id']}", headers=bearer(expired))
        assert r.status_code == 401 and r.json()["data"]["reason"] == "expired"

    def test_garbage_and_wrong_schemes_are_refused(self, client, victim):
        user, _ = victim
        for value in ["Bearer not.a.jwt", "Bearer abc", "Basic dXNlcjpwYXNz"]:
            r = client.get(f"/users/{user['id']}", headers={"Authorization": value})
            assert r.status_code == 401, value
