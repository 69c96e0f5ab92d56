"""The Authorization Service's request and response schemas."""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import Field, field_validator

from deployments.kit import Schema
from p2p.vocab import UserId

PERMISSION = re.compile(r"^(\*|[a-z_]+(:[a-z_]+)*(:\*)?)$")


class RoleCreate(Schema):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    description: str = Field(default="", max_length=200)
    permissions: list[str] = Field(default_factory=list, max_length=200)
    inherits: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("permissions")
    @classmethod
    def _perms(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if not PERMISSION.match(p)]
        if bad:
            raise ValueError(f"malformed permissions: {bad}")
        return sorted(set(v))


class RoleOut(Schema):
    name: str
    description: str
    permissions: list[str]
    inherits: list[str]
    system: bool


class RolesAssign(Schema):
    roles: list[str] = Field(max_length=20)


class UserRolesOut(Schema):
    user_id: UserId
    roles: list[str]


class PermissionsOut(Schema):
    user_id: UserId
    roles: list[str]
    permissions: list[str]
    permission: str | None = None
    allowed: bool | None = None


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=80)
    scopes: list[str] = Field(min_length=1, max_length=50)
    expires_in_days: int | None = Field(default=None, ge=1, le=730)


class ApiKeyOut(Schema):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyWithSecret(ApiKeyOut):
    key: str = Field(description="Shown once; only its hash is stored.")
