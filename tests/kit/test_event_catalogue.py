"""The event catalogue holds: every subscribed event has an emitter, every emitted or
subscribed event is a class with a well-formed topic, and no topic has two classes."""
from __future__ import annotations

from deployments.registry import SPECS
from p2p.cli import event_catalogue
from p2p.events import DomainEvent


def test_every_handler_subscribes_to_an_event_class():
    by_topic = [(s.key, topic) for s in SPECS for topic, (_m, cls) in s.handlers.items() if cls is None]
    assert by_topic == [], "subscribe with @on(EventClass), not a topic string"


def test_every_emitted_event_is_a_domain_event_class():
    for spec in SPECS:
        for cls in spec.emits:
            assert isinstance(cls, type) and issubclass(cls, DomainEvent), (spec.key, cls)


def test_every_subscribed_event_has_an_emitter():
    orphans = [(r["topic"], r["subscribers"]) for r in event_catalogue() if not r["emitters"]]
    assert orphans == []


def test_one_class_per_topic():
    rows = event_catalogue()
    topics = [r["topic"] for r in rows]
    assert len(topics) == len(set(topics)), sorted(t for t in topics if topics.count(t) > 1)
