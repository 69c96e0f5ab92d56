"""Vehicle Verification Service over HTTP: registration, updates, documents, review."""
from __future__ import annotations

import hashlib
import uuid

import pytest

from tests.factories.common import portal_call
from tests.factories.identity import signed_up, user_with
from tests.factories.places import JPEG, PDF, PNG, upload, vehicle


@pytest.fixture(scope="module")
def owner(client, platform):
    return user_with(client, portal_call(client), platform, "traveler")


@pytest.fixture(scope="module")
def reviewer(client, platform):
    return user_with(client, portal_call(client), platform, "admin")


def submitted(client, headers) -> dict:
    v = vehicle(client, headers)
    assert upload(client, headers, v["id"], "registration").status_code == 201
    r = upload(client, headers, v["id"], "insurance", PNG, "image/png", "policy.png")
    assert r.status_code == 201 and r.json()["status"] == "pending"
    return r.json()


class TestRegister:
    def test_a_vehicle_starts_unverified_with_a_normalised_plate(self, client, owner):
        user, headers = owner
        v = vehicle(client, headers, plate="ab12 cde")
        assert v["status"] == "unverified" and v["plate"] == "AB12CDE" and v["owner_id"] == user["id"]
        assert v["documents"] == []

    def test_a_bicycle_needs_no_plate_but_a_car_does(self, client, owner):
        _, headers = owner
        assert vehicle(client, headers, type="bicycle", plate=None, capacity_weight_g=10_000,
                       capacity_volume_cm3=50_000)["plate"] is None
        r = client.post("/vehicles", headers=headers, json={"type": "car", "make": "A", "model": "B",
                                                            "capacity_weight_g": 1, "capacity_volume_cm3": 1})
        assert r.status_code == 422

    @pytest.mark.parametrize("change", [{"type": "spaceship"}, {"capacity_weight_g": 0}, {"plate": "!!"},
                                        {"make": ""}, {"status": "verified"}])
    def test_bad_input_is_422(self, client, owner, change):
        _, headers = owner
        r = client.post("/vehicles", headers=headers, json={"type": "car", "plate": "X1", "make": "A", "model": "B",
                                                            "capacity_weight_g": 1, "capacity_volume_cm3": 1, **change})
        assert r.status_code == 422 and r.json()["code"] == "request.validation_failed"

    def test_capacity_is_bounded_by_the_type(self, client, owner):
        _, headers = owner
        r = client.post("/vehicles", headers=headers, json={"type": "bicycle", "make": "A", "model": "B",
                                                            "capacity_weight_g": 500_000, "capacity_volume_cm3": 1})
        assert r.status_code == 422 and r.json()["code"] == "vehicle.capacity_exceeds_type"
        assert r.json()["data"]["max_weight_g"] == 40_000

    def test_the_same_plate_twice_is_409(self, client, owner):
        _, headers = owner
        vehicle(client, headers, plate="DUP 1")  # the owner's only DUP1
        r = client.post("/vehicles", headers=headers, json={"type": "van", "plate": "dup-1", "make": "A", "model": "B",
                                                            "capacity_weight_g": 1, "capacity_volume_cm3": 1})
        assert r.status_code == 409 and r.json()["code"] == "vehicle.plate_taken"

    def test_a_plain_sender_may_not_register(self, client):
        _, headers = signed_up(client)
        r = client.post("/vehicles", headers=headers, json={"type": "car", "plate": "X1", "make": "A", "model": "B",
                                                            "capacity_weight_g": 1, "capacity_volume_cm3": 1})
        assert r.status_code == 403

    def test_the_owner_lists_their_vehicles(self, client, call, platform):
        _, headers = user_with(client, call, platform, "courier")
        made = [vehicle(client, headers, plate=f"LST{i}")["id"] for i in range(3)]
        first = client.get("/vehicles", params={"limit": 2}, headers=headers).json()
        rest = client.get("/vehicles", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()
        assert [v["id"] for v in first["items"] + rest["items"]] == made and rest["next_cursor"] is None


class TestDocuments:
    def test_registration_and_insurance_submit_the_vehicle(self, client, owner, platform):
        _, headers = owner
        v = vehicle(client, headers)
        r = upload(client, headers, v["id"], "registration")
        assert r.status_code == 201 and r.json()["status"] == "unverified"
        doc = r.json()["documents"][0]
        assert doc["sha256"] == hashlib.sha256(PDF).hexdigest() and doc["content_type"] == "application/pdf"
        assert client.portal.call(platform.runtime.blobs.get, doc["sha256"]) == PDF
        r = upload(client, headers, v["id"], "insurance", JPEG, "image/jpeg", "ins.jpg")
        assert r.status_code == 201 and r.json()["status"] == "pending"

    @pytest.mark.parametrize("data,content_type,status", [
        (b"hello", "text/plain", 415),
        (b"GIF89a....", "image/gif", 415),
        (PNG, "application/pdf", 415),        # declared type does not match the content
        (b"", "application/pdf", 415),
        (PDF + b"\0" * (10 * 1024 * 1024), "application/pdf", 413),
    ], ids=["text", "gif", "png-declared-pdf", "empty", "over-10mb"])
    def test_wrong_type_or_size_is_refused_and_changes_nothing(self, client, owner, data, content_type, status):
        _, headers = owner
        v = vehicle(client, headers)
        r = upload(client, headers, v["id"], "registration", data, content_type)
        assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
        assert client.get(f"/vehicles/{v['id']}", headers=headers).json()["documents"] == []

    def test_an_unknown_kind_is_422(self, client, owner):
        _, headers = owner
        v = vehicle(client, headers)
        r = upload(client, headers, v["id"], "selfie")
        assert r.status_code == 422 and r.json()["code"] == "request.validation_failed"

    def test_a_missing_file_is_422(self, client, owner):
        _, headers = owner
        v = vehicle(client, headers)
        r = client.post(f"/vehicles/{v['id']}/documents", data={"kind": "photo"}, headers=headers)
        assert r.status_code == 422

    def test_an_idempotency_key_replays_an_upload(self, client, owner):
        _, headers = owner
        v = vehicle(client, headers)
        h = {**headers, "Idempotency-Key": f"doc-{v['id']}"}
        first = upload(client, h, v["id"], "photo", PNG, "image/png")
        again = upload(client, h, v["id"], "photo", PNG, "image/png")
        assert first.status_code == again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        assert len(client.get(f"/vehicles/{v['id']}", headers=headers).json()["documents"]) == 1
        other = upload(client, h, v["id"], "photo", JPEG, "image/jpeg")
        assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"


class TestReview:
    def test_a_reviewer_verifies_a_pending_vehicle_and_its_capacity_becomes_usable(self, client, owner, reviewer):
        _, headers = owner
        v = submitted(client, headers)
        before = client.get(f"/vehicles/{v['id']}/capacity", headers=headers).json()
        assert before["usable"] is False and before["capacity_weight_g"] == 200_000
        r = client.post(f"/vehicles/{v['id']}/verification", json={"decision": "verified"}, headers=reviewer[1])
        assert r.status_code == 200 and r.json()["status"] == "verified"
        assert client.get(f"/vehicles/{v['id']}/capacity", headers=headers).json()["usable"] is True

    def test_a_rejection_needs_a_reason_and_new_documents_resubmit(self, client, owner, reviewer):
        _, headers = owner
        v = submitted(client, headers)
        url = f"/vehicles/{v['id']}/verification"
        assert client.post(url, json={"decision": "rejected"}, headers=reviewer[1]).status_code == 422
        r = client.post(url, json={"decision": "rejected", "reason": "Insurance expired"}, headers=reviewer[1])
        assert r.json()["status"] == "rejected" and r.json()["review_reason"] == "Insurance expired"
        assert upload(client, headers, v["id"], "insurance").json()["status"] == "pending"

    def test_only_a_pending_vehicle_is_reviewed(self, client, owner, reviewer):
        _, headers = owner
        v = vehicle(client, headers)
        r = client.post(f"/vehicles/{v['id']}/verification", json={"decision": "verified"}, headers=reviewer[1])
        assert r.status_code == 409 and r.json()["code"] == "vehicle.not_pending"

    def test_nobody_reviews_their_own_vehicle(self, client, reviewer):
        _, headers = reviewer
        v = submitted(client, headers)
        r = client.post(f"/vehicles/{v['id']}/verification", json={"decision": "verified"}, headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "vehicle.self_review"

    def test_without_vehicles_verify_the_answer_is_403(self, client, owner):
        _, headers = owner
        v = submitted(client, headers)
        _, sender = signed_up(client)
        r = client.post(f"/vehicles/{v['id']}/verification", json={"decision": "verified"}, headers=sender)
        assert r.status_code == 403


class TestUpdate:
    def test_a_new_capacity_sends_a_verified_vehicle_back_to_review(self, client, owner, reviewer):
        _, headers = owner
        v = submitted(client, headers)
        client.post(f"/vehicles/{v['id']}/verification", json={"decision": "verified"}, headers=reviewer[1])
        r = client.put(f"/vehicles/{v['id']}", json={"make": "Honda"}, headers=headers)
        assert r.json()["status"] == "verified" and r.json()["make"] == "Honda"
        r = client.put(f"/vehicles/{v['id']}", json={"capacity_weight_g": 250_000}, headers=headers)
        assert r.status_code == 200 and r.json()["status"] == "pending"
        assert client.get(f"/vehicles/{v['id']}/capacity", headers=headers).json()["usable"] is False

    def test_a_bad_update_is_refused_and_changes_nothing(self, client, owner):
        _, headers = owner
        v = vehicle(client, headers)
        for body, status in [({"capacity_weight_g": 10**9}, 422), ({"type": "van"}, 422), ({"plate": "?"}, 422)]:
            assert client.put(f"/vehicles/{v['id']}", json=body, headers=headers).status_code == status
        assert client.get(f"/vehicles/{v['id']}", headers=headers).json() == v


class TestObjectAccess:
    def test_a_plain_sender_lacks_vehicles_read_and_gets_403(self, client, owner):
        _, headers = owner
        v = vehicle(client, headers)
        _, sender = signed_up(client)
        for r in [client.get(f"/vehicles/{v['id']}", headers=sender),
                  client.get(f"/vehicles/{v['id']}/capacity", headers=sender)]:
            assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"

    def test_another_user_with_vehicle_permissions_gets_404_and_changes_nothing(self, client, call, platform, owner):
        from deployments.authz import RoleCreate
        from deployments.kit import Ctx

        _, headers = owner
        v = vehicle(client, headers)
        role = f"vehicle_owner_{uuid.uuid4().hex[:8]}"
        call(platform.runtime.services["authz"].create_role, Ctx.system(),
             RoleCreate(name=role, permissions=["vehicles:read", "vehicles:write"]))
        _, other = user_with(client, call, platform, role)
        assert client.get(f"/vehicles/{v['id']}", headers=other).status_code == 404
        assert client.get(f"/vehicles/{v['id']}/capacity", headers=other).status_code == 404
        r = client.put(f"/vehicles/{v['id']}", json={"make": "X"}, headers=other)
        assert r.status_code == 404 and r.json()["code"] == "vehicle.not_found"
        assert upload(client, other, v["id"], "photo", PNG, "image/png").status_code == 404
        assert client.get(f"/vehicles/{v['id']}", headers=headers).json() == v

    def test_support_with_read_any_sees_but_cannot_change(self, client, owner, reviewer):
        _, headers = owner
        v = vehicle(client, headers)
        assert client.get(f"/vehicles/{v['id']}", headers=reviewer[1]).json()["id"] == v["id"]
        r = client.put(f"/vehicles/{v['id']}", json={"make": "X"}, headers=reviewer[1])
        assert r.status_code == 403 and r.json()["code"] == "vehicle.not_owner"
