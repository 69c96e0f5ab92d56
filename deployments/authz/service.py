"""Authorization Service (spec 1.3): roles with permissions and inheritance, assignments,
permission checks, and API keys (shown once, stored hashed, scoped, revocable)."""
from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from deployments.authz.errors import InheritanceCycle, PrivilegeEscalation, RoleExists, UnknownRole
from deployments.authz.events import ApiKeyCreated, ApiKeyRevoked, RoleCreated, UserRolesChanged
from deployments.authz.roles import expand, seeded_roles
from deployments.authz.schemas import (
    PERMISSION,
    ApiKeyCreate,
    ApiKeyOut,
    ApiKeyWithSecret,
    PermissionsOut,
    RoleCreate,
    RoleOut,
    RolesAssign,
    UserRolesOut,
)
from deployments.kit import Ctx, Service, ServiceSpec, internal, on, op
from deployments.kit.auth import API_KEY_PREFIX, revoked_api_key_key
from deployments.kit.spec import has_permission
from deployments.users.events import UserCreated
from p2p.errors import InvalidApiKey, NotFound, Unprocessable
from p2p.security import sha256
from p2p.vocab import UserId
from storage.db import utcnow
from storage.models.authz import ApiKey, AuthzSubject, Role, UserRole


class Authz(Service):
    async def startup(self) -> None:
        """Seed the system roles from the specs' grants, and bring existing ones to them."""
        async with self.uow() as uow:
            roles = uow.repo(Role)
            for name, (desc, perms, inherits) in seeded_roles(self.rt.registry).items():
                role = await roles.get(name)
                if role is None:
                    roles.add(Role(name=name, description=desc, permissions=perms, inherits=inherits, system=True))
                elif role.system and (role.description, role.permissions, role.inherits) != (desc, perms, inherits):
                    role.description, role.permissions, role.inherits = desc, perms, inherits

    @op("GET /authz/permissions")
    async def check(self, ctx: Ctx, user_id: UserId | None = None, permission: str | None = None) -> PermissionsOut:
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

    async def _effective(self, user_id: UserId) -> tuple[list[str], set[str]]:
        async with self.uow(read=True) as uow:
            known = await uow.repo(AuthzSubject).exists(user_id=user_id)
        if not known:
            async with self.uow() as uow:
                await self._set_up_subject(uow, user_id)
        async with self.uow(read=True) as uow:
            roles = [r.role_name for r in await uow.repo(UserRole).list(user_id=user_id, order_by=UserRole.role_name)]
            return roles, expand(await self._roles(uow), roles)

    async def _set_up_subject(self, uow, user_id: UserId) -> None:
        """Give a new user the default roles, once (on user.created, or on first use if the
        event has not arrived yet)."""
        if await uow.repo(AuthzSubject).get(user_id) is not None:
            return
        uow.add(AuthzSubject(user_id=user_id))
        for name in ("member", *self.settings.default_roles):
            uow.add(UserRole(user_id=user_id, role_name=name))
        await uow.flush()

    @staticmethod
    async def _roles(uow) -> dict[str, Role]:
        return {r.name: r for r in await uow.repo(Role).list(order_by=Role.name)}

    @on(UserCreated)
    async def on_user_created(self, uow, event: UserCreated) -> None:
        await self._set_up_subject(uow, event.user_id)

    @op("POST /authz/roles", status=201, perm="roles:manage")
    async def create_role(self, ctx: Ctx, body: RoleCreate) -> RoleOut:
        """Define a role from permissions and roles it inherits."""
        granted = await self.permissions(ctx)
        async with self.uow() as uow:
            known = await self._roles(uow)
            if body.name in known:
                raise RoleExists(f"Role {body.name} exists.", name=body.name)
            unknown = sorted(set(body.inherits) - set(known))
            if unknown:
                raise UnknownRole(f"Unknown roles: {unknown}", roles=unknown)
            if body.name in body.inherits:
                raise InheritanceCycle("A role cannot inherit from itself.")
            beyond = [p for p in body.permissions if not has_permission(granted, p)]
            if beyond:
                raise PrivilegeEscalation("You cannot grant permissions you do not hold.", permissions=beyond)
            role = uow.add(Role(name=body.name, description=body.description, permissions=body.permissions,
                                inherits=sorted(set(body.inherits)), system=False))
            uow.emit(RoleCreated(name=body.name), entity_id=body.name)
            await uow.flush()
            return RoleOut.model_validate(role)

    @internal(perm="roles:assign")
    @op("PUT /authz/users/{id}/roles", perm="roles:assign")
    async def assign(self, ctx: Ctx, id: UserId, body: RolesAssign) -> UserRolesOut:
        """Replace a user's roles. The caller must hold every permission the roles carry."""
        wanted = sorted(set(body.roles))
        granted = await self.permissions(ctx)
        async with self.uow() as uow:
            unknown = sorted(set(wanted) - set(await self._roles(uow)))
            if unknown:
                raise UnknownRole(f"Unknown roles: {unknown}", roles=unknown)
            beyond = sorted(p for p in expand(await self._roles(uow), wanted) if not has_permission(granted, p))
            if beyond:
                raise PrivilegeEscalation("You cannot grant permissions you do not hold.", permissions=beyond)
            if not await uow.repo(AuthzSubject).exists(user_id=id):
                uow.add(AuthzSubject(user_id=id))
            await uow.repo(UserRole).delete_where(user_id=id)
            for name in wanted:
                uow.add(UserRole(user_id=id, role_name=name, assigned_by=ctx.user_id))
            uow.emit(UserRolesChanged(user_id=id, roles=wanted), entity_id=id)
        self.rt.forget_permissions(id)
        return UserRolesOut(user_id=id, roles=wanted)

    @op("POST /authz/api-keys", status=201, perm="apikeys:manage")
    async def create_api_key(self, ctx: Ctx, body: ApiKeyCreate) -> ApiKeyWithSecret:
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
        expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
        async with self.uow() as uow:
            row = uow.add(ApiKey(id=uuid.uuid4(), user_id=ctx.user_id, name=body.name, prefix=prefix,
                                 key_hash=sha256(key), scopes=sorted(set(body.scopes)), created_at=utcnow(),
                                 expires_at=expires))
            uow.emit(ApiKeyCreated(user_id=ctx.user_id, prefix=prefix, api_key_id=row.id), entity_id=row.id)
            await uow.flush()
            return ApiKeyWithSecret(**ApiKeyOut.model_validate(row).model_dump(), key=key)

    @op("GET /authz/api-keys")
    async def list_api_keys(self, ctx: Ctx) -> list[ApiKeyOut]:
        """The caller's keys (prefixes only, never the secret)."""
        async with self.uow(read=True) as uow:
            return [ApiKeyOut.model_validate(r) for r in await uow.repo(ApiKey).list(user_id=ctx.user_id)]

    @op("DELETE /authz/api-keys/{id}", status=204)
    async def revoke_api_key(self, ctx: Ctx, id: uuid.UUID) -> None:
        """Revoke a key at once, everywhere."""
        async with self.uow(read=True) as uow:
            row = await uow.repo(ApiKey).get(id)
        if row is None or row.revoked_at is not None:
            raise NotFound("No such API key.", id=str(id))
        await self.require_self_or(ctx, row.user_id, "apikeys:manage:any", what="API key")
        async with self.uow() as uow:
            row = await uow.repo(ApiKey).get_or_404(id, what="API key")
            row.revoked_at = utcnow()
            uow.emit(ApiKeyRevoked(user_id=row.user_id, api_key_id=id), entity_id=id)
        await self.kv.set(revoked_api_key_key(id), b"1", ttl=3600)

    @internal
    async def verify_api_key(self, key: str) -> dict:
        parts = key.removeprefix(API_KEY_PREFIX).split("_", 1)
        async with self.uow(read=True) as uow:
            row = await uow.repo(ApiKey).find(prefix=parts[0]) if len(parts) == 2 else None
        if (row is None or not secrets.compare_digest(row.key_hash, sha256(key)) or row.revoked_at is not None
                or (row.expires_at is not None and row.expires_at <= utcnow())):
            raise InvalidApiKey("The API key is unknown, expired or revoked.")
        return {"id": row.id, "user_id": row.user_id, "scopes": list(row.scopes)}


SPEC = ServiceSpec("Authorization Service", key="authz", prefix="/authz", service=Authz,
                   models="storage.models.authz", emits=(RoleCreated, UserRolesChanged, ApiKeyCreated, ApiKeyRevoked),
                   grants={"member": ("apikeys:manage", "roles:read"), "support": ("roles:read:any",)})
