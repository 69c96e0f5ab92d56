"""Delivering domain events into services: who subscribes to what (from the specs), and
the idempotent hand-over into one service's handler."""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from p2p.events import Envelope
from storage.models.events import ProcessedEvent

if TYPE_CHECKING:  # only for the annotation; spec does not import this module
    from deployments.kit.spec import ServiceSpec

log = logging.getLogger("p2p.events")


def subscriptions(registry: dict[str, "ServiceSpec"]) -> dict[str, list[str]]:
    """topic -> the keys of the services that handle it."""
    subs: dict[str, list[str]] = defaultdict(list)
    for spec in registry.values():
        for topic in spec.handlers:
            subs[topic].append(spec.key)
    return dict(subs)


async def dispatch_event(service: Any, envelope: Envelope) -> bool:
    """Run the service's handler for the event once: the inbox row and the handler's changes
    commit together, so a redelivered event is skipped. False if it was a duplicate. A
    payload that is not a valid instance of its class is logged and skipped: it would fail
    the same way on every redelivery, and hold up the events relayed after it."""
    handler = service.spec.handlers.get(envelope.topic)
    if handler is None:
        return False
    method, cls = handler
    try:
        event = cls.delivered(envelope) if cls is not None else envelope
    except ValidationError:
        log.warning("malformed event skipped", extra={"topic": envelope.topic, "event_id": str(envelope.id),
                                                      "consumer": service.spec.key})
        return True
    fn = getattr(service, method)
    try:
        if not getattr(fn, "__p2p_on_tx__", True):
            return await _dispatch_outside_tx(service, envelope, fn, event)
        async with service.uow() as uow:
            if await uow.get(ProcessedEvent, (service.spec.key, envelope.id)) is not None:
                return False
            uow.add(ProcessedEvent(consumer=service.spec.key, event_id=envelope.id))
            await uow.flush()
            await fn(uow, event)
    except IntegrityError:
        return False  # a concurrent delivery of the same event won
    return True


async def _dispatch_outside_tx(service: Any, envelope: Envelope, fn: Any, event: Any) -> bool:
    """A `tx=False` handler: skipped if already processed, run with no transaction open,
    then recorded (an idempotent handler may run twice after a crash, never zero times)."""
    async with service.uow(read=True) as uow:
        if await uow.get(ProcessedEvent, (service.spec.key, envelope.id)) is not None:
            return False
    await fn(event)
    async with service.uow() as uow:
        uow.add(ProcessedEvent(consumer=service.spec.key, event_id=envelope.id))
    return True
