"""Custody test helpers: a planned 2-leg shipment (`Walk`) whose scans, photos and proof
tests send to a custody shard, and a row count."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from actors.custody.schemas import OpenIn, PhotoIn, ScanIn, StepPlan
from p2p.security import hash_password
from storage.db import Database, utcnow

LHR, JFK = (51.47, -0.4543), (40.6413, -73.7781)


class Walk:
    """A 2-leg shipment: sender -> traveler (at LHR) -> courier (at JFK) -> recipient (at JFK)."""

    def __init__(self):
        self.shipment, self.sender, self.traveler, self.courier = (uuid.uuid4() for _ in range(4))
        now = utcnow()
        self.plan = OpenIn(booking_id=uuid.uuid4(), tracking_number="P2P" + uuid.uuid4().hex[:10].upper(),
                           sender_id=self.sender, code_hash=hash_password("123456"), steps=[
            StepPlan(seq=0, giver_id=self.sender, giver_role="sender", receiver_id=self.traveler,
                     receiver_role="traveler", leg_started=0, place="apt:LHR", lat=LHR[0], lon=LHR[1],
                     planned_at=now),
            StepPlan(seq=1, giver_id=self.traveler, giver_role="traveler", receiver_id=self.courier,
                     receiver_role="courier", leg_completed=0, leg_started=1, place="apt:JFK", lat=JFK[0],
                     lon=JFK[1], planned_at=now + timedelta(hours=8)),
            StepPlan(seq=2, giver_id=self.courier, giver_role="courier", receiver_id=None, receiver_role="recipient",
                     leg_completed=1, place="city:US:new-york", lat=JFK[0], lon=JFK[1],
                     planned_at=now + timedelta(hours=10))])

    def scan(self, step, kind, scanner, *, at=LHR, code="ok", scan_id=None, qr_kind=None):
        return ScanIn(scan_id=scan_id or uuid.uuid4(), step_id=step.id, kind=kind, scanner_id=scanner,
                      qr_id=uuid.uuid4(), qr_kind=qr_kind or kind, qr_code=code, lat=at[0], lon=at[1],
                      scanned_at=utcnow())

    def photo(self, step, by):
        return PhotoIn(photo_id=uuid.uuid4(), step_id=step.id, sha256="0" * 64, content_type="image/png",
                       size_bytes=10, uploaded_by=by)


async def opened(shard):
    w = Walk()
    out = await shard.open(w.shipment, w.plan)
    return w, out


async def count(url, model, **by):
    db = Database(url)
    try:
        async with db.reader() as s:
            return await s.scalar(select(func.count()).select_from(model).filter_by(**by))
    finally:
        await db.dispose()
