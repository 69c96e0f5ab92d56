"""Domain events on the wire, and their idempotent delivery into a service."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from storage.models.events import OutboxEvent, ProcessedEvent


class Event(BaseModel):
    id: uuid.UUID
    topic: str
    source: str
    entity_id: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: OutboxEvent) -> "Event":
        return cls(id=row.id, topic=row.topic, source=row.source, entity_id=row.entity_id, version=row.version,
                   occurred_at=row.occurred_at, payload=row.payload)


async def dispatch_event(service, event: Event) -> bool:
    """Run the service's handler for `event` once: the inbox row and the handler's changes
    commit together, so a redelivered event is skipped. False if it was a duplicate."""
    method = service.spec.subscriptions.get(event.topic)
    if method is None:
        return False
    try:
        async with service.uow() as uow:
            if await uow.get(ProcessedEvent, (service.spec.key, event.id)) is not None:
                return False
            uow.add(ProcessedEvent(consumer=service.spec.key, event_id=event.id))
            await uow.flush()
            await getattr(service, method)(uow, event)
    except IntegrityError:
        return False  # a concurrent delivery of the same event won
    return True
