"""TOTP (RFC 6238) factors and login challenges, inside the caller's unit of work: enrol a
factor, confirm it with a first code, open a challenge at login and answer it. A code is
accepted once (one 30 s step of clock drift either way)."""
from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pyotp
import segno

from deployments.auth.errors import InvalidMfaCode, MfaAlreadyEnabled
from deployments.auth.events import MfaEnabled
from deployments.auth.schemas import MfaEnrollment, MfaVerified
from p2p.errors import NotFound
from p2p.vocab import UserId
from storage.db import utcnow
from storage.models.authn import AuthIdentity, MfaChallenge, MfaFactor

ISSUER = "P2P Delivery"
MAX_ATTEMPTS = 5  # per challenge


async def verified_factor(uow, user_id: UserId) -> MfaFactor | None:
    return await uow.repo(MfaFactor).find(MfaFactor.verified_at.is_not(None), user_id=user_id)


async def enroll(uow, user_id: UserId) -> MfaEnrollment:
    if await verified_factor(uow, user_id):
        raise MfaAlreadyEnabled("TOTP is already on for this account.")
    identity = await uow.repo(AuthIdentity).get(user_id)
    factor = uow.add(MfaFactor(id=uuid.uuid4(), user_id=user_id, secret=pyotp.random_base32()))
    uri = pyotp.TOTP(factor.secret).provisioning_uri(name=identity.email if identity else str(user_id),
                                                     issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4).encode()
    return MfaEnrollment(factor_id=factor.id, secret=factor.secret, otpauth_uri=uri,
                         qr_svg_base64=base64.b64encode(svg).decode())


async def confirm(uow, user_id: UserId, factor_id: uuid.UUID, code: str) -> MfaVerified:
    factor = await uow.repo(MfaFactor).get(factor_id)
    if factor is None or factor.user_id != user_id:
        raise NotFound("No such MFA factor.", id=str(factor_id))
    if not accept(factor, code):
        raise InvalidMfaCode("The code is wrong or was used already.")
    factor.verified_at = utcnow()
    uow.emit(MfaEnabled(user_id=user_id, factor_id=factor.id), entity_id=user_id)
    return MfaVerified(factor_id=factor.id)


async def challenge(uow, user_id: UserId, device_name: str, user_agent: str | None, ip: str | None,
                    ttl_s: int) -> MfaChallenge:
    ch = uow.add(MfaChallenge(user_id=user_id, device_name=device_name, user_agent=user_agent, ip=ip,
                              expires_at=utcnow() + timedelta(seconds=ttl_s)))
    await uow.flush()
    return ch


async def answer(uow, challenge_id: uuid.UUID, code: str) -> MfaChallenge | None:
    """The challenge, completed, if `code` answers it; None if the code is wrong (the attempt
    counts once the unit of work commits)."""
    ch = await uow.repo(MfaChallenge).get(challenge_id)
    if ch is None or ch.completed_at is not None or ch.expires_at <= utcnow() or ch.attempts >= MAX_ATTEMPTS:
        raise InvalidMfaCode("The challenge is over; log in again.")
    ch.attempts += 1
    if not accept(await verified_factor(uow, ch.user_id), code):
        return None
    ch.completed_at = utcnow()
    return ch


def accept(factor: MfaFactor | None, code: str) -> bool:
    """Whether `code` is the factor's current code and newer than the last one accepted; if
    so it is recorded, so it cannot be replayed."""
    if factor is None:
        return False
    totp = pyotp.TOTP(factor.secret)
    now = utcnow().timestamp()
    for drift in (0, -1, 1):
        step = int(now // totp.interval) + drift
        if totp.at(step * totp.interval) == code:
            if factor.last_used_step is not None and step <= factor.last_used_step:
                return False  # replayed
            factor.last_used_step = step
            return True
    return False
