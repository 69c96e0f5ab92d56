"""A generic repository over one model, reached from the unit of work (`uow.repo(Trip)`):
get, get-or-404, exists, filtered lists and keyset pages with the cursor handled inside.
Repositories never commit; the unit of work does, once."""
from __future__ import annotations

import base64
import builtins
import json
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from p2p.errors import BadRequest, NotFound

M = TypeVar("M")


class BadCursor(BadRequest):
    """The cursor was not issued by this API (or was altered)."""
    code = "pagination.bad_cursor"


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError(cursor)
        return [datetime.fromisoformat(values[0]), uuid.UUID(values[1])]
    except Exception:
        raise BadCursor("The cursor is not one this API issued.") from None


class Repository(Generic[M]):
    """Queries on `model` in the unit of work's session. `missing` is the service's own
    not-found error, raised by `get_or_404` (and for rows a `visible` filter hides)."""

    def __init__(self, session: AsyncSession, model: type[M], missing: type[NotFound] = NotFound):
        self.session, self.model, self.missing = session, model, missing

    def _where(self, where: tuple[ColumnElement[bool], ...], by: dict[str, Any]) -> list[ColumnElement[bool]]:
        return [*where, *(getattr(self.model, k) == v for k, v in by.items())]

    async def get(self, id: Any, *, lock: bool = False) -> M | None:
        return await self.session.get(self.model, id, with_for_update=lock or None)

    async def get_or_404(self, id: Any, *, lock: bool = False, what: str | None = None) -> M:
        row = await self.get(id, lock=lock)
        if row is None:
            label = what or self.model.__name__.lower()
            raise self.missing(f"No such {label}.", id=str(id))
        return row

    async def find(self, *where: ColumnElement[bool], **by: Any) -> M | None:
        """The first row matching the filters, or None."""
        return await self.session.scalar(select(self.model).where(*self._where(where, by)).limit(1))

    async def exists(self, *where: ColumnElement[bool], **by: Any) -> bool:
        return bool(await self.session.scalar(select(exists().where(*self._where(where, by)))))

    async def list(self, *where: ColumnElement[bool], order_by: Any = None, **by: Any) -> builtins.list[M]:
        stmt = select(self.model).where(*self._where(where, by))
        order = order_by if order_by is not None else (self.model.created_at, self.model.id)  # type: ignore[attr-defined]
        stmt = stmt.order_by(*(order if isinstance(order, tuple) else (order,)))
        return list((await self.session.scalars(stmt)).all())

    async def page(self, *where: ColumnElement[bool], limit: int, cursor: str | None,
                   stmt: Select | None = None, **by: Any) -> tuple[builtins.list[M], str | None]:
        """Keyset pagination on (created_at, id), oldest first: the rows and the cursor of
        the next page (None on the last one)."""
        m: Any = self.model
        stmt = (stmt if stmt is not None else select(m)).where(*self._where(where, by))
        if cursor:
            ts, last_id = decode_cursor(cursor)
            stmt = stmt.where(or_(m.created_at > ts, and_(m.created_at == ts, m.id > last_id)))
        rows = list((await self.session.scalars(stmt.order_by(m.created_at, m.id).limit(limit + 1))).all())
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        last: Any = rows[-1]
        return rows, encode_cursor([last.created_at.isoformat(), str(last.id)])

    def add(self, obj: M) -> M:
        self.session.add(obj)
        return obj

    async def delete(self, obj: M) -> None:
        await self.session.delete(obj)

    async def delete_where(self, *where: ColumnElement[bool], **by: Any) -> int:
        res = await self.session.execute(delete(self.model).where(*self._where(where, by)))
        return res.rowcount  # type: ignore[attr-defined, no-any-return]
