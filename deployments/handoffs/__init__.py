"""Handoff Service (spec 8.17): handoff steps, scans and photos on the custody shards."""
from deployments.handoffs.service import SPEC, Handoffs

__all__ = ["SPEC", "Handoffs"]
