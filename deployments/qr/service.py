"""QR Code Service (spec 8.16): signed, single-use codes for the two scans of a handoff
step (kind `handoff`: the giver's phone; kind `package`: the label). The Handoff Service
says who may generate a code and who is to scan it (`qr_subject`); this service signs,
renders, validates and consumes. Every validation is recorded, refusals included.

Code: active -> used (consumed by one scan) | revoked (by hand, or a newer code) | expired.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone
from typing import Any, Literal, Protocol

from sqlalchemy import func, select, update

from deployments.kit import Ctx, ServiceSpec, internal, op, uses
from deployments.qr import signing
from deployments.qr.errors import QrAlreadyUsed, QrExpired, QrForged, QrNotFound, QrRevoked, QrWrongScanner, QrWrongStep
from deployments.qr.events import QR_EVENTS, QrIssued, QrUsed
from deployments.qr.events import QrRevoked as QrRevokedEvent
from deployments.qr.keys import QrKeys
from deployments.qr.render import render
from deployments.qr.schemas import QrCheck, QrDetail, QrExpire, QrGenerate, QrOut, QrSubject, QrValidate, QrValidation
from p2p.errors import ProblemError
from p2p.security import sha256
from p2p.uploads import Download
from storage.db import utcnow
from storage.models.qr import QrCode, QrScanAttempt


class HandoffDesk(Protocol):
    """What this service calls of the Handoff Service (a Protocol: it imports this one)."""

    async def qr_subject(self, step_id: uuid.UUID, user_id: uuid.UUID, kind: str) -> QrSubject: ...


def _out(row: QrCode, cls: type[QrOut] = QrOut, *, payload: bool = False, **extra: Any) -> Any:
    status = "expired" if row.status == "active" and row.expires_at <= utcnow() else row.status
    return cls.model_validate({**{c: getattr(row, c) for c in ("id", "step_id", "package_id", "shipment_id", "kind",
                                                             "scanner_role", "expires_at")},
                               "status": status, "payload": row.payload if payload else None, **extra})


class QrCodes(QrKeys):
    handoffs = uses(HandoffDesk, "handoffs")

    @op("POST /qr/generate", status=201, perm="qr:write")
    async def generate(self, ctx: Ctx, body: QrGenerate) -> QrOut:
        """Generate the signed code of a handoff step, replacing the step's active code of that kind."""
        s = await self.handoffs.qr_subject(body.handoff_id, ctx.user_id, body.kind)
        s = s if isinstance(s, QrSubject) else QrSubject.model_validate(s, from_attributes=True)
        key = await self._signing_key()
        exp = int(min(utcnow().timestamp() + self.settings.qr_ttl_s, s.not_after.timestamp()))
        qid, nonce = uuid.uuid4(), secrets.token_hex(8)
        claims = {"v": 1, "kid": key.kid, "qid": str(qid), "stp": str(s.step_id), "pkg": str(s.package_id),
                  "shp": str(s.shipment_id), "knd": body.kind, "rol": s.scanner_role,
                  "sub": str(s.scanner_id) if s.scanner_id else None, "exp": exp, "n": nonce}
        payload = signing.sign(claims, key.private_pem)
        async with self.uow() as uow:
            for old in await uow.all(select(QrCode).where(QrCode.step_id == s.step_id, QrCode.kind == body.kind,
                                                          QrCode.status == "active")):
                old.status, old.reason = "revoked", "superseded"
                uow.emit(QrRevokedEvent(qr_id=old.id, step_id=old.step_id, kind=old.kind, reason="superseded"),
                         entity_id=old.id)
            await uow.flush()
            row = uow.add(QrCode(id=qid, step_id=s.step_id, shipment_id=s.shipment_id, package_id=s.package_id,
                                 kind=body.kind, scanner_role=s.scanner_role, scanner_id=s.scanner_id,
                                 issued_by=ctx.user_id, kid=key.kid, nonce=nonce, payload=payload,
                                 payload_sha256=sha256(payload), status="active",
                                 expires_at=datetime.fromtimestamp(exp, timezone.utc)))
            uow.emit(QrIssued(qr_id=qid, step_id=s.step_id, shipment_id=s.shipment_id, package_id=s.package_id,
                              kind=body.kind, issued_by=ctx.user_id, expires_at=row.expires_at), entity_id=qid)
            return _out(row, payload=True)

    @op("GET /qr/{id}", perm="qr:read", files=("image/png", "image/svg+xml"))
    async def get(self, ctx: Ctx, id: uuid.UUID, format: Literal["json", "png", "svg"] = "json") -> QrDetail | Download:
        """A code, for its issuer and its expected scanner; its issuer may have it as a PNG or SVG image."""
        async with self.uow(read=True) as uow:
            row = await uow.get(QrCode, id)
            counts = dict((await uow.session.execute(
                select(QrScanAttempt.outcome, func.count()).where(QrScanAttempt.qr_id == id)
                .group_by(QrScanAttempt.outcome))).tuples().all())
        mine = row is not None and row.issued_by == ctx.user_id
        if row is None or not (mine or row.scanner_id == ctx.user_id or await self.can(ctx, "qr:read:any")):
            raise QrNotFound("No such code.", id=str(id))
        if format != "json":
            if not mine:
                raise QrNotFound("Only its issuer has a code's image.", id=str(id))
            kind = "image/png" if format == "png" else "image/svg+xml"
            return Download(render(row.payload, format), kind, f"qr-{id}.{format}")
        return _out(row, QrDetail, payload=mine, attempts=sum(counts.values()), attempts_by_outcome=counts)

    @op("PUT /qr/{id}/expire", perm="qr:write")
    async def expire(self, ctx: Ctx, id: uuid.UUID, body: QrExpire) -> QrOut:
        """Expire a code by hand (its issuer, or support); expiring twice answers the same."""
        can_any = await self.can(ctx, "qr:expire:any")
        async with self.uow() as uow:
            row = await uow.get(QrCode, id)
            if row is None or not (row.issued_by == ctx.user_id or can_any):
                raise QrNotFound("No such code.", id=str(id))
            if row.status == "used":
                raise QrAlreadyUsed("A used code cannot be expired.", id=str(id))
            if row.status == "active":
                row.status, row.reason = "revoked", body.reason
                uow.emit(QrRevokedEvent(qr_id=id, step_id=row.step_id, kind=row.kind, reason=body.reason), entity_id=id)
            return _out(row, payload=row.issued_by == ctx.user_id)

    @op("POST /qr/validate", perm="qr:write")
    async def validate(self, ctx: Ctx, body: QrValidate) -> QrValidation:
        """Validate a scanned code at a handoff step and consume it; every attempt is recorded."""
        row, err = await self._assess(body.payload, body.handoff_id, ctx.user_id)
        err = await self._record(body.payload, body.handoff_id, ctx.user_id, body.lat, body.lon, row, err,
                                 consume=True)
        if err is not None:
            raise err
        assert row is not None
        return QrValidation(qr_id=row.id, step_id=row.step_id, package_id=row.package_id,
                            shipment_id=row.shipment_id, kind=row.kind)  # type: ignore[arg-type]

    @internal
    async def check(self, payload: str, step_id: uuid.UUID, scanner_id: uuid.UUID, lat: float | None = None,
                    lon: float | None = None) -> QrCheck:
        """The validation's checks, recorded as an attempt, without consuming or raising."""
        row, err = await self._assess(payload, step_id, scanner_id)
        await self._record(payload, step_id, scanner_id, lat, lon, row, err, consume=False)
        return QrCheck(ok=err is None, code=err.code if err else "ok",
                       message=err.message if err else "The code is valid.",
                       qr_id=row.id if row else None, kind=row.kind if row else None, step_id=step_id,
                       package_id=row.package_id if row else None)

    @internal
    async def consume(self, qr_id: uuid.UUID, scan_id: uuid.UUID) -> bool:
        """Mark a code used by a scan: True if this scan uses it (again), False if another did."""
        async with self.uow() as uow:
            if await self._use(uow, qr_id, scan_id):
                return True
            row = await uow.get(QrCode, qr_id)
            return row is not None and row.status == "used" and row.used_by_scan == scan_id

    async def _use(self, uow: Any, qr_id: uuid.UUID, scan_id: uuid.UUID) -> bool:
        now = utcnow()
        res = await uow.session.execute(update(QrCode).where(QrCode.id == qr_id, QrCode.status == "active",
                                                             QrCode.expires_at > now)
                                        .values(status="used", used_at=now, used_by_scan=scan_id))
        if res.rowcount != 1:
            return False
        row = await uow.get(QrCode, qr_id)
        uow.emit(QrUsed(qr_id=qr_id, step_id=row.step_id, kind=row.kind, scan_id=scan_id), entity_id=qr_id)
        return True

    async def _assess(self, payload: str, step_id: uuid.UUID, scanner_id: uuid.UUID
                      ) -> tuple[QrCode | None, ProblemError | None]:
        """The code a payload names (None: forged) and the refusal it earns (None: valid)."""
        kid = signing.claimed_kid(payload)
        keys = await self._public_keys(kid) if kid else {}
        try:
            claims = signing.verify(payload, keys.get)
        except QrForged as exc:
            return None, exc
        async with self.uow(read=True) as uow:
            row = await uow.get(QrCode, uuid.UUID(claims["qid"]))
        if row is None or row.payload_sha256 != sha256(payload):
            return None, QrForged("The code is not genuine.")
        if row.status == "revoked":
            return row, QrRevoked("The code was expired by hand.", id=str(row.id))
        if row.status == "expired" or signing.now_s() > claims["exp"] or row.expires_at <= utcnow():
            return row, QrExpired("The code has expired.", id=str(row.id))
        if row.status == "used":
            return row, QrAlreadyUsed("The code was used already.", id=str(row.id))
        if row.step_id != step_id:
            return row, QrWrongStep("The code is for another handoff step.", id=str(row.id))
        if row.scanner_id is not None and row.scanner_id != scanner_id:
            return row, QrWrongScanner("The code is for another scanner.", id=str(row.id))
        return row, None

    async def _record(self, payload: str, step_id: uuid.UUID, scanner_id: uuid.UUID, lat: float | None,
                      lon: float | None, row: QrCode | None, err: ProblemError | None, *, consume: bool
                      ) -> ProblemError | None:
        """Record the attempt in its own transaction (consuming a valid code when asked); the final refusal."""
        attempt = uuid.uuid4()
        async with self.uow() as uow:
            if err is None and consume and row is not None and not await self._use(uow, row.id, attempt):
                err = QrAlreadyUsed("The code was used already.", id=str(row.id))
            if isinstance(err, QrExpired) and row is not None and row.status == "active":
                await uow.session.execute(update(QrCode).where(QrCode.id == row.id, QrCode.status == "active")
                                          .values(status="expired"))
            uow.add(QrScanAttempt(id=attempt, qr_id=row.id if row else None, step_id=step_id, scanner_id=scanner_id,
                                  outcome=err.code if err else "ok", lat=lat, lon=lon,
                                  payload_sha256=sha256(payload)))
        return err


SPEC = ServiceSpec("QR Code Service", key="qr", prefix="/qr", service=QrCodes, models="storage.models.qr",
                   emits=QR_EVENTS,
                   grants={"sender": ("qr:write", "qr:read"), "traveler": ("qr:write", "qr:read"),
                           "courier": ("qr:write", "qr:read"), "support": ("qr:read:any", "qr:expire:any")})
