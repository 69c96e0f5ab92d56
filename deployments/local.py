"""Every service in this process, without Ray: for service tests and quick scripts.
The same code as the compact topology, with the relay driven by the caller."""
from __future__ import annotations

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
