"""Trip Search Service (spec 4.9), a package: schemas, errors, the shared place lookups,
saved searches with their alerts, suggestions, and the service with its spec."""
from deployments.trip_search.service import SPEC, TripSearch

__all__ = ["SPEC", "TripSearch"]
