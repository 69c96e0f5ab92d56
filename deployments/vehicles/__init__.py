"""Vehicle Verification Service (spec 2.5), grown into a package: schemas, events, errors,
and the service with its spec."""
from deployments.vehicles.service import SPEC, Vehicles

__all__ = ["SPEC", "Vehicles"]
