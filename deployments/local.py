"""Every service in this process, without Ray: for service tests and quick scripts.
The same code as the compact topology, with the relay driven by the caller."""
from __future__ import annotations

from typing import Any

import httpx

from deployments.edge import add_edge_pages
from deployments.kit.http import build_app
from deployments.kit.runtime import Runtime
from deployments.registry import REGISTRY, SPECS
from p2p.settings import Settings
from storage.kv import KV


class LocalPlatform:
    def __init__(self, settings: Settings, *, kv: KV | None = None):
        self.runtime = Runtime(REGISTRY, local=list(REGISTRY), settings=settings, kv=kv, topology="compact")
        self.app = build_app(self.runtime, SPECS, extra=lambda a: add_edge_pages(a, self.runtime, SPECS))
        self.relay = self.runtime.relay()

    async def drain_events(self) -> int:
        return await self.relay.drain()

    async def deliver_webhooks(self) -> int:
        """One delivery round of the sandbox processor's queued webhooks, POSTed through this
        app (signed, as over the network); later events (a dispute after a payment) come out
        in later rounds. Returns how many were delivered."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.runtime.settings.base_url) as http:
            payments: Any = self.runtime.services["payments"]
            return await payments.deliver_webhooks(http)
