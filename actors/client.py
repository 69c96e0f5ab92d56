"""How a service reaches the shards of an entity kind: one interface, two homes.

`LocalShardClient` keeps the shard objects in this process (the service tests'
LocalPlatform, scripts); `RayShardClient` calls named, detached actors, coalescing
concurrent calls to one shard into one `call_many` message. Both route an entity by
`shard_of`, so an entity has one home whichever process asks."""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from typing import Any, Callable

from ray.exceptions import RayActorError, RayTaskError

from actors.shard import shard_of
from p2p.errors import ProblemError, Unavailable

log = logging.getLogger("p2p.shards")


class ShardClient:
    def __init__(self, shards: int):
        self.n = shards

    def index(self, entity_id: uuid.UUID) -> int:
        return shard_of(entity_id, self.n)

    async def call(self, entity_id: uuid.UUID, method: str, *args: Any, **kwargs: Any) -> Any:
        """`method(entity_id, *args, **kwargs)` on the shard owning the entity."""
        raise NotImplementedError


class LocalShardClient(ShardClient):
    def __init__(self, shards: list[Any]):
        super().__init__(len(shards))
        self.shards = shards

    async def call(self, entity_id, method, *args, **kwargs):
        return await getattr(self.shards[self.index(entity_id)], method)(entity_id, *args, **kwargs)


class RayShardClient(ShardClient):
    """Calls to one shard are coalesced: the calls made while a message to it is being
    prepared go together as one `call_many` (at most PIPELINE messages in flight per
    shard), so the shard decides them together and commits them in one batch, and a
    burst of holds costs a few actor calls instead of one each. A message retries (with
    backoff) while the shard restarts: safe only because every shard call must be
    idempotent (capacity holds by booking id, custody scans by scan id)."""

    ATTEMPTS = 6
    PIPELINE = 2
    MAX_CALLS = 256

    def __init__(self, shards: int, handle_of: Callable[[int], Any], *, what: str = "shard"):
        super().__init__(shards)
        self.handle_of, self.what = handle_of, what
        self._handles: dict[int, Any] = {}
        self._pending: dict[int, list[tuple[tuple, asyncio.Future]]] = defaultdict(list)
        self._in_flight: dict[int, int] = defaultdict(int)

    def handle(self, i: int):
        if i not in self._handles:
            self._handles[i] = self.handle_of(i)
        return self._handles[i]

    async def call(self, entity_id, method, *args, **kwargs):
        i = self.index(entity_id)
        answer = asyncio.get_running_loop().create_future()
        self._pending[i].append(((method, (entity_id, *args), kwargs), answer))
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
                log.warning("%s %s unavailable (attempt %s); retrying", self.what, i, attempt + 1)
                self._handles.pop(i, None)
                await asyncio.sleep(min(0.2 * 2 ** attempt, 3.0))
        raise Unavailable(f"The {self.what} is restarting; retry.", shard=i, retry_after=1)
