"""Booking Service errors."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound


class BookingNotFound(NotFound):
    """No such booking, or one the caller is no party to."""
    code = "booking.not_found"


class CapacityUnavailable(Conflict):
    """A leg could not be held (full, cancelled trip, inactive segment); nothing is held."""
    code = "booking.capacity_unavailable"


class BookingNotPending(Conflict):
    """The booking is no longer waiting for its carriers."""
    code = "booking.not_pending"


class BookingLapsed(Conflict):
    """The booking's holds passed their TTL before every carrier accepted."""
    code = "booking.expired"


class NotACarrier(Forbidden):
    """Only the carrier of a leg accepts or declines it; only the sender cancels."""
    code = "booking.not_carrier"


class MixedCurrencies(Conflict):
    """The legs are priced in different currencies (no FX conversion yet)."""
    code = "booking.mixed_currencies"
