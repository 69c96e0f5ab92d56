"""The request context every operation receives: who calls, from where, under which request id."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from p2p.errors import Unauthorized


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    kind: Literal["user", "api_key", "system"] = "user"
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] | None = None  # None: the user's own permissions, unrestricted


@dataclass(frozen=True)
class Ctx:
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    principal: Principal | None = None
    ip: str | None = None
    user_agent: str | None = None

    @property
    def user_id(self) -> uuid.UUID:
        if self.principal is None:
            raise Unauthorized("This operation needs a bearer token or an API key.")
        return self.principal.user_id

    @classmethod
    def system(cls, request_id: str | None = None) -> "Ctx":
        return cls(request_id=request_id or uuid.uuid4().hex,
                   principal=Principal(user_id=uuid.UUID(int=0), kind="system"))
