"""Authorization Service (spec 1.3): roles with permissions and inheritance, assignments,
permission checks, and API keys (shown once, stored hashed, scoped, revocable)."""
from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta

from pydantic import Field, field_validator
from sqlalchemy import delete, select

from deployments.kit import Ctx, Schema, Service, ServiceSpec, internal, on, op
from deployments.kit.auth import API_KEY_PREFIX, revoked_api_key_key
from deployments.kit.events import Event
from deployments.kit.spec import has_permission
from p2p.errors import Conflict, Forbidden, InvalidApiKey, NotFound, Unprocessable
from p2p.security import sha256
from storage.db import utcnow
from storage.models.authz import ApiKey, AuthzSubject, Role, UserRole

PERMISSION = re.compile(r"^(\*|[a-z_]+(:[a-z_]+)*(:\*)?)$")
MEMBER = ["users:read", "users:write", "apikeys:manage", "roles:read"]

# name -> (description, permissions, inherits). Explicit permissions, no wildcards: a
# wildcard would also grant the `:any` and review permissions under it.
SEED_ROLES: dict[str, tuple[str, list[str], list[str]]] = {
    "member": ("Every signed-up user: own profile, settings, sessions and API keys", MEMBER, []),
    "sender": ("Ships packages", ["shipments:read", "shipments:write", "bookings:read", "bookings:write",
                                  "itineraries:read", "itineraries:write", "search:read", "trips:read",
                                  "payments:write", "routes:read"], ["member"]),
    "traveler": ("Carries packages on flights", ["trips:read", "trips:write", "bookings:read", "bookings:confirm",
                                                 "search:read", "vehicles:read", "vehicles:write", "routes:read"],
                 ["member"]),
    "courier": ("Local first and last mile", ["couriers:read", "couriers:manage", "vehicles:read", "vehicles:write",
                                              "bookings:read", "bookings:confirm", "routes:read", "routes:optimize"],
                ["member"]),
    "support": ("Helps users", ["users:read:any", "sessions:read:any", "sessions:manage:any", "roles:read:any",
                                "bookings:read:any", "trips:read:any", "vehicles:read:any", "locations:read:any"],
                ["member"]),
    "compliance": ("Reviews vehicles and documents", ["vehicles:verify", "vehicles:read:any"], ["member"]),
    "admin": ("Everything", ["*"], []),
}


class RoleCreate(Schema):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    description: str = Field(default="", max_length=200)
    permissions: list[str] = Field(default_factory=list, max_length=200)
    inherits: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("permissions")
    @classmethod
    def _perms(cls, v):
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
    user_id: uuid.UUID
    roles: list[str]


class PermissionsOut(Schema):
    user_id: uuid.UUID
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


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="Shown once; only its hash is stored.")


class RoleExists(Conflict):
    """A role with this name exists."""
    code = "authz.role_exists"


class UnknownRole(Unprocessable):
    """The request names a role that does not exist."""
    code = "authz.unknown_role"


class InheritanceCycle(Unprocessable):
    """The role would inherit from itself."""
    code = "authz.inheritance_cycle"


class PrivilegeEscalation(Forbidden):
    """A caller tried to grant permissions or scopes it does not hold."""
    code = "authz.privilege_escalation"


