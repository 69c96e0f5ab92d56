"""How the Trip Service reaches the capacity shard of a trip (actors/client.py): in this
process (`LocalShards`) or the named, detached actors `trip-capacity-0..N-1` (`RayShards`)."""
from __future__ import annotations

from actors.capacity import TripCapacity
from actors.client import LocalShardClient, RayShardClient, ShardClient
from actors.registry import CAPACITY_PREFIX, trip_capacity_shard

CapacityShards = ShardClient


class LocalShards(LocalShardClient):
    def __init__(self, shards: int, database_url: str, *, sweep_s: float):
        super().__init__([TripCapacity(i, shards, database_url, sweep_s=sweep_s) for i in range(shards)])


class RayShards(RayShardClient):
    """Every capacity call is idempotent (holds by booking id; confirm, release and close
    answer their state again), so the client's retries while a shard restarts are safe."""

    def __init__(self, shards: int, database_url: str | None, *, prefix: str | None = None):
        self.prefix = prefix or CAPACITY_PREFIX
        super().__init__(shards, lambda i: trip_capacity_shard(i, shards=shards, database_url=database_url,
                                                               prefix=self.prefix),
                         what="trip's capacity shard")
