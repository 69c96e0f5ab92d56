"""QR Code Service over HTTP and directly, against a fake `handoffs` service answering
`qr_subject`, so each code's subject (step, scanner, expiry) is set by the test. With real
handoff steps the codes are exercised in tests/deployments/test_custody_walk.py."""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from deployments.kit import Ctx, Principal, Service, ServiceSpec, internal
from deployments.qr import SPEC as QR_SPEC
from deployments.qr import QrSubject
from p2p.errors import Forbidden, NotFound
from storage.db import sync_url, utcnow
from storage.models.qr import QrScanAttempt
from tests.factories.common import portal_call, problem, wait_past
from tests.factories.identity import signed_up

STEPS: dict = {}


class FakeHandoffs(Service):
    @internal
    async def qr_subject(self, step_id, user_id, kind):
        s = STEPS.get(step_id)
        if s is None:
            raise NotFound("No such step.")
        if s["giver"] != user_id:
            raise Forbidden("Not the giver.")
        return QrSubject(step_id=step_id, shipment_id=s["shp"], package_id=s["pkg"], seq=0, kind=kind,
                         scanner_role="traveler", scanner_id=s["receiver"], not_after=utcnow() + timedelta(days=3))


FAKE = ServiceSpec("Fake Handoff Service", key="handoffs", prefix="/fake-handoffs", service=FakeHandoffs,
                   models="storage.models.handoffs")


@pytest.fixture(scope="module")
def qr(settings):
    from fastapi.testclient import TestClient

    from deployments.kit.http import build_app
    from deployments.kit.runtime import Runtime
    from deployments.registry import REGISTRY

    registry = {**REGISTRY, "qr": QR_SPEC, "handoffs": FAKE}
    rt = Runtime(registry, local=list(registry), settings=settings, topology="compact")
    with TestClient(build_app(rt, [s for s in registry.values() if s is not FAKE])) as c:
        yield SimpleNamespace(client=c, rt=rt, svc=rt.services["qr"], call=portal_call(c))


def step(qr):
    """A step: giver and receiver signed up; (step id, giver, receiver) with headers."""
    (g, gh), (r, rh) = signed_up(qr.client), signed_up(qr.client)
    sid = uuid.uuid4()
    STEPS[sid] = {"giver": uuid.UUID(g["id"]), "receiver": uuid.UUID(r["id"]), "shp": uuid.uuid4(),
                  "pkg": uuid.uuid4()}
    return sid, (g, gh), (r, rh)


def gen(qr, sid, gh, kind="handoff"):
    r = qr.client.post("/qr/generate", json={"handoff_id": str(sid), "kind": kind}, headers=gh)
    assert r.status_code == 201, r.text
    return r.json()


def validate(qr, payload, sid, h):
    return qr.client.post("/qr/validate", json={"payload": payload, "handoff_id": str(sid), "lat": 51.5,
                                               "lon": -0.1}, headers=h)


def ctx(user) -> Ctx:
    return Ctx(principal=Principal(user_id=uuid.UUID(user["id"])))


class TestGenerate:
    def test_the_giver_generates_a_signed_code_and_a_new_one_revokes_the_old(self, qr):
        sid, (g, gh), (_, rh) = step(qr)
        first = gen(qr, sid, gh)
        assert first["status"] == "active" and first["payload"].startswith("P2Q1.")
        second = gen(qr, sid, gh)
        assert qr.client.get(f"/qr/{first['id']}", headers=gh).json()["status"] == "revoked"
        assert gen(qr, sid, gh, "package")["status"] == "active"
        assert second["status"] == "active"
        problem(qr.client.post("/qr/generate", json={"handoff_id": str(sid), "kind": "handoff"}, headers=rh),
                403, "auth.forbidden")


class TestGet:
    def test_issuer_and_scanner_see_it_others_get_a_404_and_images_render(self, qr):
        sid, (_, gh), (_, rh) = step(qr)
        code = gen(qr, sid, gh)
        mine = qr.client.get(f"/qr/{code['id']}", headers=gh).json()
        assert mine["payload"] == code["payload"] and mine["attempts"] == 0
        assert qr.client.get(f"/qr/{code['id']}", headers=rh).json()["payload"] is None
        _, oh = signed_up(qr.client)
        problem(qr.client.get(f"/qr/{code['id']}", headers=oh), 404, "qr.not_found")
        png = qr.client.get(f"/qr/{code['id']}", params={"format": "png"}, headers=gh)
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
        svg = qr.client.get(f"/qr/{code['id']}?format=svg", headers=gh)
        assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content


