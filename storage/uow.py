"""Unit of work: one transaction per service call, with the outbox in the same transaction."""
from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, utcnow
from storage.models.events import OutboxEvent

M = TypeVar("M")


class UnitOfWork:
    def __init__(self, db: Database, *, source: str, read: bool = False):
        self.db, self.source, self.read = db, source, read
        self.session: AsyncSession

    async def __aenter__(self) -> "UnitOfWork":
        self.session = (self.db.reader if self.read else self.db.writer)()
        await self.session.begin()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None and not self.read:
                await self.session.commit()
            elif not self.read:
                await self.session.rollback()
        finally:
            # close() ends a read transaction without expiring what it loaded, so the
            # objects stay readable after the block.
            await self.session.close()

    # -- conveniences used by every service -----------------------------------------
    async def get(self, model: type[M], key: Any) -> M | None:
        return await self.session.get(model, key)

    def add(self, obj: M) -> M:
        self.session.add(obj)
        return obj

    async def flush(self) -> None:
        await self.session.flush()

    async def scalar(self, stmt):
        return await self.session.scalar(stmt)

    async def all(self, stmt) -> list:
        return list((await self.session.scalars(stmt)).all())

    def emit(self, topic: str, entity_id: Any, payload: dict[str, Any] | None = None, *, version: int = 1) -> None:
        """Record a domain event; it is relayed only if this transaction commits."""
        self.session.add(OutboxEvent(
            id=uuid.uuid4(), topic=topic, source=self.source, entity_id=str(entity_id),
            version=version, payload=payload or {}, occurred_at=utcnow(),
        ))

    async def page(self, stmt: Select, model, *, limit: int, after: list | None) -> tuple[list, list | None]:
        """Keyset pagination on (created_at, id). Returns the rows and the next cursor values."""
        if after:
            ts, last_id = after
            from datetime import datetime

            ts = datetime.fromisoformat(ts)
            last_id = uuid.UUID(last_id)
            stmt = stmt.where(or_(model.created_at > ts, and_(model.created_at == ts, model.id > last_id)))
        rows = await self.all(stmt.order_by(model.created_at, model.id).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = [rows[-1].created_at.isoformat(), str(rows[-1].id)] if more and rows else None
        return rows, nxt


