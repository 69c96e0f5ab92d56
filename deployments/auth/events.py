"""The Authentication Service's events."""
from __future__ import annotations

import uuid
from typing import ClassVar

from p2p.events import DomainEvent
from p2p.vocab import UserId


class SessionRevoked(DomainEvent):
    """A session ended before it expired: logout, revocation, a signed-out device, or a
    replayed refresh token (`reason`)."""
    topic: ClassVar[str] = "session.revoked"
    session_id: uuid.UUID
    user_id: UserId
    reason: str


class MfaEnabled(DomainEvent):
    topic: ClassVar[str] = "mfa.enabled"
    user_id: UserId
    factor_id: uuid.UUID
