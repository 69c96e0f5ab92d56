"""The one list of services. Topologies, serve_config.yaml, the combined OpenAPI document and
the README's API table all derive from it. A new service is one module plus one line here."""
from __future__ import annotations

from deployments import (
    accounting,
    auth,
    authz,
    bookings,
    couriers,
    customs,
    escrow,
    handoffs,
    itineraries,
    locations,
    payments,
    payouts,
    qr,
    routes,
    shipments,
    tracking,
    trip_search,
    trips,
    users,
    vehicles,
)
from deployments.kit.spec import ServiceSpec

SPECS: list[ServiceSpec] = [
    users.SPEC,
    auth.SPEC,
    authz.SPEC,
    locations.SPEC,
    vehicles.SPEC,
    couriers.SPEC,
    trips.SPEC,
    itineraries.SPEC,
    bookings.SPEC,
    shipments.SPEC,
    qr.SPEC,
    handoffs.SPEC,
    tracking.SPEC,
    customs.SPEC,
    payments.SPEC,
    escrow.SPEC,
    payouts.SPEC,
    accounting.SPEC,
    routes.SPEC,
    trip_search.SPEC,
]

REGISTRY: dict[str, ServiceSpec] = {s.key: s for s in SPECS}
