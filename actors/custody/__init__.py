"""Custody: the shards that own each shipment's chain of custody (handoff steps, scans,
custody state, tracking events, delivery proofs), their events, refusals and answers."""
from actors.custody.events import (
    CUSTODY_EVENTS,
    CustodyEvent,
    CustodyOpened,
    HandoffTransferred,
    ShipmentDelivered,
    ShipmentException,
    ShipmentOutForDelivery,
    ShipmentPickedUp,
)

__all__ = ["CUSTODY_EVENTS", "CustodyEvent", "CustodyOpened", "HandoffTransferred", "ShipmentDelivered",
           "ShipmentException", "ShipmentOutForDelivery", "ShipmentPickedUp"]
