"""Itinerary Service errors."""
from __future__ import annotations

from p2p.errors import Conflict, NotFound, Unprocessable


class ItineraryNotFound(NotFound):
    """No such itinerary, or not the caller's."""
    code = "itinerary.not_found"


class UnknownLeg(Unprocessable):
    """A leg names a trip leg or courier segment that does not exist."""
    code = "itinerary.unknown_leg"


class LegUnavailable(Unprocessable):
    """The trip is not published, the segment inactive, or the leg starts in the past."""
    code = "itinerary.leg_unavailable"


class LegsDiscontinuous(Unprocessable):
    """A leg does not start where the previous one ends."""
    code = "itinerary.discontinuous"


class ConnectionTooShort(Unprocessable):
    """A leg starts less than the minimum connection time after the previous one ends."""
    code = "itinerary.connection_too_short"


class TooManyLegs(Unprocessable):
    """An itinerary has at most four legs."""
    code = "itinerary.too_many_legs"


class ItineraryLocked(Conflict):
    """The itinerary is booked or being booked; its legs cannot change."""
    code = "itinerary.locked"
