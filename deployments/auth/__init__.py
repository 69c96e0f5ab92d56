"""Authentication Service (spec 1.2), grown into a package: schemas, errors, events, the
login limits, tokens and MFA, and the service with its spec."""
from deployments.auth.accounts import AccountDirectory
from deployments.auth.service import SPEC, Auth

__all__ = ["SPEC", "AccountDirectory", "Auth"]
