"""What the Authentication Service needs of the User Service, as a Protocol: the User
Service imports this package (to store identities), so this one cannot import it back."""
from __future__ import annotations

from typing import Protocol

from p2p.vocab import UserId


class Account(Protocol):
    """What login reads of a User Service account."""

    @property
    def id(self) -> UserId: ...

    @property
    def status(self) -> str: ...


class AccountDirectory(Protocol):
    """The User Service's `@internal` methods that login calls."""

    async def account_by_email(self, email: str) -> Account | None: ...

    async def touch(self, user_id: UserId) -> None: ...
