"""Trip Service (spec 4.8), grown into a package: schemas, errors, the capacity shards'
client, and the service with its spec."""
from deployments.trips.service import SPEC, Trips

__all__ = ["SPEC", "Trips"]
