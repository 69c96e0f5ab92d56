"""Authentication Service (spec 1.2): login, rotating refresh tokens with reuse detection,
sessions and devices, TOTP MFA, brute-force limits. The only holder of the signing keys."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from typing import Literal

import pyotp
import segno
from pydantic import EmailStr, Field
from sqlalchemy import select, update

from deployments.kit import Ctx, Page, Schema, Service, ServiceSpec, internal, op
from deployments.kit.auth import revoked_session_key
from deployments.kit.schemas import Limit, decode_cursor, encode_cursor
from p2p.errors import BadRequest, Conflict, NotFound, RateLimited, Unauthorized
from p2p.security import (burn_password_check, issue_access_token, new_signing_key, opaque_token, sha256,
                          verify_password)
from storage.db import utcnow
from storage.models.authn import (AuthIdentity, Device, MfaChallenge, MfaFactor, RefreshToken, Session,
                                  SigningKey)

SessionId = uuid.UUID


class LoginIn(Schema):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)
    device_name: str = Field(default="unnamed device", max_length=120)


class TokenPair(Schema):
    status: Literal["ok", "mfa_required"] = "ok"
    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"
    expires_in: int | None = None
    session_id: SessionId | None = None
    user_id: uuid.UUID | None = None
    challenge_id: uuid.UUID | None = Field(default=None, description="Send it with a TOTP code to /auth/mfa/verify")


class RefreshIn(Schema):
    refresh_token: str = Field(min_length=10, max_length=200)


class MfaVerifyIn(Schema):
    """Either `challenge_id` (finish a login) or `factor_id` (confirm an enrolment), with the code."""

    code: str = Field(pattern=r"^\d{6}$")
    challenge_id: uuid.UUID | None = None
    factor_id: uuid.UUID | None = None


class MfaEnrollment(Schema):
    factor_id: uuid.UUID
    secret: str
    otpauth_uri: str
    qr_svg_base64: str


class MfaVerified(Schema):
    factor_id: uuid.UUID
    verified: bool = True


class SessionOut(Schema):
    id: SessionId
    device_id: uuid.UUID
    device_name: str
    ip: str | None
    mfa: bool
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool = False


class DeviceOut(Schema):
    id: uuid.UUID
    name: str
    user_agent: str | None
    last_ip: str | None
    last_seen_at: datetime
    created_at: datetime


class PublicKey(Schema):
    kid: str
    public_pem: str


class InvalidCredentials(Unauthorized):
    """Email and password do not match an active account."""
    code = "auth.invalid_credentials"


class RefreshReused(Unauthorized):
    """A refresh token was presented twice: the session is revoked."""
    code = "auth.refresh_reused"


class InvalidRefresh(Unauthorized):
    """The refresh token is unknown, expired or its session revoked."""
    code = "auth.invalid_refresh"


class InvalidMfaCode(Unauthorized):
    """The TOTP code is wrong, used already, or the challenge expired."""
    code = "auth.invalid_mfa_code"


class MfaAlreadyEnabled(Conflict):
    """The account has a verified TOTP factor already."""
    code = "auth.mfa_already_enabled"


class TooManyLogins(RateLimited):
    """Too many login attempts for this account or from this address."""
    code = "auth.too_many_attempts"


class Auth(Service):
    _key: SigningKey | None = None

    async def startup(self) -> None:
        async with self.uow() as uow:
            key = await uow.scalar(select(SigningKey).where(SigningKey.active).order_by(SigningKey.created_at.desc()))
            if key is None:
                kid, private_pem, public_pem = new_signing_key()
                key = uow.add(SigningKey(kid=kid, private_pem=private_pem, public_pem=public_pem, active=True))
        self._key = key

    # -- login -------------------------------------------------------------------------
    @op("POST /auth/login", public=True)
    async def login(self, ctx: Ctx, body: LoginIn) -> TokenPair:
        """Password login. Answers tokens, or `mfa_required` with a challenge when TOTP is on.
        Failures count per account and per address; past the limit the answer is 429."""
        email = body.email.lower()
        await self._limit(f"ip:{ctx.ip}", self.settings.login_max_attempts_per_ip, count=True)
        await self._limit(f"acct:{email}", self.settings.login_max_failures_per_account, count=False)
        account = await self.calls.users.account_by_email(email)
        async with self.uow(read=True) as uow:
            ident = await uow.get(AuthIdentity, account.id) if account else None
        if ident is None or account.status != "active":
            burn_password_check(body.password)
            await self._fail(email)
        if not verify_password(ident.password_hash, body.password):
            await self._fail(email)
        await self.kv.delete(f"rl:login:acct:{email}")
        async with self.uow() as uow:
            factor = await self._verified_factor(uow, account.id)
            if factor is not None:
                ch = uow.add(MfaChallenge(user_id=account.id, device_name=body.device_name, user_agent=ctx.user_agent,
                                          ip=ctx.ip, expires_at=utcnow() + timedelta(seconds=self.settings.mfa_challenge_ttl_s)))
                await uow.flush()
                return TokenPair(status="mfa_required", challenge_id=ch.id, user_id=account.id)
            pair = await self._open_session(uow, account.id, body.device_name, ctx, mfa=False)
        await self.calls.users.touch(account.id)
        return pair

    async def _limit(self, what: str, limit: int, *, count: bool) -> None:
        key = f"rl:login:{what}"
        if count:
            n, left = await self.kv.incr(key, ttl=self.settings.login_window_s)
        else:
            raw = await self.kv.get(key)
            n, left = (int(raw), await self.kv.ttl(key) or 1) if raw else (0, 0)
        if n > limit or (not count and n >= limit):
            raise TooManyLogins("Too many login attempts; wait and try again.", retry_after=max(1, int(left)))

    async def _fail(self, email: str):
        await self.kv.incr(f"rl:login:acct:{email}", ttl=self.settings.login_window_s)
        raise InvalidCredentials("Email or password is wrong.")

    async def _verified_factor(self, uow, user_id) -> MfaFactor | None:
        return await uow.scalar(select(MfaFactor).where(MfaFactor.user_id == user_id,
                                                        MfaFactor.verified_at.is_not(None)))

    async def _open_session(self, uow, user_id, device_name: str, ctx: Ctx, *, mfa: bool,
                            user_agent: str | None = None, ip: str | None = None) -> TokenPair:
        now = utcnow()
        device = uow.add(Device(id=uuid.uuid4(), user_id=user_id, name=device_name,
                                user_agent=user_agent or ctx.user_agent, last_ip=ip or ctx.ip, last_seen_at=now))
        session = uow.add(Session(id=uuid.uuid4(), user_id=user_id, device_id=device.id, ip=ip or ctx.ip, mfa=mfa,
                                  expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_s),
                                  last_used_at=now))
        await uow.flush()
        return self._tokens(uow, session)

    def _tokens(self, uow, session: Session) -> TokenPair:
        refresh = opaque_token("rt")
        uow.add(RefreshToken(session_id=session.id, token_hash=sha256(refresh)))
        access = issue_access_token(kid=self._key.kid, private_pem=self._key.private_pem, user_id=session.user_id,
                                    session_id=session.id, ttl_s=self.settings.access_token_ttl_s, mfa=session.mfa)
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=self.settings.access_token_ttl_s,
                         session_id=session.id, user_id=session.user_id)

    # -- refresh and logout ------------------------------------------------------------
    @op("POST /auth/refresh", public=True)
    async def refresh(self, ctx: Ctx, body: RefreshIn) -> TokenPair:
        """Trade a refresh token for a new pair. Each refresh token works once: presenting a
        used one again revokes its whole session (someone copied it)."""
        reused_session = None
        async with self.uow() as uow:
            rt = await uow.scalar(select(RefreshToken).where(RefreshToken.token_hash == sha256(body.refresh_token)))
            if rt is None:
                raise InvalidRefresh("Unknown refresh token.")
            session = await uow.get(Session, rt.session_id)
            if session is None or session.revoked_at is not None or session.expires_at <= utcnow():
                raise InvalidRefresh("The session is over; log in again.")
            claimed = await uow.session.execute(
                update(RefreshToken).where(RefreshToken.id == rt.id, RefreshToken.used_at.is_(None))
                .values(used_at=utcnow()))
            if claimed.rowcount == 1:
                session.last_used_at = utcnow()
                return self._tokens(uow, session)
            reused_session = session.id
        await self._revoke(reused_session, reason="refresh_reuse")
        raise RefreshReused("This refresh token was used before; the session is revoked.")

    @op("POST /auth/logout", status=204)
    async def logout(self, ctx: Ctx) -> None:
        """End the caller's session: its refresh token stops at once, its access tokens too."""
        if ctx.principal.session_id is None:
            raise BadRequest("API keys have no session; revoke the key instead.")
        await self._revoke(ctx.principal.session_id, reason="logout")

    async def _revoke(self, session_id: SessionId, *, reason: str) -> None:
        async with self.uow() as uow:
            s = await uow.get(Session, session_id)
            if s is None or s.revoked_at is not None:
                return
            s.revoked_at, s.revoked_reason = utcnow(), reason
            uow.emit("session.revoked", s.id, {"session_id": str(s.id), "user_id": str(s.user_id), "reason": reason})
        await self.kv.set(revoked_session_key(session_id), reason.encode(), ttl=self.settings.access_token_ttl_s + 60)

    # -- MFA ---------------------------------------------------------------------------
    @op("POST /auth/mfa/enroll", status=201)
    async def enroll_mfa(self, ctx: Ctx) -> MfaEnrollment:
        """Start TOTP enrolment: scan the QR code, then confirm with /auth/mfa/verify and the factor id."""
        async with self.uow() as uow:
            if await self._verified_factor(uow, ctx.user_id):
                raise MfaAlreadyEnabled("TOTP is already on for this account.")
            secret = pyotp.random_base32()
            account = await uow.get(AuthIdentity, ctx.user_id)
            factor = uow.add(MfaFactor(id=uuid.uuid4(), user_id=ctx.user_id, secret=secret))
        uri = pyotp.TOTP(secret).provisioning_uri(name=account.email if account else str(ctx.user_id),
                                                  issuer_name="P2P Delivery")
        svg = segno.make(uri, error="m").svg_inline(scale=4).encode()
        return MfaEnrollment(factor_id=factor.id, secret=secret, otpauth_uri=uri,
                             qr_svg_base64=base64.b64encode(svg).decode())

    @op("POST /auth/mfa/verify", public=True)
    async def verify_mfa(self, ctx: Ctx, body: MfaVerifyIn) -> TokenPair | MfaVerified:
        """With `challenge_id`: finish an MFA login and get tokens. With `factor_id` (signed
        in): confirm a new TOTP factor. A code works once."""
        if (body.challenge_id is None) == (body.factor_id is None):
            raise BadRequest("Send exactly one of challenge_id and factor_id.")
        async with self.uow() as uow:
            if body.factor_id is not None:
                factor = await uow.get(MfaFactor, body.factor_id)
                if factor is None or factor.user_id != ctx.user_id:
                    raise NotFound("No such MFA factor.", id=str(body.factor_id))
                self._check_code(factor, body.code)
                factor.verified_at = utcnow()
                uow.emit("mfa.enabled", ctx.user_id, {"user_id": str(ctx.user_id), "factor_id": str(factor.id)})
                return MfaVerified(factor_id=factor.id)
            ch = await uow.get(MfaChallenge, body.challenge_id)
            if ch is None or ch.completed_at is not None or ch.expires_at <= utcnow() or ch.attempts >= 5:
                raise InvalidMfaCode("The challenge is over; log in again.")
            factor = await self._verified_factor(uow, ch.user_id)
            ch.attempts += 1
            try:
                self._check_code(factor, body.code)
            except InvalidMfaCode:
                await uow.session.commit()  # the failed attempt counts
                raise
            ch.completed_at = utcnow()
            return await self._open_session(uow, ch.user_id, ch.device_name, ctx, mfa=True,
                                            user_agent=ch.user_agent, ip=ch.ip)

    @staticmethod
    def _check_code(factor: MfaFactor | None, code: str) -> None:
        if factor is None:
            raise InvalidMfaCode("No TOTP factor.")
        totp = pyotp.TOTP(factor.secret)
        now = utcnow().timestamp()
        for drift in (0, -1, 1):
            step = int(now // totp.interval) + drift
            if totp.at(step * totp.interval) == code:
                if factor.last_used_step is not None and step <= factor.last_used_step:
                    break  # replayed code
                factor.last_used_step = step
                return
        raise InvalidMfaCode("The code is wrong or was used already.")

    # -- sessions and devices ----------------------------------------------------------
    @op("GET /auth/sessions")
    async def sessions(self, ctx: Ctx, limit: Limit = 20, cursor: str | None = None,
                       user_id: uuid.UUID | None = None) -> Page[SessionOut]:
        """Active sessions of the caller (or of `user_id`, with sessions:read:any)."""
        owner = user_id or ctx.user_id
        await self.require_self_or(ctx, owner, "sessions:read:any", what="user")
        async with self.uow(read=True) as uow:
            stmt = (select(Session).where(Session.user_id == owner, Session.revoked_at.is_(None),
                                          Session.expires_at > utcnow()))
            rows, nxt = await uow.page(stmt, Session, limit=limit, after=decode_cursor(cursor) if cursor else None)
            devices = {d.id: d for d in await uow.all(select(Device).where(Device.id.in_([r.device_id for r in rows])))}
        current = ctx.principal.session_id
        return Page(items=[SessionOut(id=s.id, device_id=s.device_id, device_name=devices[s.device_id].name,
                                      ip=s.ip, mfa=s.mfa, created_at=s.created_at, last_used_at=s.last_used_at,
                                      expires_at=s.expires_at, current=s.id == current) for s in rows],
                    next_cursor=encode_cursor(nxt) if nxt else None)

    @op("DELETE /auth/sessions/{id}", status=204)
    async def revoke_session(self, ctx: Ctx, id: SessionId) -> None:
        """Revoke one of one's sessions (anyone's, with sessions:manage:any)."""
        async with self.uow(read=True) as uow:
            s = await uow.get(Session, id)
        if s is None or s.revoked_at is not None:
            raise NotFound("No such session.", id=str(id))
        await self.require_self_or(ctx, s.user_id, "sessions:manage:any", what="session")
        await self._revoke(id, reason="revoked")

    @op("GET /auth/devices")
    async def devices(self, ctx: Ctx) -> list[DeviceOut]:
        """The caller's devices that still have a live session."""
        async with self.uow(read=True) as uow:
            rows = await uow.all(select(Device).join(Session, Session.device_id == Device.id)
                                 .where(Device.user_id == ctx.user_id, Session.revoked_at.is_(None),
                                        Session.expires_at > utcnow()).order_by(Device.created_at).distinct())
        return [DeviceOut.model_validate(d) for d in rows]

    @op("DELETE /auth/devices/{id}", status=204)
    async def revoke_device(self, ctx: Ctx, id: uuid.UUID) -> None:
        """Sign a device out: every session on it is revoked."""
        async with self.uow(read=True) as uow:
            d = await uow.get(Device, id)
            if d is None or d.user_id != ctx.user_id:
                raise NotFound("No such device.", id=str(id))
            ids = await uow.all(select(Session.id).where(Session.device_id == id, Session.revoked_at.is_(None)))
        for sid in ids:
            await self._revoke(sid, reason="device_revoked")

    # -- for other services ------------------------------------------------------------
    @internal
    async def jwks(self) -> list[dict]:
        async with self.uow(read=True) as uow:
            keys = await uow.all(select(SigningKey).where(SigningKey.retired_at.is_(None)))
        return [{"kid": k.kid, "public_pem": k.public_pem} for k in keys]

    @internal
    async def create_identity(self, user_id: uuid.UUID, email: str, password_hash: str) -> None:
        async with self.uow() as uow:
            # Keyed by user id: an identity left by a registration whose user insert failed is
            # never reached, since login starts from the User Service's account.
            if await uow.get(AuthIdentity, user_id) is None:
                uow.add(AuthIdentity(user_id=user_id, email=email, password_hash=password_hash))

    @internal
    async def delete_identity(self, user_id: uuid.UUID) -> None:
        async with self.uow() as uow:
            ident = await uow.get(AuthIdentity, user_id)
            if ident is not None:
                await uow.session.delete(ident)


SPEC = ServiceSpec("Authentication Service", key="auth", prefix="/auth", service=Auth,
                   models="storage.models.authn", calls=("users",))
