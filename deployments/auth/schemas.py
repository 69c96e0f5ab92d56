"""The Authentication Service's request and response schemas."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from deployments.kit import Schema
from p2p.vocab import UserId

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
    user_id: UserId | None = None
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
