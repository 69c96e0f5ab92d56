"""How the Trip Service reaches the capacity shard of a trip: one interface, two homes.

`LocalShards` keeps `TripCapacity` objects in this process (the service tests' LocalPlatform,
scripts); `RayShards` calls the named, detached actors `trip-capacity-0..N-1`, coalescing
concurrent calls to one shard into one message. Both route a
trip by `shard_of` so a trip has one home whichever process asks.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
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
    """Calls to one shard are coalesced: the calls made while a message to it is being
    prepared go together as one `call_many` (at most PIPELINE messages in flight per
    shard), so the shard decides them together and commits them in one batch, and a
    burst of holds costs a few actor calls instead of one each. A message retries (with
    backoff) while the shard restarts: safe, since every shard call is idempotent (holds by
    booking id; confirm, release and close answer their state again)."""

    ATTEMPTS = 6
    PIPELINE = 2
    MAX_CALLS = 256

    def __init__(self, shards: int, database_url: str | None, *, prefix: str | None = None):
        super().__init__(shards)
        self.url, self.prefix = database_url, prefix or CAPACITY_PREFIX
        self._handles: dict[int, Any] = {}
        self._pending: dict[int, list[tuple[tuple, asyncio.Future]]] = defaultdict(list)
        self._in_flight: dict[int, int] = defaultdict(int)

    def handle(self, i: int):
        if i not in self._handles:
            self._handles[i] = trip_capacity_shard(i, shards=self.n, database_url=self.url, prefix=self.prefix)
        return self._handles[i]

    async def call(self, trip_id, method, *args, **kwargs):
        i = self.index(trip_id)
        answer = asyncio.get_running_loop().create_future()
        self._pending[i].append(((method, (trip_id, *args), kwargs), answer))
        self._kick(i)
        ok, value = await answer
        if not ok:
            raise value
        return value

    def _kick(self, i: int) -> None:
        if self._pending[i] and self._in_flight[i] < self.PIPELINE:
            self._in_flight[i] += 1
            asyncio.get_running_loop().create_task(self._send(i))

    async def _send(self, i: int) -> None:
        try:
            await asyncio.sleep(0)  # the calls made in this turn of the loop join the message
            batch, self._pending[i] = self._pending[i][:self.MAX_CALLS], self._pending[i][self.MAX_CALLS:]
            if not batch:
                return
            try:
                results = await self._call_many(i, [c for c, _ in batch])
            except Exception as exc:
                results = [(False, exc)] * len(batch)
            for (_, answer), result in zip(batch, results):
                if not answer.done():
                    answer.set_result(result)
        finally:
            self._in_flight[i] -= 1
            self._kick(i)

    async def _call_many(self, i: int, calls: list[tuple]) -> list[tuple[bool, Any]]:
        for attempt in range(self.ATTEMPTS):
            try:
                return await self.handle(i).call_many.remote(calls)
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
