"""Authentication Service (spec 1.2): login, rotating refresh tokens with reuse detection,
sessions and devices, TOTP MFA, brute-force limits. The only holder of the signing keys.

Login starts from the User Service's account (by email) and reads the identity by the
account's id: an identity left by a registration whose user insert failed has no account,
so it can never be logged into."""
from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from deployments.auth import mfa
from deployments.auth.accounts import AccountDirectory
from deployments.auth.errors import InvalidMfaCode, InvalidRefresh, RefreshReused
from deployments.auth.events import MfaEnabled, SessionRevoked
from deployments.auth.limits import LoginLimits
from deployments.auth.schemas import (
    DeviceOut,
    LoginIn,
    MfaEnrollment,
    MfaVerified,
    MfaVerifyIn,
    RefreshIn,
    SessionId,
    SessionOut,
    TokenPair,
)
from deployments.auth.tokens import Tokens, signing_key
from deployments.kit import Ctx, Limit, Page, Service, ServiceSpec, internal, op, uses
from deployments.kit.auth import revoked_session_key
from deployments.kit.ports import Platform
from p2p.errors import BadRequest, NotFound
from p2p.security import burn_password_check, sha256, verify_password
from p2p.vocab import UserId
from storage.db import utcnow
from storage.models.authn import AuthIdentity, Device, RefreshToken, Session, SigningKey


