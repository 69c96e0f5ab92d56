"""User Service (spec 1.1): accounts, public and private profiles, statistics, settings.
Registration hands the password hash to the Authentication Service, its only keeper."""
from __future__ import annotations

import uuid

from deployments.auth import Auth
from deployments.kit import Ctx, Service, ServiceSpec, crud, internal, op, uses
from deployments.users.errors import EmailTaken, WeakPassword
from deployments.users.events import UserCreated, UserUpdated
from deployments.users.schemas import (
    Account,
    SettingsIn,
    SettingsOut,
    UserCreate,
    UserOut,
    UserStatsOut,
    UserUpdate,
)
from p2p.errors import NotFound
from p2p.security import hash_password
from p2p.vocab import UserId
from storage.db import utcnow
from storage.models.users import User, UserProfile, UserSettings, UserStats


class Users(Service):
    auth = uses(Auth)

    @op("POST /users", status=201, public=True)
    async def create(self, ctx: Ctx, body: UserCreate) -> UserOut:
        """Register an account with email and password. Anyone may call it."""
        email = body.email.lower()
        if body.password.lower() in email or len(set(body.password)) < 5:
            raise WeakPassword("Choose a password that is not part of your email and has more variety.")
        async with self.uow(read=True) as uow:
            if await uow.repo(User).exists(email=email):
                raise EmailTaken("An account with this email exists.", email=email)
        user_id = uuid.uuid4()
        # The password hash goes to its owner first; if our insert fails we take it back.
        await self.auth.create_identity(user_id, email, hash_password(body.password))
        try:
            async with self.uow() as uow:
                user = uow.add(User(id=user_id, email=email, phone=body.phone, status="active",
                                    profile=UserProfile(display_name=body.display_name, country=body.country)))
                uow.add(UserStats(user_id=user_id))
                uow.add(UserSettings(user_id=user_id, notifications={"email": True, "sms": False, "push": True}))
                uow.emit(UserCreated(user_id=user_id, email=email), entity_id=user_id)
                await uow.flush()
                return UserOut.of(user, private=True)
        except Exception:
            await self.auth.delete_identity(user_id)
            raise

    @op("GET /users/{id}", perm="users:read")
    async def get(self, ctx: Ctx, id: UserId) -> UserOut:
        """The public profile; the full one to the user and to holders of users:read:any."""
        async with self.uow(read=True) as uow:
            user = await uow.repo(User).get_or_404(id, what="user")
        return UserOut.of(user, private=ctx.user_id == id or await self.can(ctx, "users:read:any"))

    @op("PUT /users/{id}", perm="users:write")
    async def update(self, ctx: Ctx, id: UserId, body: UserUpdate) -> UserOut:
        """Change one's own profile (or anyone's, with users:write:any)."""
        await self.require_self_or(ctx, id, "users:write:any", what="user")
        async with self.uow() as uow:
            user = await uow.repo(User).get_or_404(id, what="user")
            for field, value in body.model_dump(exclude_unset=True).items():
                setattr(user, field, value)  # profile fields write through to the profile row
            user.updated_at = user.profile.updated_at = utcnow()
            uow.emit(UserUpdated(user_id=id, fields=sorted(body.model_fields_set)), entity_id=id)
            return UserOut.of(user, private=True)

    @op("GET /users/{id}/stats", perm="users:read")
    async def stats(self, ctx: Ctx, id: UserId) -> UserStatsOut:
        """Counts and rating; public to any signed-in user."""
        async with self.uow(read=True) as uow:
            return UserStatsOut.model_validate(await uow.repo(UserStats).get_or_404(id, what="user"))

    get_settings = crud.get_one("GET /users/{id}/settings", UserSettings, SettingsOut, perm="users:read",
                                any_perm="users:read:any", owner="user_id", missing=NotFound, what="user",
                                doc="One's own settings.")

    @op("PUT /users/{id}/settings", perm="users:write")
    async def update_settings(self, ctx: Ctx, id: UserId, body: SettingsIn) -> SettingsOut:
        """Change one's own settings; unknown keys are refused."""
        await self.require_self_or(ctx, id, "users:write:any", what="user")
        async with self.uow() as uow:
            row = await uow.repo(UserSettings).get_or_404(id, what="user")
            changes = body.model_dump(exclude_unset=True, exclude_none=True)
            if "notifications" in changes:
                changes["notifications"] = {**(row.notifications or {}), **changes["notifications"]}
            for field, value in changes.items():
                setattr(row, field, value)
            row.updated_at = utcnow()
            return SettingsOut.model_validate(row)

    @internal
    async def account_by_email(self, email: str) -> Account | None:
        async with self.uow(read=True) as uow:
            user = await uow.repo(User).find(email=email.lower())
        return Account.model_validate(user) if user else None

    @internal
    async def touch(self, user_id: UserId) -> None:
        async with self.uow() as uow:
            stats = await uow.repo(UserStats).get(user_id)
            if stats is not None:
                stats.last_active_at = utcnow()


SPEC = ServiceSpec("User Service", key="users", prefix="/users", service=Users, models="storage.models.users",
                   emits=(UserCreated, UserUpdated),
                   grants={"member": ("users:read", "users:write"), "support": ("users:read:any",)})
