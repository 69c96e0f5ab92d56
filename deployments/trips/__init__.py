"""Trip Service (spec 4.8), grown into a package: schemas, errors, events, the rules a trip
keeps, the capacity side (shards, holds) and the service with its spec."""
from deployments.trips.service import SPEC, Trips

__all__ = ["SPEC", "Trips"]
