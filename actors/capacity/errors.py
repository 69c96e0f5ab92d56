"""The trip-capacity shards' refusals."""
from __future__ import annotations

from p2p.errors import Conflict, NotFound, Unprocessable


class TripFull(Conflict):
    """A leg of the trip has not enough free weight, volume or item slots for the hold."""
    code = "trip.full"


class TripNotBookable(Conflict):
    """The trip is not published, was cancelled, or the hold names legs it does not have."""
    code = "trip.not_bookable"


class CapacityBelowCommitted(Conflict):
    """The new capacity is below what is already held and booked on a leg."""
    code = "trip.capacity_below_committed"


class HoldNotFound(NotFound):
    """No hold of this booking on this trip."""
    code = "capacity.hold_not_found"


class HoldExpired(Conflict):
    """The hold passed its TTL before it was confirmed; its capacity was released."""
    code = "capacity.hold_expired"


class HoldReleased(Conflict):
    """The hold was released (booking cancelled or declined, trip cancelled)."""
    code = "capacity.hold_released"


class HoldMismatch(Conflict):
    """A hold for this booking exists with other amounts or legs (an id reused)."""
    code = "capacity.hold_mismatch"


class HoldInvalid(Unprocessable):
    """Amounts must be positive and at least one leg named."""
    code = "capacity.invalid_hold"
