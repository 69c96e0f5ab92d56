"""Authorization Service: roles and inheritance, assignment, checks, API keys."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from tests.factories.identity import grant, register, signed_up


class TestDefaultRoles:
    def test_user_created_gives_the_default_roles_through_the_event(self, client, call, platform, drain):
        from storage.models.authz import AuthzSubject

        user = register(client)
        drain()

        async def subject():
            async with platform.runtime.services["authz"].uow(read=True) as uow:
                return await uow.get(AuthzSubject, uuid.UUID(user["id"]))

        assert call(subject) is not None
        _, headers = signed_up(client)
        r = client.get(f"/authz/permissions?user_id={user['id']}", headers=headers)
        assert r.status_code == 404  # not one's own, no roles:read:any

    def test_a_redelivered_event_changes_nothing(self, client, call, platform, drain):
        from deployments.kit.events import dispatch_event
        from deployments.users.events import UserCreated
        from p2p.events import Envelope
        from storage.db import utcnow

        user = register(client)
        drain()
        created = UserCreated(user_id=user["id"], email=user["email"])
        event = Envelope(id=uuid.uuid4(), topic=created.topic, source="users", entity_id=user["id"], version=1,
                         occurred_at=utcnow(), payload=created.model_dump(mode="json"))
        authz = platform.runtime.services["authz"]
        assert call(dispatch_event, authz, event) is True
        assert call(dispatch_event, authz, event) is False

    def test_permissions_answer_for_oneself(self, client):
        user, headers = signed_up(client)
        r = client.get("/authz/permissions?permission=bookings:write", headers=headers).json()
        assert r["roles"] == ["member", "sender"] and r["allowed"] is True
        r = client.get("/authz/permissions?permission=trips:write", headers=headers).json()
        assert r["allowed"] is False


class TestRoles:
    def test_an_admin_creates_a_role_that_inherits(self, client, call, platform):
        admin, headers = signed_up(client)
        grant(call, platform, admin["id"], "admin")
        name = f"auditor_{uuid.uuid4().hex[:6]}"
        r = client.post("/authz/roles", headers=headers,
                        json={"name": name, "permissions": ["ledger:read"], "inherits": ["support"]})
        assert r.status_code == 201, r.text
        user, user_headers = signed_up(client)
        r = client.put(f"/authz/users/{user['id']}/roles", headers=headers, json={"roles": [name]})
        assert r.status_code == 200
        platform.runtime.forget_permissions(uuid.UUID(user["id"]))
        perms = client.get("/authz/permissions", headers=user_headers).json()
        assert perms["roles"] == [name]
        assert {"ledger:read", "users:read:any", "users:read"} <= set(perms["permissions"])  # inherited twice

    def test_bad_roles_are_refused(self, client, call, platform):
        admin, headers = signed_up(client)
        grant(call, platform, admin["id"], "admin")
        assert client.post("/authz/roles", headers=headers, json={"name": "x y"}).status_code == 422
        assert client.post("/authz/roles", headers=headers, json={"name": "sender"}).status_code == 409
        r = client.post("/authz/roles", headers=headers, json={"name": "orphan_role", "inherits": ["nope"]})
        assert r.status_code == 422 and r.json()["code"] == "authz.unknown_role"
        r = client.post("/authz/roles", headers=headers, json={"name": "bad_perm", "permissions": ["DROP TABLE"]})
        assert r.status_code == 422

    def test_a_sender_can_neither_create_roles_nor_assign_them(self, client):
        user, headers = signed_up(client)
        assert client.post("/authz/roles", headers=headers, json={"name": "mine"}).status_code == 403
        r = client.put(f"/authz/users/{user['id']}/roles", headers=headers, json={"roles": ["admin"]})
        assert r.status_code == 403
        assert client.get("/authz/permissions", headers=headers).json()["roles"] == ["member", "sender"]

    def test_support_cannot_grant_admin(self, client, call, platform):
        agent, headers = signed_up(client)
        custom = f"assigner_{uuid.uuid4().hex[:6]}"
        admin, admin_headers = signed_up(client)
        grant(call, platform, admin["id"], "admin")
        r = client.post("/authz/roles", headers=admin_headers,
                        json={"name": custom, "permissions": ["roles:assign"], "inherits": ["support"]})
        assert r.status_code == 201
        grant(call, platform, agent["id"], custom)
        victim = register(client)
        r = client.put(f"/authz/users/{victim['id']}/roles", headers=headers, json={"roles": ["admin"]})
        assert r.status_code == 403 and r.json()["code"] == "authz.privilege_escalation"
        r = client.put(f"/authz/users/{victim['id']}/roles", headers=headers, json={"roles": ["member"]})
        assert r.status_code == 200


class TestApiKeys:
    def test_a_key_is_shown_once_and_stored_hashed(self, client, call, platform):
        from sqlalchemy import select

        from storage.models.authz import ApiKey

        _, headers = signed_up(client)
        r = client.post("/authz/api-keys", headers=headers, json={"name": "ci", "scopes": ["users:read"]})
        assert r.status_code == 201
        key = r.json()["key"]
        assert key.startswith("p2pk_" + r.json()["prefix"])
        listed = client.get("/authz/api-keys", headers=headers).json()
        assert [k["prefix"] for k in listed] == [r.json()["prefix"]] and "key" not in listed[0]

        async def stored():
            async with platform.runtime.services["authz"].uow(read=True) as uow:
                return await uow.scalar(select(ApiKey.key_hash).where(ApiKey.prefix == r.json()["prefix"]))

        assert key not in call(stored) and len(call(stored)) == 64

    def test_a_key_works_on_another_service_within_its_scopes(self, client):
        user, headers = signed_up(client)
        created = client.post("/authz/api-keys", headers=headers, json={"name": "read", "scopes": ["users:read"]})
        key = created.json()["key"]
        assert client.get(f"/users/{user['id']}", headers={"X-API-Key": key}).status_code == 200
        assert client.get(f"/users/{user['id']}", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        r = client.put(f"/users/{user['id']}", headers={"X-API-Key": key}, json={"bio": "x"})
        assert r.status_code == 403 and r.json()["data"]["permission"] == "users:write"

    def test_scopes_beyond_ones_own_permissions_are_refused(self, client):
        _, headers = signed_up(client)
        r = client.post("/authz/api-keys", headers=headers, json={"name": "evil", "scopes": ["users:read:any"]})
        assert r.status_code == 403 and r.json()["code"] == "authz.privilege_escalation"
        assert client.get("/authz/api-keys", headers=headers).json() == []

    def test_a_revoked_key_stops_at_once(self, client):
        user, headers = signed_up(client)
        created = client.post("/authz/api-keys", headers=headers, json={"name": "tmp", "scopes": ["users:read"]}).json()
        assert client.get(f"/users/{user['id']}", headers={"X-API-Key": created["key"]}).status_code == 200
        assert client.delete(f"/authz/api-keys/{created['id']}", headers=headers).status_code == 204
        r = client.get(f"/users/{user['id']}", headers={"X-API-Key": created["key"]})
        assert r.status_code == 401 and r.json()["code"] == "auth.invalid_api_key"

    def test_someone_elses_key_cannot_be_revoked(self, client):
        _, ann = signed_up(client)
        _, bob = signed_up(client)
        created = client.post("/authz/api-keys", headers=ann, json={"name": "a", "scopes": ["users:read"]}).json()
        assert client.delete(f"/authz/api-keys/{created['id']}", headers=bob).status_code == 404
        assert client.get("/authz/api-keys", headers=ann).json()[0]["revoked_at"] is None

    def test_a_made_up_key_is_refused(self, client):
        user = register(client)
        for key in ["p2pk_deadbeef_nope", "p2pk_", "nonsense"]:
            assert client.get(f"/users/{user['id']}", headers={"X-API-Key": key}).status_code == 401


class TestSeededRoles:
    def test_each_role_holds_what_the_services_grant_it(self, client, call, platform):
        for role in ("sender", "traveler", "courier", "support", "compliance"):
            user, headers = signed_up(client)
            grant(call, platform, user["id"], role)
            held = set(client.get("/authz/permissions", headers=headers).json()["permissions"])
            granted = {p for spec in platform.runtime.registry.values() for p in spec.grants.get(role, ())}
            assert granted and granted <= held, role

    def test_a_role_holds_exactly_what_the_specs_grant_it(self):
        from deployments.authz.roles import seeded_roles

        roles = seeded_roles({"bookings": SimpleNamespace(key="bookings", grants={"sender": ("bookings:read",)})})
        _, sender, inherits = roles["sender"]
        assert "bookings:read" in sender and "bookings:write" not in sender
        assert sender == ["bookings:read"]  # nothing granted by a service that is not registered
        assert inherits == ["member"] and roles["admin"][1] == ["*"] and roles["member"][2] == []

    def test_a_grant_to_a_role_that_is_not_a_system_role_fails_the_startup(self):
        from deployments.authz.roles import seeded_roles

        with pytest.raises(ValueError, match="pilot"):
            seeded_roles({"flights": SimpleNamespace(key="flights", grants={"pilot": ("flights:read",)})})

    def test_startup_brings_a_changed_system_role_back(self, call, platform):
        from storage.models.authz import Role

        authz = platform.runtime.services["authz"]

        async def set_courier(perms: list[str] | None) -> list[str]:
            async with authz.uow() as uow:
                role = await uow.repo(Role).get_or_404("courier")
                if perms is not None:
                    role.permissions = perms
                return list(role.permissions)

        call(set_courier, [])
        call(authz.startup)
        assert {"couriers:manage", "vehicles:write", "bookings:confirm"} <= set(call(set_courier, None))
