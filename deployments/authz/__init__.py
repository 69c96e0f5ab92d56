"""Authorization Service (spec 1.3), grown into a package: schemas, errors, events, the
system roles, and the service with its spec."""
from deployments.authz.schemas import ApiKeyCreate, RoleCreate, RolesAssign
from deployments.authz.service import SPEC, Authz

__all__ = ["SPEC", "ApiKeyCreate", "Authz", "RoleCreate", "RolesAssign"]
