"""What a service sees of the process it runs in (the `Runtime` implements it): the
settings and stores, and the calls the kit makes on a service's behalf. A Protocol, so the
kit's modules need not import the runtime that assembles them."""
from __future__ import annotations

from typing import Any, Protocol

from p2p.settings import Settings
from storage.blobs import LocalBlobStore
from storage.db import Database
from storage.kv import KV


class Platform(Protocol):
    settings: Settings
    db: Database
    kv: KV
    blobs: LocalBlobStore
    under_ray: bool
    registry: dict[str, Any]  # service key -> ServiceSpec, handed in by the roof

    def client(self, key: str) -> Any: ...

    async def invoke(self, key: str, method: str, args: tuple = (), kwargs: dict | None = None) -> Any: ...

    async def reference(self, key: str, method: str, *args: Any) -> Any: ...

    async def permissions(self, principal: Any) -> frozenset[str]: ...

    def forget_permissions(self, user_id: Any) -> None: ...
