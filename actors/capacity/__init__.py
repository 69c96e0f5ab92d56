"""Trip capacity: the shard (`shard.py`, on the base in `actors/shard.py`), its events,
refusals and answers."""
from actors.capacity.errors import (
    CapacityBelowCommitted,
    HoldExpired,
    HoldInvalid,
    HoldMismatch,
    HoldNotFound,
    HoldReleased,
    TripFull,
    TripNotBookable,
)
from actors.capacity.events import (
    CAPACITY_EVENTS,
    CapacityConfirmed,
    CapacityEvent,
    CapacityHeld,
    CapacityHoldExpired,
    CapacityReleased,
    LegFree,
    TripCapacityChanged,
)
from actors.capacity.schemas import HoldOut, LegRemaining, RemainingOut
from actors.capacity.shard import ACTIVE, DIMS, TripCapacity
from actors.shard import shard_of

__all__ = [
    "ACTIVE", "CAPACITY_EVENTS", "DIMS", "CapacityBelowCommitted", "CapacityConfirmed", "CapacityEvent", "CapacityHeld",
    "CapacityHoldExpired", "CapacityReleased", "HoldExpired", "HoldInvalid", "HoldMismatch", "HoldNotFound", "HoldOut",
    "HoldReleased", "LegFree", "LegRemaining", "RemainingOut", "TripCapacity", "TripCapacityChanged", "TripFull",
    "TripNotBookable", "shard_of",
]
