"""The service kit: what every service would otherwise repeat, generated from its spec.

A service module imports from here only: `Service`, `ServiceSpec`, `op`, `internal`, `on`,
`Ctx`, `Schema`, `Page`, and the errors of `p2p.errors`.
"""
from deployments.kit.context import Ctx, Principal
from deployments.kit.schemas import Page, Schema
from deployments.kit.spec import Service, ServiceSpec, internal, on, op

__all__ = ["Ctx", "Principal", "Page", "Schema", "Service", "ServiceSpec", "internal", "on", "op"]
