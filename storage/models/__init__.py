"""ORM models, one module per domain. A service imports only its own module (tested)."""
from storage.models import authn, authz, events, users  # noqa: F401  (register tables)
