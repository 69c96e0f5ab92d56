"""Handoff Service errors (the scan refusals are the custody shards': actors/custody/errors.py)."""
from __future__ import annotations

from p2p.errors import Conflict, ProblemError


class ShipmentNotBooked(Conflict):
    """Handoff steps are made from a confirmed booking; this shipment has none yet."""
    code = "handoff.shipment_not_booked"


class PhotoRejected(ProblemError):
    """A handoff photo must be a JPEG or PNG whose content matches its type."""
    code, status, title = "handoff.photo_rejected", 415, "Unsupported media type"


class PhotoTooLarge(ProblemError):
    """A handoff photo is at most 5 MB."""
    code, status, title = "handoff.photo_too_large", 413, "Content too large"
