"""The Authorization Service's events."""
from __future__ import annotations

import uuid
from typing import ClassVar

from p2p.events import DomainEvent
from p2p.vocab import UserId


class RoleCreated(DomainEvent):
    topic: ClassVar[str] = "role.created"
    name: str


class UserRolesChanged(DomainEvent):
    topic: ClassVar[str] = "user.roles_changed"
    user_id: UserId
    roles: list[str]


class ApiKeyCreated(DomainEvent):
    topic: ClassVar[str] = "api_key.created"
    user_id: UserId
    prefix: str
    api_key_id: uuid.UUID | None = None


class ApiKeyRevoked(DomainEvent):
    topic: ClassVar[str] = "api_key.revoked"
    user_id: UserId
    api_key_id: uuid.UUID | None = None
