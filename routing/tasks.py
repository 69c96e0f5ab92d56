"""Ray tasks for itinerary search: many queries over one shared network snapshot."""
from __future__ import annotations

import weakref
from typing import Iterable, Sequence

from routing.graph import Network
from routing.itinerary import FxTable, ItineraryQuery, SearchResult, search


def _search_chunk(network: Network, queries: Sequence[ItineraryQuery], fx: FxTable | None) -> list[SearchResult]:
    return [search(q, network, fx=fx) for q in queries]


# Unpickling a large snapshot costs seconds (Python objects, not zero-copy buffers), so each
# worker keeps the last few it has seen, and the driver puts each snapshot once.
_WORKER_SNAPSHOTS: dict[str, Network] = {}
_PUT: "weakref.WeakKeyDictionary[Network, object]" = weakref.WeakKeyDictionary()
_REMOTE = None


def _search_chunk_by_ref(boxed_ref: list, queries: Sequence[ItineraryQuery], fx: FxTable | None) -> list[SearchResult]:
    import ray  # heavy: routing/ stays pure and importable without Ray

    ref = boxed_ref[0]  # boxed so Ray hands over the reference, not a fresh copy per task
    network = _WORKER_SNAPSHOTS.get(ref.hex())
    if network is None:
        network = ray.get(ref)
        while len(_WORKER_SNAPSHOTS) >= 2:
            _WORKER_SNAPSHOTS.pop(next(iter(_WORKER_SNAPSHOTS)))
        _WORKER_SNAPSHOTS[ref.hex()] = network
    return _search_chunk(network, queries, fx)


def _remote_chunk():
    global _REMOTE
    if _REMOTE is None:
        import ray  # heavy: routing/ stays pure and importable without Ray

        _REMOTE = ray.remote(num_cpus=1)(_search_chunk_by_ref)
    return _REMOTE


def search_many(queries: Iterable[ItineraryQuery], network: Network, *, fx: FxTable | None = None,
                use_ray: bool = True, chunk_size: int | None = None) -> list[SearchResult]:
    """Results for many queries, in the order given, spread over Ray tasks.

    The snapshot is put into the object store once (per snapshot, across calls) and each
    worker deserializes it once; queries go in chunks (by default about two per available
    CPU) so task overhead stays small. A single query is a task too, so the search's CPU
    goes to a task's core and not to the (I/O-sized) replica that asked. Ray must already be
    initialised by the caller; with `use_ray=False` it runs here, serially.
    """
    queries = list(queries)
    if not use_ray or not queries:
        return _search_chunk(network, queries, fx)
    import ray  # heavy: routing/ stays pure and importable without Ray

    ref = _PUT.get(network)
    if ref is None:
        ref = _PUT[network] = ray.put(network.compile())
    if chunk_size is None:
        cpus = max(1, int(ray.available_resources().get("CPU", 1)))
        chunk_size = max(1, -(-len(queries) // (2 * cpus)))
    task = _remote_chunk()
    refs = [task.remote([ref], queries[i:i + chunk_size], fx) for i in range(0, len(queries), chunk_size)]
    return [r for chunk in ray.get(refs) for r in chunk]
