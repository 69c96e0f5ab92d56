"""Declaring a service: `@op` for HTTP operations, `@internal` for service-to-service
methods, `@on` for event handlers, and a `ServiceSpec` that names the rest."""
from __future__ import annotations

import time
import typing
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from deployments.kit.clients import Uses
from deployments.kit.ports import Platform
from p2p.errors import Forbidden, NotFound
from p2p.events import DomainEvent, topic_of
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from deployments.kit.context import Ctx


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
    files: tuple[str, ...] = ()


def op(route: str, *, status: int = 200, perm: str | None = None, public: bool = False,
       idempotent: bool | None = None, files: tuple[str, ...] = ()) -> Callable:
    """Expose a method as `METHOD /path`. `perm` is the permission (or API-key scope) the
    caller needs; `public` ops need no credentials. Creating POSTs honour Idempotency-Key.
    `files` are the media types the op may answer with instead of JSON (it returns
    `XOut | Download`; the OpenAPI entry lists them)."""
    method, path = route.split(" ", 1)

    def mark(fn):
        doc = (fn.__doc__ or "").strip()
        fn.__p2p_op__ = Op(method.upper(), path, fn.__name__, status, perm, public,
                           idempotent if idempotent is not None else (method.upper() == "POST" and status == 201),
                           doc.splitlines()[0] if doc else fn.__name__.replace("_", " "), tuple(files))
        return fn

    return mark


@dataclass(frozen=True)
class Internal:
    perm: str | None = None  # checked against the `ctx` the caller passes first


def internal(fn: Callable | None = None, *, perm: str | None = None) -> Any:
    """Make a method callable by other services through a typed client (`uses(...)`); only
    these are. With `perm`, the method takes the caller's `ctx` first and the kit checks
    that principal holds `perm` before running it (a system ctx holds everything)."""

    def mark(f: Callable) -> Callable:
        f.__p2p_internal__ = Internal(perm)  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


def on(event: "type[DomainEvent]", *, tx: bool = True) -> Callable:
    """Handle a domain event class, at least once; the kit drops duplicates by event id and
    hands the handler the validated event (envelope on `event.meta`).

    `handler(self, uow, event)` runs in the unit of work that records the event as
    processed, so its changes and the inbox row commit together. With `tx=False` the
    handler is `handler(self, event)`, runs outside any transaction (it may call other
    services or shards, which a writing unit of work must not), and the event is recorded
    as processed only after it returns: it must be idempotent, since a crash in between
    delivers the event again."""

    def mark(fn):
        fn.__p2p_on__ = event
        fn.__p2p_on_tx__ = tx
        return fn

    return mark


def has_permission(granted: typing.Iterable[str], needed: str) -> bool:
    """`users:read:any` is granted by itself, by `users:*` and by `*`."""
    return any(g == needed or g == "*" or (g.endswith(":*") and needed.startswith(g[:-1])) for g in granted)


class UndeclaredEvent(TypeError):
    """A service emitted an event class its spec does not list in `emits` (a bug)."""


class ServiceUnitOfWork(UnitOfWork):
    """The unit of work a service opens: emits only the event classes its spec declares."""

    def __init__(self, db, *, spec: "ServiceSpec", read: bool = False):
        super().__init__(db, source=spec.key, read=read)
        self.spec = spec

    def emit(self, event, *args, **kwargs) -> None:
        if not isinstance(event, str) and type(event) not in self.spec.emits:
            raise UndeclaredEvent(f"{self.spec.key} emits {type(event).__name__}, which its spec does not declare")
        super().emit(event, *args, **kwargs)


class Service:
    """Base of every service class: plain Python, Pydantic in and out, testable without Ray."""

    spec: ClassVar["ServiceSpec"]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attr, fn in list(vars(cls).items()):
            declared = getattr(fn, "__p2p_op__", None)
            if declared is not None and declared.name != attr:
                # A generated operation (`settings = crud.get_one(...)`) is called by its attribute name.
                fn.__name__, fn.__p2p_op__ = attr, replace(declared, name=attr)

    def __init__(self, runtime: Platform):
        self.rt = runtime
        self.settings = runtime.settings
        self.kv = runtime.kv

    @asynccontextmanager
    async def uow(self, *, read: bool = False):
        """One transaction: commits once on success, rolls back on any error.

        Make calls to other services and permission checks before or after a writing
        unit of work, not inside it: on SQLite a writer holds the database lock until it
        commits, and the callee may need to write too."""
        async with ServiceUnitOfWork(self.rt.db, spec=self.spec, read=read) as uow:
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
    """Everything the kit and the registry need to know about a service, declared once in
    its module: where it answers, what it owns, whom it calls, what it emits, which role
    gets which of its permissions."""

    title: str                      # as the architecture spec names it: "User Service"
    key: str                        # application name, client key, event source
    prefix: str                     # route prefix owned in the full topology
    service: type[Service]
    models: str                     # the storage.models module this service owns
    emits: tuple[type[DomainEvent], ...] = ()
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role -> permissions of this service
    tables: tuple[str, ...] = ()
    # What a replica reserves for Ray's scheduler (the services are I/O-bound). Kept small so
    # 42 replicas leave a whole core on a 2-core machine for the 1-CPU Ray tasks of route
    # search and VRP solving; at 0.05 each, 20 services left less than one and searches hung.
    num_cpus: float = 0.02
    max_ongoing_requests: int = 200
    aliases: tuple[str, ...] = field(default=())  # extra prefixes served through the edge

    def __post_init__(self):
        self.service.spec = self

    @property
    def ops(self) -> list[tuple[Op, Callable]]:
        return [(fn.__p2p_op__, fn) for fn in _members(self.service) if hasattr(fn, "__p2p_op__")]

    @property
    def internals(self) -> dict[str, Internal]:
        """The methods other services may call, with the permission each checks."""
        return {fn.__name__: fn.__p2p_internal__ for fn in _members(self.service) if hasattr(fn, "__p2p_internal__")}

    @property
    def clients(self) -> dict[str, "Uses"]:
        """The typed clients the service class declares (`trips = uses(Trips)`), by attribute."""
        return {name: v for klass in reversed(self.service.__mro__) for name, v in vars(klass).items()
                if isinstance(v, Uses)}

    @property
    def callees(self) -> tuple[str, ...]:
        """The services this one calls: exactly those it declares a client of."""
        return tuple(sorted({u.key for u in self.clients.values()}))

    @property
    def handlers(self) -> dict[str, tuple[str, type[DomainEvent] | None]]:
        """topic -> (handler method, event class)."""
        out: dict[str, tuple[str, type[DomainEvent] | None]] = {}
        for fn in _members(self.service):
            ev = getattr(fn, "__p2p_on__", None)
            if ev is not None:
                out[ev if isinstance(ev, str) else topic_of(ev)] = (fn.__name__, None if isinstance(ev, str) else ev)
        return out

    @property
    def subscriptions(self) -> dict[str, str]:
        return {topic: method for topic, (method, _cls) in self.handlers.items()}


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
