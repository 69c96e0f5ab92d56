"""The service kit: what every service would otherwise repeat, generated from its spec.

A service module imports from here (and from `p2p` for errors, events, vocabulary and
uploads); it never imports the registry, the edge or the Serve wiring above it:

- `Service`, `ServiceSpec`: the plain class and its declaration (prefix, models, emitted
  event classes, role grants);
- `op`, `internal`, `on`: an HTTP operation, a method other services may call (with the
  permission it checks), an event handler (by event class);
- `uses`: a typed client of another service (`trips = uses(Trips)`);
- `crud.get_one`, `crud.list_mine`: generated get-by-id and own-list operations;
- `Ctx`, `Principal`, `Schema`, `Page`, `Limit`, `FormField`, `RawRequest` (body bytes and headers,
  for signed webhooks).
"""
from deployments.kit import crud
from deployments.kit.clients import uses
from deployments.kit.context import Ctx, Principal
from deployments.kit.http import FormField, RawRequest
from deployments.kit.schemas import Limit, Page, Schema
from deployments.kit.spec import Service, ServiceSpec, internal, on, op

__all__ = ["Ctx", "FormField", "Limit", "Page", "Principal", "RawRequest", "Schema", "Service", "ServiceSpec", "crud",
           "internal", "on", "op", "uses"]
