"""Operations that say nothing of their own, generated: read one object by id with the
owner-or-`:any` rule, and the caller's own objects as a page. Declared in the service
class body, so readers, editors and mypy see them where the other operations are:

    get = crud.get_one("GET /vehicles/{id}", UserVehicle, VehicleOut, perm="vehicles:read",
                       any_perm="vehicles:read:any", missing=VehicleNotFound)
    mine = crud.list_mine("GET /vehicles", UserVehicle, VehicleOut, perm="vehicles:read")
"""
from __future__ import annotations

import inspect
import uuid
from typing import Any, Callable

from pydantic import BaseModel

from deployments.kit.context import Ctx
from deployments.kit.schemas import Limit, Page
from deployments.kit.spec import op
from p2p.errors import NotFound


def get_one(route: str, model: type, out: type[BaseModel], *, perm: str, missing: type[NotFound],
            owner: str = "owner_id", any_perm: str | None = None, doc: str | None = None,
            what: str | None = None) -> Callable:
    """`GET .../{id}`: the object, for its owner or a holder of `any_perm`; a 404 of the
    service's own code for anyone else and for unknown ids (`No such <what>.`)."""

    async def get(self: Any, ctx: Ctx, id: uuid.UUID) -> Any:
        async with self.uow(read=True) as uow:
            row = await uow.repo(model, missing).get(id)
            if row is None or (getattr(row, owner) != ctx.user_id
                               and not (any_perm and await self.can(ctx, any_perm))):
                raise missing(f"No such {what or model.__name__.lower()}.", id=str(id))
            return out.model_validate(row)

    get.__doc__ = doc or f"One {out.__name__.removesuffix('Out').lower()}, for its owner" + (
        f" (or a holder of {any_perm})." if any_perm else ".")
    get.__annotations__ = {"ctx": Ctx, "id": uuid.UUID, "return": out}
    return op(route, perm=perm)(get)


def list_mine(route: str, model: type, out: type[BaseModel], *, perm: str, owner: str = "owner_id",
              filters: dict[str, Any] | None = None, doc: str | None = None) -> Callable:
    """`GET /things`: the caller's own objects, oldest first, cursor-paginated. `filters`
    (query parameter -> type, e.g. `{"status": TripStatus}`) narrow by equality when given."""

    async def mine(self: Any, ctx: Ctx, limit: Limit = 20, cursor: str | None = None, **by: Any) -> Any:
        by = {k: v for k, v in by.items() if v is not None}
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.repo(model).page(limit=limit, cursor=cursor, **by, **{owner: ctx.user_id})
            return Page[out](items=[out.model_validate(r) for r in rows], next_cursor=nxt)  # type: ignore[valid-type, misc]

    extra = {name: t | None for name, t in (filters or {}).items()}
    mine.__doc__ = doc or f"The caller's {out.__name__.removesuffix('Out').lower()}s, oldest first."
    mine.__annotations__ = {"ctx": Ctx, "limit": Limit, "cursor": str | None, **extra,
                            "return": Page[out]}  # type: ignore[valid-type]
    sig = inspect.signature(mine)
    mine.__signature__ = sig.replace(parameters=[  # type: ignore[attr-defined]
        *(p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD),
        *(inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=t) for n, t in extra.items())])
    return op(route, perm=perm)(mine)