class Authz(Service):
    async def startup(self) -> None:
        """Seed the system roles, and bring existing ones to what the code says."""
        async with self.uow() as uow:
            existing = {r.name: r for r in await uow.all(select(Role))}
            for name, (desc, perms, inherits) in SEED_ROLES.items():
                role = existing.get(name)
                if role is None:
                    uow.add(Role(name=name, description=desc, permissions=perms, inherits=inherits, system=True))
                elif role.system and (role.permissions != perms or role.inherits != inherits):
                    role.description, role.permissions, role.inherits = desc, perms, inherits

    # -- checks ------------------------------------------------------------------------
    @op("GET /authz/permissions")
    async def check(self, ctx: Ctx, user_id: uuid.UUID | None = None, permission: str | None = None) -> PermissionsOut:
        """A user's roles and effective permissions (one's own, or anyone's with
        roles:read:any); with `permission`, whether it is allowed."""
        subject = user_id or ctx.user_id
        await self.require_self_or(ctx, subject, "roles:read:any", what="user")
        roles, perms = await self._effective(subject)
        out = PermissionsOut(user_id=subject, roles=roles, permissions=sorted(perms))
        if permission is not None:
            out.permission, out.allowed = permission, has_permission(perms, permission)
        return out

    @internal
    async def effective_permissions(self, user_id: uuid.UUID) -> list[str]:
        return sorted((await self._effective(user_id))[1])

    async def _effective(self, user_id: uuid.UUID) -> tuple[list[str], set[str]]:
        async with self.uow(read=True) as uow:
            known = await uow.get(AuthzSubject, user_id) is not None
        if not known:
            async with self.uow() as uow:
                await self._set_up_subject(uow, user_id)
        async with self.uow(read=True) as uow:
            roles = sorted(await uow.all(select(UserRole.role_name).where(UserRole.user_id == user_id)))
            return roles, await self._expand(uow, roles)

    async def _set_up_subject(self, uow, user_id: uuid.UUID) -> None:
        """Give a new user the default roles, once (on user.created, or on first use if the
        event has not arrived yet)."""
        if await uow.get(AuthzSubject, user_id) is not None:
            return
        uow.add(AuthzSubject(user_id=user_id))
        for name in ("member", *self.settings.default_roles):
            uow.add(UserRole(user_id=user_id, role_name=name))
        await uow.flush()

    async def _expand(self, uow, roles: list[str]) -> set[str]:
        all_roles = {r.name: r for r in await uow.all(select(Role))}
        perms: set[str] = set()
        seen: set[str] = set()
        stack = list(roles)
        while stack:
            name = stack.pop()
            if name in seen or name not in all_roles:
                continue
            seen.add(name)
            perms.update(all_roles[name].permissions)
            stack.extend(all_roles[name].inherits)
        return perms

    @on("user.created")
    async def on_user_created(self, uow, event: Event) -> None:
        await self._set_up_subject(uow, uuid.UUID(event.payload["user_id"]))

    # -- roles -------------------------------------------------------------------------
    @op("POST /authz/roles", status=201, perm="roles:manage")
    async def create_role(self, ctx: Ctx, body: RoleCreate) -> RoleOut:
        """Define a role from permissions and roles it inherits."""
        granted = await self.permissions(ctx)
        async with self.uow() as uow:
            if await uow.get(Role, body.name) is not None:
                raise RoleExists(f"Role {body.name} exists.", name=body.name)
            known = {r.name for r in await uow.all(select(Role))}
            unknown = sorted(set(body.inherits) - known)
            if unknown:
                raise UnknownRole(f"Unknown roles: {unknown}", roles=unknown)
            if body.name in body.inherits:
                raise InheritanceCycle("A role cannot inherit from itself.")
            beyond = [p for p in body.permissions if not has_permission(granted, p)]
            if beyond:
                raise PrivilegeEscalation("You cannot grant permissions you do not hold.", permissions=beyond)
            role = uow.add(Role(name=body.name, description=body.description, permissions=body.permissions,
                                inherits=sorted(set(body.inherits)), system=False))
            uow.emit("role.created", body.name, {"name": body.name})
            await uow.flush()
            return RoleOut.model_validate(role)

    @op("PUT /authz/users/{id}/roles", perm="roles:assign")
    async def assign(self, ctx: Ctx, id: uuid.UUID, body: RolesAssign) -> UserRolesOut:
        """Replace a user's roles. The caller must hold every permission the roles carry."""
        wanted = sorted(set(body.roles))
        granted = await self.permissions(ctx)
        async with self.uow() as uow:
            known = {r.name for r in await uow.all(select(Role))}
            unknown = sorted(set(wanted) - known)
            if unknown:
                raise UnknownRole(f"Unknown roles: {unknown}", roles=unknown)
            beyond = sorted(p for p in await self._expand(uow, wanted) if not has_permission(granted, p))
            if beyond:
                raise PrivilegeEscalation("You cannot grant permissions you do not hold.", permissions=beyond)
            if await uow.get(AuthzSubject, id) is None:
                uow.add(AuthzSubject(user_id=id))
            await uow.session.execute(delete(UserRole).where(UserRole.user_id == id))
            for name in wanted:
                uow.add(UserRole(user_id=id, role_name=name, assigned_by=ctx.user_id))
            uow.emit("user.roles_changed", id, {"user_id": str(id), "roles": wanted})
        self.rt.forget_permissions(id)
        return UserRolesOut(user_id=id, roles=wanted)

    # -- API keys ----------------------------------------------------------------------
    @op("POST /authz/api-keys", status=201, perm="apikeys:manage")
    async def create_api_key(self, ctx: Ctx, body: ApiKeyCreate) -> ApiKeyCreated:
        """Make an API key limited to `scopes` (each one you hold). The key is shown once."""
        granted = await self.permissions(ctx)
        bad = [s for s in body.scopes if not PERMISSION.match(s)]
        if bad:
            raise Unprocessable("Malformed scopes.", scopes=bad)
        beyond = [s for s in body.scopes if not has_permission(granted, s)]
        if beyond:
            raise PrivilegeEscalation("A key cannot have scopes you do not hold.", scopes=beyond)
        prefix = secrets.token_hex(4)
        key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        async with self.uow() as uow:
            row = uow.add(ApiKey(id=uuid.uuid4(), user_id=ctx.user_id, name=body.name, prefix=prefix,
                                 key_hash=sha256(key), scopes=sorted(set(body.scopes)), created_at=utcnow(),
                                 expires_at=utcnow() + timedelta(days=body.expires_in_days)
                                 if body.expires_in_days else None))
            uow.emit("api_key.created", row.id, {"user_id": str(ctx.user_id), "prefix": prefix})
            await uow.flush()
            return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key)

    @op("GET /authz/api-keys")
    async def list_api_keys(self, ctx: Ctx) -> list[ApiKeyOut]:
        """The caller's keys (prefixes only, never the secret)."""
        async with self.uow(read=True) as uow:
            rows = await uow.all(select(ApiKey).where(ApiKey.user_id == ctx.user_id).order_by(ApiKey.created_at))
        return [ApiKeyOut.model_validate(r) for r in rows]

    @op("DELETE /authz/api-keys/{id}", status=204)
    async def revoke_api_key(self, ctx: Ctx, id: uuid.UUID) -> None:
        """Revoke a key at once, everywhere."""
        async with self.uow(read=True) as uow:
            row = await uow.get(ApiKey, id)
        if row is None or row.revoked_at is not None:
            raise NotFound("No such API key.", id=str(id))
        await self.require_self_or(ctx, row.user_id, "apikeys:manage:any", what="API key")
        async with self.uow() as uow:
            row = await uow.get(ApiKey, id)
            row.revoked_at = utcnow()
            uow.emit("api_key.revoked", id, {"user_id": str(row.user_id)})
        await self.kv.set(revoked_api_key_key(id), b"1", ttl=3600)

    @internal
    async def verify_api_key(self, key: str) -> dict:
        parts = key.removeprefix(API_KEY_PREFIX).split("_", 1)
        async with self.uow(read=True) as uow:
            row = await uow.scalar(select(ApiKey).where(ApiKey.prefix == parts[0])) if len(parts) == 2 else None
        if (row is None or not secrets.compare_digest(row.key_hash, sha256(key)) or row.revoked_at is not None
                or (row.expires_at is not None and row.expires_at <= utcnow())):
            raise InvalidApiKey("The API key is unknown, expired or revoked.")
        return {"id": row.id, "user_id": row.user_id, "scopes": list(row.scopes)}


SPEC = ServiceSpec("Authorization Service", key="authz", prefix="/authz", service=Authz,
                   models="storage.models.authz")
