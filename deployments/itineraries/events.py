"""The Itinerary Service's events: created, its legs changed, and each step it takes with
its booking (requested, booked, planned again, cancelled)."""
from __future__ import annotations

from typing import Any, ClassVar, Self

from p2p.events import DomainEvent
from p2p.vocab import BookingId, ItineraryId, LegStatus, UserId


class ItineraryEvent(DomainEvent):
    itinerary_id: ItineraryId
    owner_id: UserId
    status: LegStatus
    booking_id: BookingId | None = None

    @classmethod
    def of(cls, it: Any) -> Self:
        """The event for the itinerary row `it` as it is now."""
        return cls(itinerary_id=it.id, owner_id=it.owner_id, status=it.status, booking_id=it.booking_id)


class ItineraryCreated(ItineraryEvent):
    topic: ClassVar[str] = "itinerary.created"


class ItineraryUpdated(ItineraryEvent):
    """Its legs were replaced or one appended."""

    topic: ClassVar[str] = "itinerary.updated"


class ItineraryRequested(ItineraryEvent):
    """Locked to a pending booking."""

    topic: ClassVar[str] = "itinerary.requested"


class ItineraryBooked(ItineraryEvent):
    topic: ClassVar[str] = "itinerary.booked"


class ItineraryReplanned(ItineraryEvent):
    """Back to planned: its pending booking expired, was declined or cancelled."""

    topic: ClassVar[str] = "itinerary.planned"


class ItineraryCancelled(ItineraryEvent):
    """Its confirmed booking was cancelled."""

    topic: ClassVar[str] = "itinerary.cancelled"


FOLLOWS: dict[str, type[ItineraryEvent]] = {"requested": ItineraryRequested, "booked": ItineraryBooked,
                                            "planned": ItineraryReplanned, "cancelled": ItineraryCancelled}
ITINERARY_EVENTS = (ItineraryCreated, ItineraryUpdated, *FOLLOWS.values())
