"""Sessions and their tokens: a short-lived access token (EdDSA JWT, signed with the newest
active key) and an opaque, single-use refresh token stored as its hash."""
from __future__ import annotations

import uuid
from datetime import timedelta

from deployments.auth.schemas import TokenPair
from p2p.security import issue_access_token, new_signing_key, opaque_token, sha256
from p2p.settings import Settings
from p2p.vocab import UserId
from storage.db import utcnow
from storage.models.authn import Device, RefreshToken, Session, SigningKey


async def signing_key(uow) -> SigningKey:
    """The newest active signing key, made on first start."""
    keys = await uow.repo(SigningKey).list(SigningKey.active, order_by=SigningKey.created_at.desc())
    if keys:
        return keys[0]
    kid, private_pem, public_pem = new_signing_key()
    return uow.add(SigningKey(kid=kid, private_pem=private_pem, public_pem=public_pem, active=True))


class Tokens:
    def __init__(self, settings: Settings, key: SigningKey):
        self.settings, self.key = settings, key

    async def open_session(self, uow, user_id: UserId, device_name: str, user_agent: str | None, ip: str | None,
                           *, mfa: bool) -> TokenPair:
        """A new device and session for a login that passed every check, and its first pair."""
        now = utcnow()
        device = uow.add(Device(id=uuid.uuid4(), user_id=user_id, name=device_name, user_agent=user_agent,
                                last_ip=ip, last_seen_at=now))
        session = uow.add(Session(id=uuid.uuid4(), user_id=user_id, device_id=device.id, ip=ip, mfa=mfa,
                                  expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_s),
                                  last_used_at=now))
        await uow.flush()
        return self.pair(uow, session)

    def pair(self, uow, session: Session) -> TokenPair:
        refresh = opaque_token("rt")
        uow.add(RefreshToken(session_id=session.id, token_hash=sha256(refresh)))
        ttl = self.settings.access_token_ttl_s
        access = issue_access_token(kid=self.key.kid, private_pem=self.key.private_pem, user_id=session.user_id,
                                    session_id=session.id, ttl_s=ttl, mfa=session.mfa)
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=ttl, session_id=session.id,
                         user_id=session.user_id)
