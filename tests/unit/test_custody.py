"""The custody shard as a plain class (no Ray): steps, scans, photos, proof and events on
SQLite (and PostgreSQL when configured); refusals recorded and changing nothing; a burst
of concurrent scans of one step accepts exactly one; a rebuilt view equals the database."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from actors.custody import errors as E
from actors.custody.schemas import EventIn, ProofIn
from actors.custody.shard import CustodyShard, distance_m
from storage.db import Database, utcnow
from storage.models.handoffs import HandoffScan
from storage.models.tracking import CustodyState, TrackingEvent
from tests.factories.common import POSTGRES_URL, backends, pg_database
from tests.factories.custody import JFK, LHR, count, opened


@pytest.fixture(scope="module", params=backends())
def url(request, tmp_path_factory):
    from storage.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('custody') / 'c.db'}"
        upgrade(url)
        yield url
        return
    name = f"p2p_custody_{uuid.uuid4().hex[:8]}"
    url = pg_database(POSTGRES_URL, name)
    upgrade(url)
    yield url
    pg_database(POSTGRES_URL, name, drop=True)


@pytest.fixture()
async def shard(url):
    s = CustodyShard(0, 1, url)
    yield s
    await s.close()


class TestOpen:
    async def test_opening_makes_the_steps_in_order_and_again_answers_the_same(self, shard):
        w, out = await opened(shard)
        assert out.created and out.status == "pre_transit" and [s.seq for s in out.steps] == [0, 1, 2]
        assert out.steps[0].status == "awaiting_pickup" and out.next_seq == 0
        again = await shard.open(w.shipment, w.plan)
        assert not again.created and [s.id for s in again.steps] == [s.id for s in out.steps]


class TestWalk:
    async def test_a_full_walk_delivers_with_every_event_in_order(self, shard, url):
        w, out = await opened(shard)
        s0, s1, s2 = out.steps
        await shard.scan(w.shipment, w.scan(s0, "handoff", w.traveler))
        await shard.photo(w.shipment, w.photo(s0, w.sender))
        step = (await shard.scan(w.shipment, w.scan(s0, "package", w.traveler))).step
        assert step.status == "transferred"
        assert (await shard.state(w.shipment)).status == "picked_up"
        await shard.scan(w.shipment, w.scan(s1, "handoff", w.courier, at=JFK))
        await shard.scan(w.shipment, w.scan(s1, "package", w.courier, at=JFK))
        await shard.photo(w.shipment, w.photo(s1, w.courier))
        assert (await shard.state(w.shipment)).status == "out_for_delivery"
        await shard.scan(w.shipment, w.scan(s2, "package", w.courier, at=JFK))
        await shard.photo(w.shipment, w.photo(s2, w.courier))
        with pytest.raises(E.RecipientCodeWrong):
            await shard.deliver(w.shipment, ProofIn(proof_id=uuid.uuid4(), recorded_by=w.courier, code="000000",
                                                    photo_sha256="1" * 64))
        done = await shard.deliver(w.shipment, ProofIn(proof_id=uuid.uuid4(), recorded_by=w.courier, code="123456",
                                                       photo_sha256="1" * 64))
        assert done.status == "delivered" and done.holder_role == "recipient" and done.next_seq is None
        db = Database(url)
        async with db.reader() as s:
            events = (await s.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id == w.shipment)
                                      .order_by(TrackingEvent.seq))).all()
            state = await s.get(CustodyState, w.shipment)
        await db.dispose()
        assert [e.status for e in events] == ["pre_transit", "picked_up", "out_for_delivery", "delivered"]
        assert state.code_attempts == 1 and state.status == "delivered"


class TestRefusals:
    @pytest.mark.parametrize("case", ["out_of_order", "not_a_party", "too_far", "forged", "expired", "wrong_kind"])
    async def test_a_refused_scan_is_recorded_and_changes_no_custody(self, shard, url, case):
        w, out = await opened(shard)
        s0, s1, _ = out.steps
        scan, error = {
            "out_of_order": (w.scan(s1, "handoff", w.courier, at=JFK), E.ScanOutOfOrder),
            "not_a_party": (w.scan(s0, "handoff", w.courier), E.NotAParty),
            "too_far": (w.scan(s0, "handoff", w.traveler, at=JFK), E.TooFar),
            "forged": (w.scan(s0, "handoff", w.traveler, code="qr.forged"), E.CodeForged),
            "expired": (w.scan(s0, "handoff", w.traveler, code="qr.revoked"), E.CodeExpired),
            "wrong_kind": (w.scan(s0, "handoff", w.traveler, qr_kind="package"), E.WrongCode),
        }[case]
        before = await shard.state(w.shipment)
        with pytest.raises(error):
            await shard.scan(w.shipment, scan)
        with pytest.raises(error):  # a retry answers the same refusal
            await shard.scan(w.shipment, scan)
        after = await shard.state(w.shipment)
        assert after.model_dump(exclude={"version"}) == before.model_dump(exclude={"version"})
        assert await count(url, HandoffScan, id=scan.scan_id, outcome="ok") == 0
        assert await count(url, HandoffScan, id=scan.scan_id) == 1

    async def test_an_accepted_code_scanned_again_is_replayed(self, shard):
        w, out = await opened(shard)
        first = w.scan(out.steps[0], "handoff", w.traveler)
        assert (await shard.scan(w.shipment, first)).outcome == "ok"
        assert (await shard.scan(w.shipment, first)).outcome == "ok"  # same scan id: same answer
        with pytest.raises(E.CodeReplayed):
            await shard.scan(w.shipment, w.scan(out.steps[0], "handoff", w.traveler))

    async def test_an_exception_needs_a_reason_and_ends_custody(self, shard):
        w, _ = await opened(shard)
        ev = dict(event_id=uuid.uuid4(), status="lost", description="Gone", occurred_at=utcnow())
        with pytest.raises(E.ReasonRequired):
            await shard.record(w.shipment, EventIn(**ev))
        out = await shard.record(w.shipment, EventIn(**{**ev, "reason": "carrier_lost_in_transit"}))
        assert out.status == "lost" and all(s.status == "cancelled" for s in out.steps)
        with pytest.raises(E.CustodyClosed):
            await shard.record(w.shipment, EventIn(**{**ev, "event_id": uuid.uuid4(), "reason": "other_x"}))


class TestConcurrency:
    async def test_fifty_concurrent_scans_of_one_step_accept_exactly_one(self, shard, url):
        w, out = await opened(shard)
        scans = [w.scan(out.steps[0], "handoff", w.traveler) for _ in range(50)]
        results = await asyncio.gather(*(shard.scan(w.shipment, s) for s in scans), return_exceptions=True)
        assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
        assert all(isinstance(r, E.CodeReplayed) for r in results if isinstance(r, BaseException))
        assert await count(url, HandoffScan, step_id=out.steps[0].id, outcome="ok") == 1
        assert await count(url, HandoffScan, step_id=out.steps[0].id) == 50

    async def test_a_rebuilt_view_equals_the_one_it_replaces(self, shard, url):
        w, out = await opened(shard)
        await shard.scan(w.shipment, w.scan(out.steps[0], "handoff", w.traveler))
        await shard.photo(w.shipment, w.photo(out.steps[0], w.sender))
        before = await shard.state(w.shipment)
        fresh = CustodyShard(0, 1, url)
        try:
            assert (await fresh.state(w.shipment)) == before
        finally:
            await fresh.close()


def test_distance_is_great_circle():
    assert 5_530_000 < distance_m(*LHR, *JFK) < 5_560_000
