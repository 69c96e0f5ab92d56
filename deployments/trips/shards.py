"""How the Trip Service reaches the capacity shard of a trip: one interface, two homes.

`LocalShards` keeps `TripCapacity` objects in this process (the service tests' LocalPlatform,
scripts); `RayShards` calls the named, detached actors `trip-capacity-0..N-1`. Both route a
trip by `shard_of` so a trip has one home whichever process asks.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from ray.exceptions import RayActorError, RayTaskError

from actors.capacity import TripCapacity, shard_of
from actors.registry import CAPACITY_PREFIX, trip_capacity_shard
from p2p.errors import ProblemError, Unavailable

log = logging.getLogger("p2p.trips.shards")


class CapacityShards:
    def __init__(self, shards: int):
        self.n = shards

    def index(self, trip_id: uuid.UUID) -> int:
        return shard_of(trip_id, self.n)

    async def call(self, trip_id: uuid.UUID, method: str, *args: Any, **kwargs: Any) -> Any:
        """`method(trip_id, *args, **kwargs)` on the shard owning the trip."""
        raise NotImplementedError


class LocalShards(CapacityShards):
    def __init__(self, shards: int, database_url: str, *, sweep_s: float):
        super().__init__(shards)
        self.shards = [TripCapacity(i, shards, database_url, sweep_s=sweep_s) for i in range(shards)]

    async def call(self, trip_id, method, *args, **kwargs):
        return await getattr(self.shards[self.index(trip_id)], method)(trip_id, *args, **kwargs)


class RayShards(CapacityShards):
    """Calls retry (with backoff) while a shard restarts: safe, since every shard call is
    idempotent by booking id. Ray itself also retries a task a few times (max_task_retries)."""

    ATTEMPTS = 6

    def __init__(self, shards: int, database_url: str | None, *, prefix: str | None = None):
        super().__init__(shards)
        self.url, self.prefix = database_url, prefix or CAPACITY_PREFIX
        self._handles: dict[int, Any] = {}

    def handle(self, i: int):
        if i not in self._handles:
            self._handles[i] = trip_capacity_shard(i, shards=self.n, database_url=self.url, prefix=self.prefix)
        return self._handles[i]

    async def call(self, trip_id, method, *args, **kwargs):
        i = self.index(trip_id)
        for attempt in range(self.ATTEMPTS):
            try:
                return await getattr(self.handle(i), method).remote(trip_id, *args, **kwargs)
            except RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, ProblemError):
                    raise cause from None
                raise
            except RayActorError:
                log.warning("capacity shard %s unavailable (attempt %s); retrying", i, attempt + 1)
                self._handles.pop(i, None)
                await asyncio.sleep(min(0.2 * 2 ** attempt, 3.0))
        raise Unavailable("The trip's capacity shard is restarting; retry.", shard=i, retry_after=1)
