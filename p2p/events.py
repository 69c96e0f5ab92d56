"""Domain events: one Pydantic class per event, named in the past tense (`BookingExpired`),
and the envelope they travel in.

An event class lives beside the code that emits it (a service module, or an actor for the
events a shard writes) and names its topic: `topic: ClassVar[str] = "booking.expired"`.
Emitters write instances to the outbox (`uow.emit(event, entity_id=..., version=...)`);
subscribers declare `@on(BookingExpired)` and receive the instance, validated, with the
envelope's id, entity, version and time on `event.meta`. `p2p events` lists them all."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr


class Envelope(BaseModel):
    """An event on the wire: what the outbox row holds."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    topic: str
    source: str
    entity_id: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]


class DomainEvent(BaseModel):
    """Base of every event class. Unknown payload fields are ignored, so an emitter may add
    fields before its subscribers read them."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    topic: ClassVar[str]
    _meta: Envelope | None = PrivateAttr(default=None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        topic = cls.__dict__.get("topic")
        if topic is not None and (not isinstance(topic, str) or topic.count(".") != 1):
            raise TypeError(f"{cls.__name__}.topic must be '<entity>.<happened>', not {topic!r}")

    @property
    def meta(self) -> Envelope:
        """The envelope this event arrived in (set on delivery, not on emitting)."""
        if self._meta is None:
            raise AttributeError(f"{type(self).__name__} was not delivered through the relay")
        return self._meta

    @classmethod
    def delivered(cls, envelope: Envelope) -> "DomainEvent":
        event = cls.model_validate(envelope.payload)
        event._meta = envelope
        return event


def topic_of(cls: type[DomainEvent]) -> str:
    topic = getattr(cls, "topic", None)
    if not isinstance(topic, str):
        raise TypeError(f"{cls.__name__} names no topic")
    return topic
