"""User Service over HTTP (service layer: TestClient, SQLite and PostgreSQL)."""
from __future__ import annotations

from tests.factories.identity import PASSWORD, email, grant, register, signed_up


class TestCreate:
    def test_a_new_account_returns_its_private_profile(self, client):
        user = register(client, display_name="Ann", phone="+447700900123", country="gb")
        assert user["display_name"] == "Ann" and user["country"] == "GB"
        assert user["phone"] == "+447700900123" and user["status"] == "active"

    def test_the_email_is_unique_whatever_its_case(self, client):
        addr = email()
        register(client, email_=addr)
        r = client.post("/users", json={"email": addr.upper(), "password": PASSWORD, "display_name": "B"})
        assert r.status_code == 409 and r.json()["code"] == "user.email_taken"
        assert r.headers["content-type"] == "application/problem+json"

    def test_bad_input_is_a_clear_422_and_creates_nothing(self, client):
        addr = email()
        for body in [{"email": "not-an-email", "password": PASSWORD, "display_name": "A"},
                     {"email": addr, "password": "short", "display_name": "A"},
                     {"email": addr, "password": PASSWORD, "display_name": "A", "phone": "0123"},
                     {"email": addr, "password": PASSWORD, "display_name": "A", "country": "XX"},
                     {"email": addr, "password": PASSWORD, "display_name": "A", "role": "admin"}]:
            r = client.post("/users", json=body)
            assert r.status_code == 422, body
            assert r.json()["code"] == "request.validation_failed"
        assert client.post("/auth/login", json={"email": addr, "password": PASSWORD}).status_code == 401

    def test_a_body_that_is_not_json_is_a_400_and_creates_nothing(self, client):
        addr = email()
        raw = f'{{"email": "{addr}", "password": "{PASSWORD}", "display_name": "A"'  # no closing brace
        r = client.post("/users", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "request.malformed_json"
        assert r.headers["content-type"] == "application/problem+json"
        assert client.post("/auth/login", json={"email": addr, "password": PASSWORD}).status_code == 401

    def test_a_password_inside_the_email_is_refused(self, client):
        r = client.post("/users", json={"email": "longpassword12@example.com", "password": "longpassword12",
                                        "display_name": "A"})
        assert r.status_code == 422 and r.json()["code"] == "user.weak_password"

    def test_an_idempotency_key_replays_the_first_answer(self, client):
        body = {"email": email(), "password": PASSWORD, "display_name": "Idem"}
        first = client.post("/users", json=body, headers={"Idempotency-Key": "k-" + body["email"]})
        again = client.post("/users", json=body, headers={"Idempotency-Key": "k-" + body["email"]})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        other = client.post("/users", json={**body, "display_name": "Other"},
                            headers={"Idempotency-Key": "k-" + body["email"]})
        assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"


class TestGet:
    def test_others_see_the_public_profile_only(self, client):
        ann, _ = signed_up(client)
        _, bob_headers = signed_up(client)
        seen = client.get(f"/users/{ann['id']}", headers=bob_headers).json()
        assert seen["display_name"] == ann["display_name"]
        assert seen["email"] is None and seen["phone"] is None

    def test_the_user_sees_the_full_profile(self, client):
        ann, headers = signed_up(client)
        assert client.get(f"/users/{ann['id']}", headers=headers).json()["email"] == ann["email"]

    def test_an_admin_sees_the_full_profile(self, client, call, platform):
        ann, _ = signed_up(client)
        admin, admin_headers = signed_up(client)
        grant(call, platform, admin["id"], "admin")
        assert client.get(f"/users/{ann['id']}", headers=admin_headers).json()["email"] == ann["email"]

    def test_without_credentials_the_answer_is_401(self, client):
        ann = register(client)
        r = client.get(f"/users/{ann['id']}")
        assert r.status_code == 401 and r.json()["code"] == "auth.unauthorized"

    def test_an_unknown_user_is_404(self, client):
        _, headers = signed_up(client)
        r = client.get("/users/00000000-0000-0000-0000-000000000001", headers=headers)
        assert r.status_code == 404 and r.json()["code"] == "resource.not_found"

    def test_a_request_id_goes_in_and_comes_out(self, client):
        ann, headers = signed_up(client)
        r = client.get(f"/users/{ann['id']}", headers={**headers, "X-Request-ID": "trace-123"})
        assert r.headers["x-request-id"] == "trace-123"


class TestUpdate:
    def test_the_user_changes_allowed_fields(self, client):
        ann, headers = signed_up(client)
        r = client.put(f"/users/{ann['id']}", headers=headers, json={"bio": "Flies LHR-JFK monthly", "country": "us"})
        assert r.status_code == 200 and r.json()["bio"] == "Flies LHR-JFK monthly" and r.json()["country"] == "US"

    def test_role_status_and_email_cannot_be_mass_assigned(self, client):
        ann, headers = signed_up(client)
        for field, value in [("role", "admin"), ("status", "suspended"), ("email", "x@example.com")]:
            r = client.put(f"/users/{ann['id']}", headers=headers, json={field: value})
            assert r.status_code == 422
        me = client.get(f"/users/{ann['id']}", headers=headers).json()
        assert me["status"] == "active" and me["email"] == ann["email"]

    def test_another_user_cannot_change_a_profile(self, client):
        ann, ann_headers = signed_up(client)
        _, bob_headers = signed_up(client)
        r = client.put(f"/users/{ann['id']}", headers=bob_headers, json={"bio": "hacked"})
        assert r.status_code == 404
        assert client.get(f"/users/{ann['id']}", headers=ann_headers).json()["bio"] is None


class TestStatsAndSettings:
    def test_stats_start_at_zero(self, client):
        ann, headers = signed_up(client)
        stats = client.get(f"/users/{ann['id']}/stats", headers=headers).json()
        assert stats["shipments_sent"] == 0 and stats["rating_average"] is None
        assert stats["last_active_at"] is not None  # the login touched it

    def test_the_user_updates_settings_and_notification_flags_merge(self, client):
        ann, headers = signed_up(client)
        r = client.put(f"/users/{ann['id']}/settings", headers=headers,
                       json={"timezone": "Europe/London", "currency": "gbp", "notifications": {"sms": True}})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["timezone"] == "Europe/London" and body["currency"] == "GBP"
        assert body["notifications"] == {"email": True, "sms": True, "push": True}

    def test_bad_settings_are_refused(self, client):
        ann, headers = signed_up(client)
        for body in [{"timezone": "Mars/Olympus"}, {"currency": "XYZ"}, {"theme": "dark"}]:
            assert client.put(f"/users/{ann['id']}/settings", headers=headers, json=body).status_code == 422

    def test_another_user_can_neither_read_nor_change_settings(self, client):
        ann, ann_headers = signed_up(client)
        _, bob_headers = signed_up(client)
        assert client.get(f"/users/{ann['id']}/settings", headers=bob_headers).status_code == 404
        r = client.put(f"/users/{ann['id']}/settings", headers=bob_headers, json={"language": "fr"})
        assert r.status_code == 404
        assert client.get(f"/users/{ann['id']}/settings", headers=ann_headers).json()["language"] == "en"