class TestExpire:
    def test_a_code_expired_by_hand_is_revoked_when_scanned(self, qr):
        sid, (_, gh), (_, rh) = step(qr)
        code = gen(qr, sid, gh)
        problem(qr.client.put(f"/qr/{code['id']}/expire", json={}, headers=rh), 404, "qr.not_found")
        r = qr.client.put(f"/qr/{code['id']}/expire", json={"reason": "lost_phone"}, headers=gh)
        assert r.status_code == 200 and r.json()["status"] == "revoked"
        assert qr.client.put(f"/qr/{code['id']}/expire", json={}, headers=gh).json()["status"] == "revoked"
        problem(validate(qr, code["payload"], sid, rh), 410, "qr.revoked")

    def test_a_used_code_cannot_be_expired(self, qr):
        sid, (_, gh), (_, rh) = step(qr)
        code = gen(qr, sid, gh)
        assert validate(qr, code["payload"], sid, rh).status_code == 200
        problem(qr.client.put(f"/qr/{code['id']}/expire", json={}, headers=gh), 409, "qr.already_used")


class TestValidate:
    def test_a_valid_code_is_consumed_once_and_every_attempt_is_recorded(self, qr, settings):
        sid, (_, gh), (_, rh) = step(qr)
        code = gen(qr, sid, gh)
        problem(validate(qr, code["payload"], uuid.uuid4(), rh), 409, "qr.wrong_step")
        problem(validate(qr, code["payload"], sid, gh), 403, "qr.wrong_scanner")
        problem(validate(qr, code["payload"][:-2] + "AA", sid, rh), 422, "qr.forged")
        r = validate(qr, code["payload"], sid, rh)
        assert r.status_code == 200 and r.json()["outcome"] == "ok" and r.json()["qr_id"] == code["id"]
        problem(validate(qr, code["payload"], sid, rh), 409, "qr.already_used")
        with Session(create_engine(sync_url(settings.effective_database_url))) as s:
            rows = s.scalars(select(QrScanAttempt.outcome).where(QrScanAttempt.step_id == sid)).all()
        # the wrong-step attempt is recorded under the step given, not this one
        assert sorted(rows) == sorted(["qr.wrong_scanner", "qr.forged", "ok", "qr.already_used"])
        got = qr.client.get(f"/qr/{code['id']}", headers=gh).json()
        assert got["status"] == "used" and got["attempts_by_outcome"]["ok"] == 1

    def test_a_code_past_its_expiry_is_expired(self, qr, monkeypatch):
        sid, (_, gh), (_, rh) = step(qr)
        monkeypatch.setattr(qr.rt.settings, "qr_ttl_s", 1)
        code = gen(qr, sid, gh)
        wait_past(code["expires_at"])
        wait_past(utcnow() + timedelta(seconds=1))
        problem(validate(qr, code["payload"], sid, rh), 410, "qr.expired")

    def test_of_twenty_concurrent_validations_exactly_one_succeeds(self, qr, settings):
        sid, (_, gh), (r, _) = step(qr)
        code = gen(qr, sid, gh)

        async def many():
            return await asyncio.gather(*(qr.svc.validate(ctx(r), _body(code["payload"], sid))
                                          for _ in range(20)), return_exceptions=True)

        out = qr.call(many)
        assert sum(1 for x in out if not isinstance(x, BaseException)) == 1
        assert {getattr(x, "code", None) for x in out if isinstance(x, BaseException)} == {"qr.already_used"}
        with Session(create_engine(sync_url(settings.effective_database_url))) as s:
            n = s.scalar(select(func.count()).select_from(QrScanAttempt)
                         .where(QrScanAttempt.qr_id == uuid.UUID(code["id"])))
        assert n == 20


def _body(payload, sid):
    from deployments.qr.schemas import QrValidate

    return QrValidate(payload=payload, handoff_id=sid)


class TestInternals:
    def test_check_does_not_consume_and_consume_is_idempotent_per_scan(self, qr):
        sid, (_, gh), (r, _) = step(qr)
        code = gen(qr, sid, gh, "package")
        rid = uuid.UUID(r["id"])
        assert qr.call(qr.svc.check, "garbage", sid, rid).code == "qr.forged"
        c = qr.call(qr.svc.check, code["payload"], sid, rid, 1.0, 2.0)
        assert c.ok and c.code == "ok" and c.kind == "package" and str(c.qr_id) == code["id"]
        assert qr.call(qr.svc.check, code["payload"], sid, rid).ok  # still active
        scan = uuid.uuid4()
        assert qr.call(qr.svc.consume, c.qr_id, scan) is True
        assert qr.call(qr.svc.consume, c.qr_id, scan) is True
        assert qr.call(qr.svc.consume, c.qr_id, uuid.uuid4()) is False
        assert qr.call(qr.svc.check, code["payload"], sid, rid).code == "qr.already_used"

    def test_after_key_rotation_old_codes_still_validate(self, qr):
        sid, (_, gh), (r, rh) = step(qr)
        code = gen(qr, sid, gh)
        qr.call(qr.svc.rotate_key)
        assert validate(qr, code["payload"], sid, rh).status_code == 200
