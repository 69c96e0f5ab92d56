"""The embedded KV store when no Redis is configured: one named, detached actor per cluster."""
from __future__ import annotations

from storage.kv import MemoryKV


class KVStore(MemoryKV):
    """Same semantics as MemoryKV; Ray serialises calls, so each operation is atomic."""
