"""The system roles. Their names, descriptions and inheritance are defined here; what each
role may do is what the services grant it (`ServiceSpec.grants`), assembled from the
registry when the Authorization Service starts."""
from __future__ import annotations

from dataclasses import dataclass

from deployments.kit import ServiceSpec
from storage.models.authz import Role


@dataclass(frozen=True)
class SystemRole:
    description: str
    inherits: tuple[str, ...] = ("member",)
    permissions: tuple[str, ...] = ()  # held whatever the services grant


SYSTEM_ROLES: dict[str, SystemRole] = {
    "member": SystemRole("Every signed-up user: own profile, settings, sessions and API keys", inherits=()),
    "sender": SystemRole("Ships packages"),
    "traveler": SystemRole("Carries packages on flights"),
    "courier": SystemRole("Local first and last mile"),
    "support": SystemRole("Helps users"),
    "compliance": SystemRole("Reviews vehicles and documents"),
    "finance": SystemRole("Runs the money: ledger, reconciliation, payouts, refunds"),
    "admin": SystemRole("Everything", inherits=(), permissions=("*",)),
}

def seeded_roles(registry: dict[str, ServiceSpec]) -> dict[str, tuple[str, list[str], list[str]]]:
    """name -> (description, permissions, inherits) of every system role, from the specs'
    grants. A grant to a role that is not a system role is a bug: it fails the startup."""
    granted = {name: set(role.permissions) for name, role in SYSTEM_ROLES.items()}
    for spec in registry.values():
        for role, perms in spec.grants.items():
            if role not in granted:
                raise ValueError(f"{spec.key} grants {list(perms)} to {role!r}, which is not a system role")
            granted[role].update(perms)
    return {name: (role.description, sorted(granted[name]), list(role.inherits)) for name, role in SYSTEM_ROLES.items()}


def expand(roles: dict[str, Role], names: list[str]) -> set[str]:
    """The permissions of the roles `names` and of every role they inherit, transitively
    (unknown names are skipped)."""
    perms: set[str] = set()
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen or name not in roles:
            continue
        seen.add(name)
        perms.update(roles[name].permissions)
        stack.extend(roles[name].inherits)
    return perms
