"""Trip Service errors (the capacity errors live with the shard in actors.capacity)."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound, Unprocessable


class TripNotFound(NotFound):
    """No such trip, or one the caller may not see (a draft of another traveler)."""
    code = "trip.not_found"


class TripLegNotFound(NotFound):
    """The trip has no leg with this id."""
    code = "trip.unknown_leg"


class NotTheTraveler(Forbidden):
    """Only the trip's traveler may change it."""
    code = "trip.not_traveler"


class UnknownAirport(Unprocessable):
    """A leg names an IATA code the Location Service does not know."""
    code = "trip.unknown_airport"


class ArrivalBeforeDeparture(Unprocessable):
    """A leg arrives before (or when) it departs, or flies implausibly long."""
    code = "trip.arrival_before_departure"


class SameAirport(Unprocessable):
    """A leg departs from and arrives at the same airport."""
    code = "trip.same_airport"


class LegsDiscontinuous(Unprocessable):
    """A leg does not depart from the airport where the previous one arrived."""
    code = "trip.legs_discontinuous"


class LegsOutOfOrder(Unprocessable):
    """A leg departs before the previous one arrives."""
    code = "trip.legs_out_of_order"


class DepartureInPast(Unprocessable):
    """The trip's first flight has already departed."""
    code = "trip.departure_in_past"


class TripNotEditable(Conflict):
    """The trip's status forbids this change (legs after publishing, anything once under way)."""
    code = "trip.not_editable"


class TripStateConflict(Conflict):
    """The transition is not allowed from the trip's current status."""
    code = "trip.invalid_transition"


class ItemNotAllowed(Conflict):
    """The item breaks the trip's constraints (category or weight per item)."""
    code = "trip.item_not_allowed"


class DocumentRejected(Unprocessable):
    """A trip document must be a non-empty PDF, JPEG or PNG of at most 10 MB."""
    code = "trip.document_rejected"
