"""Test factories, one module per domain. Every module here is registered as a pytest
plugin by tests/conftest.py (`pytest_plugins`), so any fixture defined in one is available
to every test; plain helper functions are imported from `tests.factories.<domain>`.

Test modules import from this package, never from another test module or from
`tests.conftest` (tests/kit/test_test_layout.py keeps it that way).

- common:   the test environment (POSTGRES_URL, REDIS_URL, pg_database, backends) and
            cross-cutting helpers (`problem`, `portal_call`)
- identity: users, logins, bearer headers, roles
- places:   vehicles, documents, courier providers and segments, polygons
- trips:    trips, legs, itineraries, bookings' building blocks, seeded capacity rows
- routes:   route-planning and trip-search requests over HTTP
- routing:  pure builders for the routing package (no services)
- kv:       the behaviour every KV backend must have
"""
