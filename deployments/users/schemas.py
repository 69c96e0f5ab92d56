"""The User Service's request and response schemas."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, EmailStr, Field, field_validator

from deployments.kit import Schema
from p2p.money import CountryCode, Currency
from p2p.vocab import UserId
from storage.models.users import User

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _phone(v: str) -> str:
    if not E164.match(v):
        raise ValueError("phone must be E.164: + then 7-15 digits")
    return v


Phone = Annotated[str, AfterValidator(_phone), Field(description="E.164, e.g. +447700900123")]


class UserCreate(Schema):
    email: EmailStr
    password: str = Field(min_length=10, max_length=128)
    display_name: str = Field(min_length=1, max_length=80)
    phone: Phone | None = None
    country: CountryCode | None = None


class UserUpdate(Schema):
    """Only these fields; role, status and email are not changed here."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    bio: str | None = Field(default=None, max_length=500)
    phone: Phone | None = None
    country: CountryCode | None = None
    avatar_url: str | None = Field(default=None, max_length=500, pattern=r"^https://")


class UserOut(Schema):
    """The public profile; `email`, `phone` and `status` only for the user and admins."""

    id: UserId
    display_name: str
    bio: str | None = None
    country: CountryCode | None = None
    avatar_url: str | None = None
    created_at: datetime
    email: str | None = None
    phone: str | None = None
    status: str | None = None

    @classmethod
    def of(cls, user: User, *, private: bool) -> UserOut:
        out = cls.model_validate(user)
        return out if private else out.model_copy(update=dict.fromkeys(("email", "phone", "status")))


class UserStatsOut(Schema):
    user_id: UserId
    shipments_sent: int
    trips_completed: int
    deliveries_completed: int
    rating_average: float | None
    rating_count: int
    last_active_at: datetime | None


class SettingsIn(Schema):
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    timezone: str | None = None
    currency: Currency | None = None
    notifications: dict[str, bool] | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        try:
            if v is not None:
                ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone") from None
        return v


class SettingsOut(Schema):
    user_id: UserId
    language: str
    timezone: str
    currency: str
    notifications: dict[str, Any]


class Account(Schema):
    id: UserId
    email: str
    status: str
