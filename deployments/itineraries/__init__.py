"""Itinerary Service (spec 7.14), grown into a package: schemas, errors, events and the
service with its spec."""
from deployments.itineraries.service import SPEC, Itineraries

__all__ = ["SPEC", "Itineraries"]
