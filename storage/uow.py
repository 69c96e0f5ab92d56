"""Unit of work: one transaction per service call, with the outbox in the same transaction."""
from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from p2p.errors import NotFound
from p2p.events import DomainEvent
from storage.db import Database, utcnow
from storage.models.events import OutboxEvent
from storage.repository import Repository

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

    def repo(self, model: type[M], missing: type[NotFound] = NotFound) -> Repository[M]:
        """The generic repository of `model` in this transaction."""
        return Repository(self.session, model, missing)

    async def emit_many(self, events: list[tuple[DomainEvent, Any]]) -> None:
        """Record many events in one multi-row INSERT (a shard's batch), in list order."""
        if not events:
            return
        now = utcnow()
        await self.session.execute(insert(OutboxEvent), [
            dict(id=uuid.uuid4(), topic=e.topic, source=self.source, entity_id=str(entity_id), version=1,
                 payload=e.model_dump(mode="json"), occurred_at=now) for e, entity_id in events])

    def emit(self, event: DomainEvent, entity_id: Any = None, *, version: int = 1) -> None:
        """Record a domain event; it is relayed only if this transaction commits."""
        self.session.add(OutboxEvent(
            id=uuid.uuid4(), topic=event.topic, source=self.source, entity_id=str(entity_id),
            version=version, payload=event.model_dump(mode="json"), occurred_at=utcnow(),
        ))
