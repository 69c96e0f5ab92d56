"""Declaring a service: `@op` for HTTP operations, `@internal` for service-to-service
methods, `@on` for event handlers, and a `ServiceSpec` that names the rest."""
from __future__ import annotations

import time
import typing
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from p2p.errors import Forbidden, NotFound
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from deployments.kit.context import Ctx
    from deployments.kit.runtime import Runtime


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    name: str
    status: int = 200
    perm: str | None = None
    public: bool = False
    idempotent: bool = False
    summary: str = ""


def op(route: str, *, status: int = 200, perm: str | None = None, public: bool = False,
       idempotent: bool | None = None) -> Callable:
    """Expose a method as `METHOD /path`. `perm` is the permission (or API-key scope) the
    caller needs; `public` ops need no credentials. Creating POSTs honour Idempotency-Key."""
    method, path = route.split(" ", 1)

    def mark(fn):
        doc = (fn.__doc__ or "").strip()
        fn.__p2p_op__ = Op(method.upper(), path, fn.__name__, status, perm, public,
                           idempotent if idempotent is not None else (method.upper() == "POST" and status == 201),
                           doc.splitlines()[0] if doc else fn.__name__.replace("_", " "))
        return fn

    return mark


def internal(fn):
    """Callable by other services through their typed client; not on HTTP."""
    fn.__p2p_internal__ = True
    return fn


def on(topic: str) -> Callable:
    """Handle the domain event `topic`, at least once; the kit drops duplicates by event id."""

    def mark(fn):
        fn.__p2p_on__ = topic
        return fn

    return mark


def has_permission(granted: typing.Iterable[str], needed: str) -> bool:
    """`users:read:any` is granted by itself, by `users:*` and by `*`."""
    return any(g == needed or g == "*" or (g.endswith(":*") and needed.startswith(g[:-1])) for g in granted)


class Service:
    """Base of every service class: plain Python, Pydantic in and out, testable without Ray."""

    spec: ClassVar["ServiceSpec"]

    def __init__(self, runtime: "Runtime"):
        self.rt = runtime
        self.settings = runtime.settings
        self.kv = runtime.kv
        self.calls = runtime.calls

    @asynccontextmanager
    async def uow(self, *, read: bool = False):
        """One transaction: commits once on success, rolls back on any error.

        Make calls to other services and permission checks before or after a writing
        unit of work, not inside it: on SQLite a writer holds the database lock until it
        commits, and the callee may need to write too."""
        async with UnitOfWork(self.rt.db, source=self.spec.key, read=read) as uow:
            yield uow

    async def startup(self) -> None:
        """Runs once per process before the first request (seed data, keys)."""

    async def permissions(self, ctx: "Ctx") -> frozenset[str]:
        return await self.rt.permissions(ctx.principal) if ctx.principal else frozenset()

    async def can(self, ctx: "Ctx", perm: str) -> bool:
        if ctx.principal and ctx.principal.kind == "system":
            return True
        return has_permission(await self.permissions(ctx), perm)

    async def require(self, ctx: "Ctx", perm: str) -> None:
        if not await self.can(ctx, perm):
            raise Forbidden(f"Missing permission {perm}.", permission=perm)

    async def require_self_or(self, ctx: "Ctx", owner_id: uuid.UUID, perm: str, *, what: str = "object") -> None:
        """Object-level rule: the owner, or a principal holding `perm`; others get a 404."""
        if ctx.user_id == owner_id or await self.can(ctx, perm):
            return
        raise NotFound(f"No such {what}.", id=str(owner_id))


@dataclass(frozen=True)
class ServiceSpec:
    title: str                      # as the architecture spec names it: "User Service"
    key: str                        # application name, client attribute, event source
    prefix: str                     # route prefix owned in the full topology
    service: type[Service]
    models: str                     # the storage.models module this service owns
    calls: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    num_cpus: float = 0.05
    max_ongoing_requests: int = 200
    aliases: tuple[str, ...] = field(default=())  # extra prefixes served through the edge

    def __post_init__(self):
        self.service.spec = self

    @property
    def ops(self) -> list[tuple[Op, Callable]]:
        return [(fn.__p2p_op__, fn) for fn in _members(self.service) if hasattr(fn, "__p2p_op__")]

    @property
    def internals(self) -> set[str]:
        return {fn.__name__ for fn in _members(self.service)
                if hasattr(fn, "__p2p_internal__") or hasattr(fn, "__p2p_op__")}

    @property
    def subscriptions(self) -> dict[str, str]:
        return {fn.__p2p_on__: fn.__name__ for fn in _members(self.service) if hasattr(fn, "__p2p_on__")}


def _members(cls) -> list[Callable]:
    seen: dict[str, Callable] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if callable(value):
                seen[name] = value
    return list(seen.values())


class TTLCache:
    """A tiny per-process cache with expiry, for permissions and public keys."""

    def __init__(self, ttl: float, maxsize: int = 10_000):
        self.ttl, self.maxsize = ttl, maxsize
        self._d: dict[Any, tuple[float, Any]] = {}

    def get(self, key):
        hit = self._d.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def put(self, key, value):
        if len(self._d) >= self.maxsize:
            self._d.clear()
        self._d[key] = (time.monotonic() + self.ttl, value)

    def drop(self, key):
        self._d.pop(key, None)
