"""User Service (spec 1.1), grown into a package: schemas, events, errors, and the service
with its spec."""
from deployments.users.service import SPEC, Users

__all__ = ["SPEC", "Users"]
