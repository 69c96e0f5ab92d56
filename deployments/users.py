"""User Service (spec 1.1): accounts, public and private profiles, statistics, settings."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, EmailStr, Field, field_validator
from sqlalchemy import select

from deployments.kit import Ctx, Schema, Service, ServiceSpec, internal, op
from p2p.errors import Conflict, NotFound, Unprocessable
from p2p.money import CountryCode, Currency
from p2p.security import hash_password
from storage.db import utcnow
from storage.models.users import User, UserProfile, UserSettings, UserStats

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
UserId = uuid.UUID


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
    def _tz(cls, v):
        if v is None:
            return v
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
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


class EmailTaken(Conflict):
    """An account with this email exists already."""
    code = "user.email_taken"


class WeakPassword(Unprocessable):
    """The password is too easy to guess."""
    code = "user.weak_password"


class Users(Service):
    @op("POST /users", status=201, public=True)
    async def create(self, ctx: Ctx, body: UserCreate) -> UserOut:
        """Register an account with email and password. Anyone may call it."""
        email = body.email.lower()
        if body.password.lower() in email or len(set(body.password)) < 5:
            raise WeakPassword("Choose a password that is not part of your email and has more variety.")
        async with self.uow(read=True) as uow:
            if await uow.scalar(select(User.id).where(User.email == email)) is not None:
                raise EmailTaken("An account with this email exists.", email=email)
        user_id = uuid.uuid4()
        # The password hash goes to its owner first; if our insert fails we take it back.
        await self.calls.auth.create_identity(user_id, email, hash_password(body.password))
        try:
            async with self.uow() as uow:
                user = uow.add(User(id=user_id, email=email, phone=body.phone, status="active"))
                profile = uow.add(UserProfile(user_id=user_id, display_name=body.display_name, country=body.country))
                uow.add(UserStats(user_id=user_id))
                uow.add(UserSettings(user_id=user_id, notifications={"email": True, "sms": False, "push": True}))
                uow.emit("user.created", user_id, {"user_id": str(user_id), "email": email})
                await uow.flush()
                return self._out(user, profile, private=True)
        except Exception:
            await self.calls.auth.delete_identity(user_id)
            raise

    @op("GET /users/{id}", perm="users:read")
    async def get(self, ctx: Ctx, id: UserId) -> UserOut:
        """The public profile; the full one to the user and to holders of users:read:any."""
        async with self.uow(read=True) as uow:
            user, profile = await self._load(uow, id)
            return self._out(user, profile, private=ctx.user_id == id or await self.can(ctx, "users:read:any"))

    @op("PUT /users/{id}", perm="users:write")
    async def update(self, ctx: Ctx, id: UserId, body: UserUpdate) -> UserOut:
        """Change one's own profile (or anyone's, with users:write:any)."""
        await self.require_self_or(ctx, id, "users:write:any", what="user")
        async with self.uow() as uow:
            user, profile = await self._load(uow, id)
            changes = body.model_dump(exclude_unset=True)
            if "phone" in changes:
                user.phone = changes.pop("phone")
            for field, value in changes.items():
                setattr(profile, field, value)
            profile.updated_at = user.updated_at = utcnow()
            uow.emit("user.updated", id, {"user_id": str(id), "fields": sorted(body.model_fields_set)})
            return self._out(user, profile, private=True)

    @op("GET /users/{id}/stats", perm="users:read")
    async def stats(self, ctx: Ctx, id: UserId) -> UserStatsOut:
        """Counts and rating; public to any signed-in user."""
        async with self.uow(read=True) as uow:
            s = await uow.get(UserStats, id)
            if s is None:
                raise NotFound("No such user.", id=str(id))
            return UserStatsOut(user_id=id, shipments_sent=s.shipments_sent, trips_completed=s.trips_completed,
                                deliveries_completed=s.deliveries_completed, rating_count=s.rating_count,
                                rating_average=round(s.rating_sum / s.rating_count, 2) if s.rating_count else None,
                                last_active_at=s.last_active_at)

    @op("GET /users/{id}/settings", perm="users:read")
    async def get_settings(self, ctx: Ctx, id: UserId) -> SettingsOut:
        """One's own settings."""
        await self.require_self_or(ctx, id, "users:read:any", what="user")
        async with self.uow(read=True) as uow:
            return await self._settings(uow, id)

    @op("PUT /users/{id}/settings", perm="users:write")
    async def update_settings(self, ctx: Ctx, id: UserId, body: SettingsIn) -> SettingsOut:
        """Change one's own settings; unknown keys are refused."""
        await self.require_self_or(ctx, id, "users:write:any", what="user")
        async with self.uow() as uow:
            row = await uow.get(UserSettings, id)
            if row is None:
                raise NotFound("No such user.", id=str(id))
            changes = body.model_dump(exclude_unset=True, exclude_none=True)
            if "notifications" in changes:
                changes["notifications"] = {**(row.notifications or {}), **changes["notifications"]}
            for field, value in changes.items():
                setattr(row, field, value)
            row.updated_at = utcnow()
            return await self._settings(uow, id)

    @internal
    async def account_by_email(self, email: str) -> Account | None:
        async with self.uow(read=True) as uow:
            user = await uow.scalar(select(User).where(User.email == email.lower()))
            return Account.model_validate(user) if user else None

    @internal
    async def touch(self, user_id: UserId) -> None:
        async with self.uow() as uow:
            s = await uow.get(UserStats, user_id)
            if s is not None:
                s.last_active_at = utcnow()

    async def _load(self, uow, id: UserId) -> tuple[User, UserProfile]:
        row = (await uow.session.execute(
            select(User, UserProfile).join(UserProfile, UserProfile.user_id == User.id).where(User.id == id))).first()
        if row is None:
            raise NotFound("No such user.", id=str(id))
        return row[0], row[1]

    async def _settings(self, uow, id: UserId) -> SettingsOut:
        row = await uow.get(UserSettings, id)
        if row is None:
            raise NotFound("No such user.", id=str(id))
        return SettingsOut(user_id=id, language=row.language, timezone=row.timezone, currency=row.currency,
                           notifications=row.notifications or {})

    @staticmethod
    def _out(user: User, profile: UserProfile, *, private: bool) -> UserOut:
        out = UserOut(id=user.id, display_name=profile.display_name, bio=profile.bio, country=profile.country,
                      avatar_url=profile.avatar_url, created_at=user.created_at)
        if private:
            out.email, out.phone, out.status = user.email, user.phone, user.status
        return out


SPEC = ServiceSpec("User Service", key="users", prefix="/users", service=Users, models="storage.models.users",
                   calls=("auth", "authz"))
