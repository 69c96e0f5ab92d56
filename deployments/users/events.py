"""The User Service's events."""
from __future__ import annotations

from typing import ClassVar

from p2p.events import DomainEvent
from p2p.vocab import UserId


class UserCreated(DomainEvent):
    topic: ClassVar[str] = "user.created"
    user_id: UserId
    email: str


class UserUpdated(DomainEvent):
    topic: ClassVar[str] = "user.updated"
    user_id: UserId
    fields: list[str]
