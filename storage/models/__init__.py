"""ORM models, one module per domain. A service imports only its own module (tested)."""
from storage.models import authn, authz, bookings, couriers, events, itineraries, places, routes, trip_search, trips, users, vehicles  # noqa: F401  (register tables)
