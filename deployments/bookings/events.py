"""The Booking Service's events. The Itinerary Service follows the closing ones."""
from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from p2p.events import DomainEvent
from p2p.vocab import BookingId, BookingStatus, ItineraryId, UserId


class BookingEvent(DomainEvent):
    booking_id: BookingId
    itinerary_id: ItineraryId
    sender_id: UserId
    status: BookingStatus
    shipment_id: uuid.UUID | None = None

    @classmethod
    def of(cls, b: Any, **extra: Any) -> Self:
        """The event for the booking row `b` as it is now."""
        return cls(booking_id=b.id, itinerary_id=b.itinerary_id, sender_id=b.sender_id, status=b.status,
                   shipment_id=b.shipment_id, **extra)


class BookingCreated(BookingEvent):
    topic: ClassVar[str] = "booking.created"


class BookingConfirmed(BookingEvent):
    """`carrier_ids`: who carries each leg, in leg order (one may carry several)."""
    topic: ClassVar[str] = "booking.confirmed"
    carrier_ids: list[uuid.UUID] = []


class BookingCompleted(BookingEvent):
    """The shipment of the booking was delivered."""
    topic: ClassVar[str] = "booking.completed"


class BookingClosed(BookingEvent):
    """`was` is the status it closed from: a confirmed booking cancels its itinerary, a
    pending one gives it back to planning."""

    was: BookingStatus
    reason: str | None = None


class BookingExpired(BookingClosed):
    topic: ClassVar[str] = "booking.expired"


class BookingDeclined(BookingClosed):
    topic: ClassVar[str] = "booking.declined"


class BookingCancelled(BookingClosed):
    topic: ClassVar[str] = "booking.cancelled"


CLOSED_EVENTS: dict[str, type[BookingClosed]] = {"expired": BookingExpired, "declined": BookingDeclined,
                                                 "cancelled": BookingCancelled}
BOOKING_EVENTS = (BookingCreated, BookingConfirmed, BookingCompleted, BookingExpired, BookingDeclined, BookingCancelled)
