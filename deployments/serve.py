"""Services as Serve applications, in two topologies of the same code.

full:    one application per service at its own route prefix (one hop per request), plus
         the edge application at `/` (combined OpenAPI, docs, aliases).
compact: one application whose single ingress serves every service and the edge pages.

`serve_config.yaml` is generated from the registry (`p2p serve-config`) and a test keeps
the two equal."""
from __future__ import annotations

import logging
from functools import partial
from typing import Any

from ray import serve

from actors.relay import EventRelay
from deployments.edge import add_edge_pages, build_edge_app
from deployments.kit.clients import invoke_local
from deployments.kit.events import dispatch_event
from deployments.kit.http import FullPath, build_app
from deployments.kit.runtime import COMPACT_APP, Runtime
from deployments.registry import REGISTRY, SPECS
from p2p.errors import ProblemError
from p2p.events import Envelope
from p2p.logs import setup_logging

log = logging.getLogger("p2p.serve")
EDGE_APP = "edge"


# `@serve.ingress()` with no app, plus `__serve_build_asgi_app__`: Serve asks each replica
# for its ASGI app after __init__, so the FastAPI app (routes generated from the specs) is
# built inside the replica, never pickled from the driver.
@serve.deployment
@serve.ingress()
class ServiceDeployment:
    """A replica running the services `keys` (one in full, all in compact)."""

    def __init__(self, keys: list[str], topology: str, with_edge: bool = False):
        setup_logging()
        self.keys, self.with_edge = keys, with_edge
        self.runtime = Runtime(REGISTRY, local=keys, under_ray=True, topology=topology)

    def __serve_build_asgi_app__(self):
        specs = [self.runtime.registry[k] for k in self.keys]
        title = "P2P Delivery Platform" if self.with_edge else specs[0].title
        app = build_app(self.runtime, specs, title=title,
                        extra=(lambda a: add_edge_pages(a, self.runtime, specs)) if self.with_edge else None)
        return FullPath(app) if not self.with_edge else app

    async def call(self, key: str, method: str, args: tuple, kwargs: dict) -> tuple[str, Any]:
        """Service-to-service entry point (`@internal` methods only). Errors travel as
        values, so the caller re-raises the very ProblemError (Ray would wrap it otherwise)."""
        await self.runtime.startup()
        try:
            return "ok", await invoke_local(self.runtime.services[key], method, args, kwargs)
        except ProblemError as exc:
            return "err", exc

    async def call_op(self, key: str, method: str, args: tuple, kwargs: dict) -> tuple[str, Any]:
        """The edge's entry point for alias routes: an operation the edge already
        authenticated and authorised."""
        await self.runtime.startup()
        svc = self.runtime.services[key]
        if method not in {op.name for op, _fn in svc.spec.ops}:
            return "err", ProblemError(f"{key} has no operation {method}")
        try:
            return "ok", await getattr(svc, method)(*args, **kwargs)
        except ProblemError as exc:
            return "err", exc

    async def handle_event(self, key: str, envelope: Envelope) -> tuple[str, Any]:
        await self.runtime.startup()
        try:
            return "ok", await dispatch_event(self.runtime.services[key], envelope)
        except ProblemError as exc:
            return "err", exc


@serve.deployment
@serve.ingress()
class EdgeDeployment:
    """`/`: the combined OpenAPI document, the docs page, and aliases/collision routes that
    forward to the owning application through its handle."""

    def __init__(self):
        setup_logging()
        self.runtime = Runtime(REGISTRY, local=[], under_ray=True, topology="full")

    def __serve_build_asgi_app__(self):
        return build_edge_app(self.runtime)


def _actor_options(num_cpus: float, args: dict | None) -> dict:
    """`args["env"]` (set by `p2p up`) pins the P2P_* settings of every replica, whatever
    environment the cluster was started with."""
    opts: dict = {"num_cpus": num_cpus}
    if args and args.get("env"):
        opts["runtime_env"] = {"env_vars": dict(args["env"])}
    return opts


def service_app(args: dict) -> serve.Application:
    """Application builder for one service (serve_config.yaml: `args: {service: users}`)."""
    spec = REGISTRY[args["service"]]
    return ServiceDeployment.options(name=spec.key, ray_actor_options=_actor_options(spec.num_cpus, args),
                                     max_ongoing_requests=spec.max_ongoing_requests).bind([spec.key], "full")


def edge_app(args: dict | None = None) -> serve.Application:
    return EdgeDeployment.options(name=EDGE_APP, ray_actor_options=_actor_options(0.05, args),
                                  max_ongoing_requests=200).bind()


def compact_app(args: dict | None = None) -> serve.Application:
    return ServiceDeployment.options(name=COMPACT_APP, ray_actor_options=_actor_options(0.1, args),
                                     max_ongoing_requests=500).bind(list(REGISTRY), "compact", True)


def applications(topology: str) -> list[dict]:
    """(name, route_prefix, import_path, args) of every application, from the registry."""
    if topology == "compact":
        return [{"name": COMPACT_APP, "route_prefix": "/", "import_path": "deployments.serve:compact_app",
                 "args": {}}]
    apps = [{"name": s.key, "route_prefix": s.prefix, "import_path": "deployments.serve:service_app",
             "args": {"service": s.key}} for s in SPECS]
    apps.append({"name": EDGE_APP, "route_prefix": "/", "import_path": "deployments.serve:edge_app", "args": {}})
    return apps


def serve_config(topology: str = "full", *, host: str = "127.0.0.1", port: int = 8000) -> dict:
    return {
        "proxy_location": "HeadOnly",
        "http_options": {"host": host, "port": port},
        "applications": applications(topology),
    }


def build_relay(topology: str) -> tuple[EventRelay, float]:
    """What the relay actor runs: a relay delivering to the services of `topology`."""
    setup_logging()
    runtime = Runtime(REGISTRY, local=[], under_ray=True, topology=topology)
    return runtime.relay(), runtime.settings.event_poll_s


def relay_builder(topology: str) -> partial:
    return partial(build_relay, topology)