class Auth(Service):
    users = uses(AccountDirectory, "users")
    tokens: Tokens  # from startup, which loads the signing key

    def __init__(self, runtime: Platform):
        super().__init__(runtime)
        self.limits = LoginLimits(self.kv, self.settings)

    async def startup(self) -> None:
        async with self.uow() as uow:
            self.tokens = Tokens(self.settings, await signing_key(uow))

    @op("POST /auth/login", public=True)
    async def login(self, ctx: Ctx, body: LoginIn) -> TokenPair:
        """Password login. Answers tokens, or `mfa_required` with a challenge when TOTP is on.
        Failures count per account and per address; past the limit the answer is 429."""
        email = body.email.lower()
        await self.limits.check(ctx.ip, email)
        account = await self.users.account_by_email(email)
        async with self.uow(read=True) as uow:
            ident = await uow.repo(AuthIdentity).get(account.id) if account else None
        if account is None or ident is None or account.status != "active":
            burn_password_check(body.password)
            await self.limits.failed(email)
        elif not verify_password(ident.password_hash, body.password):
            await self.limits.failed(email)
        await self.limits.succeeded(email)
        async with self.uow() as uow:
            if await mfa.verified_factor(uow, account.id) is not None:
                ch = await mfa.challenge(uow, account.id, body.device_name, ctx.user_agent, ctx.ip,
                                         self.settings.mfa_challenge_ttl_s)
                return TokenPair(status="mfa_required", challenge_id=ch.id, user_id=account.id)
            pair = await self.tokens.open_session(uow, account.id, body.device_name, ctx.user_agent, ctx.ip, mfa=False)
        await self.users.touch(account.id)
        return pair

    @op("POST /auth/refresh", public=True)
    async def refresh(self, ctx: Ctx, body: RefreshIn) -> TokenPair:
        """Trade a refresh token for a new pair. Each refresh token works once: presenting a
        used one again revokes its whole session (someone copied it)."""
        async with self.uow() as uow:
            rt = await uow.repo(RefreshToken).find(token_hash=sha256(body.refresh_token))
            if rt is None:
                raise InvalidRefresh("Unknown refresh token.")
            session = await uow.repo(Session).get(rt.session_id)
            if session is None or session.revoked_at is not None or session.expires_at <= utcnow():
                raise InvalidRefresh("The session is over; log in again.")
            # Claim the token with a conditional UPDATE: of two concurrent refreshes, one wins.
            claimed = await uow.session.execute(
                update(RefreshToken).where(RefreshToken.id == rt.id, RefreshToken.used_at.is_(None))
                .values(used_at=utcnow()))
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                session.last_used_at = utcnow()
                return self.tokens.pair(uow, session)
        await self._revoke(session.id, reason="refresh_reuse")
        raise RefreshReused("This refresh token was used before; the session is revoked.")

    @op("POST /auth/logout", status=204)
    async def logout(self, ctx: Ctx) -> None:
        """End the caller's session: its refresh token stops at once, its access tokens too."""
        if ctx.principal is None or ctx.principal.session_id is None:
            raise BadRequest("API keys have no session; revoke the key instead.")
        await self._revoke(ctx.principal.session_id, reason="logout")

    async def _revoke(self, session_id: SessionId, *, reason: str) -> None:
        async with self.uow() as uow:
            s = await uow.repo(Session).get(session_id)
            if s is None or s.revoked_at is not None:
                return
            s.revoked_at, s.revoked_reason = utcnow(), reason
            uow.emit(SessionRevoked(session_id=s.id, user_id=s.user_id, reason=reason), entity_id=s.id)
        await self.kv.set(revoked_session_key(session_id), reason.encode(), ttl=self.settings.access_token_ttl_s + 60)

    @op("POST /auth/mfa/enroll", status=201)
    async def enroll_mfa(self, ctx: Ctx) -> MfaEnrollment:
        """Start TOTP enrolment: scan the QR code, then confirm with /auth/mfa/verify and the factor id."""
        async with self.uow() as uow:
            return await mfa.enroll(uow, ctx.user_id)

    @op("POST /auth/mfa/verify", public=True)
    async def verify_mfa(self, ctx: Ctx, body: MfaVerifyIn) -> TokenPair | MfaVerified:
        """With `challenge_id`: finish an MFA login and get tokens. With `factor_id` (signed
        in): confirm a new TOTP factor. A code works once."""
        if (body.challenge_id is None) == (body.factor_id is None):
            raise BadRequest("Send exactly one of challenge_id and factor_id.")
        async with self.uow() as uow:
            if body.factor_id is not None:
                return await mfa.confirm(uow, ctx.user_id, body.factor_id, body.code)
            ch = await mfa.answer(uow, body.challenge_id, body.code)
            if ch is not None:
                return await self.tokens.open_session(uow, ch.user_id, ch.device_name, ch.user_agent, ch.ip, mfa=True)
        raise InvalidMfaCode("The code is wrong or was used already.")  # after the commit: the attempt counts

    @op("GET /auth/sessions")
    async def sessions(self, ctx: Ctx, limit: Limit = 20, cursor: str | None = None,
                       user_id: UserId | None = None) -> Page[SessionOut]:
        """Active sessions of the caller (or of `user_id`, with sessions:read:any)."""
        owner = user_id or ctx.user_id
        await self.require_self_or(ctx, owner, "sessions:read:any", what="user")
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.repo(Session).page(
                Session.revoked_at.is_(None), Session.expires_at > utcnow(), user_id=owner, limit=limit,
                cursor=cursor, stmt=select(Session).options(joinedload(Session.device)))
        current = ctx.principal.session_id if ctx.principal else None
        return Page(items=[SessionOut.model_validate(s).model_copy(update={"current": s.id == current})
                           for s in rows], next_cursor=nxt)

    @op("DELETE /auth/sessions/{id}", status=204)
    async def revoke_session(self, ctx: Ctx, id: SessionId) -> None:
        """Revoke one of one's sessions (anyone's, with sessions:manage:any)."""
        async with self.uow(read=True) as uow:
            s = await uow.repo(Session).get(id)
        if s is None or s.revoked_at is not None:
            raise NotFound("No such session.", id=str(id))
        await self.require_self_or(ctx, s.user_id, "sessions:manage:any", what="session")
        await self._revoke(id, reason="revoked")

    @op("GET /auth/devices")
    async def devices(self, ctx: Ctx) -> list[DeviceOut]:
        """The caller's devices that still have a live session."""
        live = select(Session.device_id).where(Session.revoked_at.is_(None), Session.expires_at > utcnow())
        async with self.uow(read=True) as uow:
            rows = await uow.repo(Device).list(Device.id.in_(live), user_id=ctx.user_id)
        return [DeviceOut.model_validate(d) for d in rows]

    @op("DELETE /auth/devices/{id}", status=204)
    async def revoke_device(self, ctx: Ctx, id: uuid.UUID) -> None:
        """Sign a device out: every session on it is revoked."""
        async with self.uow(read=True) as uow:
            d = await uow.repo(Device).get(id)
            if d is None or d.user_id != ctx.user_id:
                raise NotFound("No such device.", id=str(id))
            live = await uow.repo(Session).list(Session.revoked_at.is_(None), device_id=id)
        for s in live:
            await self._revoke(s.id, reason="device_revoked")

    @internal
    async def jwks(self) -> list[dict]:
        async with self.uow(read=True) as uow:
            keys = await uow.repo(SigningKey).list(SigningKey.retired_at.is_(None), order_by=SigningKey.created_at)
        return [{"kid": k.kid, "public_pem": k.public_pem} for k in keys]

    @internal
    async def create_identity(self, user_id: UserId, email: str, password_hash: str) -> None:
        async with self.uow() as uow:
            if not await uow.repo(AuthIdentity).exists(user_id=user_id):
                uow.add(AuthIdentity(user_id=user_id, email=email, password_hash=password_hash))

    @internal
    async def delete_identity(self, user_id: UserId) -> None:
        async with self.uow() as uow:
            await uow.repo(AuthIdentity).delete_where(user_id=user_id)


SPEC = ServiceSpec("Authentication Service", key="auth", prefix="/auth", service=Auth, models="storage.models.authn",
                   emits=(SessionRevoked, MfaEnabled),
                   grants={"support": ("sessions:read:any", "sessions:manage:any")})
