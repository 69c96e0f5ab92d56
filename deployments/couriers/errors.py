"""The Local Courier Service's errors (codes `courier.*`)."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound, Unprocessable


class ProviderNotFound(NotFound):
    """No courier provider has this id."""
    code = "courier.not_found"


class SegmentNotFound(NotFound):
    """No segment has this id (for this provider)."""
    code = "courier.segment_not_found"


class NotProviderOwner(Forbidden):
    """Only the provider's owner (or couriers:manage:any) changes it."""
    code = "courier.not_owner"


class UnknownPlace(Unprocessable):
    """A location id the Location Service does not know, or of the wrong kind."""
    code = "courier.unknown_location"


class SegmentOverCapacity(Unprocessable):
    """A segment cannot carry more than the provider's daily weight."""
    code = "courier.segment_over_capacity"


class SegmentUnavailable(Conflict):
    """The segment is inactive or cannot carry the weight."""
    code = "courier.segment_unavailable"


class CapacityExhausted(Conflict):
    """The provider's parcels or weight for that day are sold out."""
    code = "courier.capacity_exhausted"
