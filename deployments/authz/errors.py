"""The Authorization Service's errors."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, Unprocessable


class RoleExists(Conflict):
    """A role with this name exists."""
    code = "authz.role_exists"


class UnknownRole(Unprocessable):
    """The request names a role that does not exist."""
    code = "authz.unknown_role"


class InheritanceCycle(Unprocessable):
    """The role would inherit from itself."""
    code = "authz.inheritance_cycle"


class PrivilegeEscalation(Forbidden):
    """A caller tried to grant permissions or scopes it does not hold."""
    code = "authz.privilege_escalation"
