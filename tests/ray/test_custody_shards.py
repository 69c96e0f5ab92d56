"""Custody shards as Ray actors: a shard killed between two scans, or in the middle of 50
concurrent scans of one step, loses no acknowledged scan and accepts exactly one per
step; the restarted shard's state equals what a fresh one rebuilds from the database."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from actors.client import RayShardClient
from actors.custody import errors as E
from actors.custody.shard import CustodyShard
from actors.registry import custody_shard
from p2p.errors import Unavailable
from storage.models.handoffs import HandoffScan
from tests.factories.common import POSTGRES_URL, backends, pg_database
from tests.factories.custody import Walk, count

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", params=backends())
def url(request, tmp_path_factory):
    from storage.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('ray-custody') / 'c.db'}"
        upgrade(url)
        yield url
        return
    name = f"p2p_raycustody_{uuid.uuid4().hex[:8]}"
    url = pg_database(POSTGRES_URL, name)
    upgrade(url)
    yield url
    pg_database(POSTGRES_URL, name, drop=True)


@pytest.fixture()
def shards(ray_session, url):
    prefix = f"test-custody-{uuid.uuid4().hex[:6]}"
    s = RayShardClient(2, lambda i: custody_shard(i, shards=2, database_url=url, prefix=prefix), what="custody shard")
    s.prefix = prefix
    yield s
    for i in range(2):
        try:
            ray_session.kill(ray_session.get_actor(f"{prefix}-{i}", namespace="p2p"), no_restart=True)
        except ValueError:
            pass


async def retrying(shards, shipment, method, *args):
    """A client that retries with the same keys while the shard restarts."""
    for _ in range(30):
        try:
            return await shards.call(shipment, method, *args)
        except Unavailable:
            await asyncio.sleep(0.2)
    raise AssertionError(f"{method} found no answer in 30 tries")


async def rebuilt_equals(url, shards, shipment) -> None:
    fresh = CustodyShard(shards.index(shipment), 2, url)
    try:
        assert await fresh.state(shipment) == await retrying(shards, shipment, "state")
    finally:
        await fresh.close()


async def test_a_shard_killed_between_two_scans_keeps_the_first(shards, url, ray_session):
    w = Walk()
    out = await shards.call(w.shipment, "open", w.plan)
    first = w.scan(out.steps[0], "handoff", w.traveler)
    assert (await shards.call(w.shipment, "scan", first)).outcome == "ok"
    ray_session.kill(shards.handle(shards.index(w.shipment)), no_restart=False)
    second = await retrying(shards, w.shipment, "scan", w.scan(out.steps[0], "package", w.traveler))
    assert second.step.scanned == ["handoff", "package"]
    assert (await retrying(shards, w.shipment, "scan", first)).outcome == "ok"  # the retry is the same scan
    assert await count(url, HandoffScan, step_id=out.steps[0].id, outcome="ok") == 2
    await rebuilt_equals(url, shards, w.shipment)


async def test_a_shard_killed_during_fifty_concurrent_scans_accepts_exactly_one(shards, url, ray_session):
    w = Walk()
    out = await shards.call(w.shipment, "open", w.plan)
    scans = [w.scan(out.steps[0], "handoff", w.traveler) for _ in range(50)]
    answers: dict[uuid.UUID, str] = {}

    async def one(scan):
        for _ in range(30):
            try:
                answers[scan.scan_id] = (await shards.call(w.shipment, "scan", scan)).outcome
                return
            except E.CodeReplayed:
                answers[scan.scan_id] = "replayed"
                return
            except Unavailable:
                await asyncio.sleep(0.2)
        raise AssertionError("a scan found no answer in 30 tries")

    task = asyncio.ensure_future(asyncio.gather(*(one(s) for s in scans)))
    await asyncio.sleep(0)
    ray_session.kill(shards.handle(shards.index(w.shipment)), no_restart=False)
    await task
    assert len(answers) == 50 and list(answers.values()).count("ok") == 1
    assert await count(url, HandoffScan, step_id=out.steps[0].id, outcome="ok") == 1
    ok = next(s for s in scans if answers[s.scan_id] == "ok")
    assert (await retrying(shards, w.shipment, "scan", ok)).outcome == "ok"
    await rebuilt_equals(url, shards, w.shipment)
