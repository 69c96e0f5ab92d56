"""Tracking Service (spec 8.18): custody state, tracking events and delivery proofs on the
custody shards; `CustodyDesk` is how the Handoff Service reaches the same shards."""
from deployments.tracking.custody import CustodyDesk
from deployments.tracking.service import SPEC, Tracking

__all__ = ["SPEC", "CustodyDesk", "Tracking"]
