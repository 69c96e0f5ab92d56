"""Custody shards: each shipment's chain of custody on the shard base (`actors/shard.py`:
loading, serialisation per shipment, group commit, recovery).

A shipment's view is its custody state, its handoff steps in order, the scan ids it has
seen (a retried scan answers its first outcome) and its tracking event count. A step
completes when its scans and photos are in: the receiver's scan of the giver's code and
of the package code and one photo; on the last step (to the recipient, who has no
account) the giver's scan of the package code, one photo and the delivery proof with the
recipient's one-time code. A refused scan is written too (invalid, expired or replayed)
and changes nothing else.

Guards in the database: the custody row moves by an UPDATE on its version, a step by an
UPDATE on its status, and a partial unique index allows one accepted scan per step and
kind; a second writer fails the batch, and its calls are decided again on a rebuilt view.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from actors.custody import errors as E
from actors.custody.events import (
    CustodyOpened,
    HandoffTransferred,
    ShipmentDelivered,
    ShipmentException,
    ShipmentOutForDelivery,
    ShipmentPickedUp,
)
from actors.custody.schemas import CustodyOut, EventIn, OpenIn, PhotoIn, ProofIn, ScanIn, ScanKind, ScanOut, StepOut
from actors.shard import Shard, Stale, Tx
from p2p.security import verify_password
from p2p.settings import get_settings
from p2p.vocab import REASON_PREFIXES
from storage.db import Database, utcnow
from storage.models.handoffs import HandoffPhoto, HandoffScan, HandoffStep
from storage.models.tracking import CustodyState, DeliveryProof, TrackingEvent

CLOSED = ("delivered", "cancelled", "lost", "return_to_sender")
QR_REFUSALS = {"qr.forged": (E.CodeForged, "invalid"), "qr.expired": (E.CodeExpired, "expired"),
               "qr.revoked": (E.CodeExpired, "expired"), "qr.already_used": (E.CodeReplayed, "replayed"),
               "qr.wrong_step": (E.WrongCode, "invalid"), "qr.wrong_scanner": (E.NotAParty, "invalid")}
MAX_CODE_ATTEMPTS = 5
BY_CODE = {c.code: c for c in vars(E).values() if isinstance(c, type) and issubclass(c, E.ProblemError)}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2, dp, dl = map(math.radians, (lat1, lat2, lat2 - lat1, lon2 - lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * 6_371_000 * math.asin(math.sqrt(a)))


@dataclass
class _Step:
    row: dict[str, Any]
    scanned: dict[ScanKind, uuid.UUID] = field(default_factory=dict)  # kind -> accepted scan id
    photos: int = 0

    def out(self, last: bool) -> StepOut:
        r = self.row
        return StepOut(**{k: r[k] for k in ("id", "shipment_id", "seq", "giver_id", "giver_role", "receiver_id",
                                            "receiver_role", "leg_completed", "leg_started", "place", "planned_at",
                                            "status", "transferred_at")},
                       scanned=sorted(self.scanned), photos=self.photos, last=last)


@dataclass
class _Custody:
    state: dict[str, Any]
    steps: list[_Step]
    scans: dict[uuid.UUID, tuple[str, Any, str]] = field(default_factory=dict)  # id -> (digest, answer, code)

    def step(self, step_id: uuid.UUID) -> tuple[int, _Step]:
        for i, s in enumerate(self.steps):
            if s.row["id"] == step_id:
                return i, s
        raise E.StepNotFound("No such handoff step on this shipment.", step_id=str(step_id))

    def out(self, created: bool = False) -> CustodyOut:
        n = len(self.steps)
        return CustodyOut(**{k: self.state[k] for k in ("shipment_id", "booking_id", "tracking_number", "sender_id",
                                                        "status", "holder_id", "holder_role", "next_seq",
                                                        "next_due_at", "version")},
                          steps=[s.out(i == n - 1) for i, s in enumerate(self.steps)], created=created)


# -- writes, as `persist` applies them ----------------------------------------------------
@dataclass
class NewRows:
    """A row to insert, as it is now (a copy: the view goes on changing its own)."""
    model: Any
    row: dict[str, Any]

    def __post_init__(self) -> None:
        self.row = dict(self.row)


@dataclass
class StateMoved:
    shipment_id: uuid.UUID
    version: int  # the version the view had before the change
    values: dict[str, Any]


@dataclass
class StepMoved:
    step_id: uuid.UUID
    was: str
    values: dict[str, Any]


ORDER = (CustodyState, HandoffStep, HandoffScan, HandoffPhoto, DeliveryProof, TrackingEvent)


class CustodyShard(Shard[_Custody]):
    source = "tracking"
    remote_methods = frozenset({"open", "state", "scan", "photo", "deliver", "record"})

    def __init__(self, shard: int = 0, shards: int = 1, database_url: str | None = None, *,
                 batch_max: int | None = None):
        s = get_settings()
        super().__init__(shard, shards, Database(database_url or s.effective_database_url),
                         batch_max=batch_max or s.shard_batch_max, batch_wait_s=s.shard_batch_wait_s)
        self.radius_m, self.grace = s.handoff_radius_m, timedelta(seconds=s.custody_stuck_grace_s)

    # -- the view ------------------------------------------------------------------------
    async def load_view(self, session, shipment_id: uuid.UUID) -> _Custody | None:
        state = await session.get(CustodyState, shipment_id)
        if state is None:
            return None
        cols = lambda m, r: {c.key: getattr(r, c.key) for c in m.__table__.columns}  # noqa: E731
        steps = {r.id: _Step(cols(HandoffStep, r)) for r in (await session.scalars(
            select(HandoffStep).where(HandoffStep.shipment_id == shipment_id).order_by(HandoffStep.seq))).all()}
        view = _Custody(cols(CustodyState, state), list(steps.values()))
        for sc in (await session.scalars(select(HandoffScan).where(HandoffScan.shipment_id == shipment_id))).all():
            view.scans[sc.id] = (_digest(sc.step_id, sc.kind, sc.scanner_id, sc.qr_id), None, sc.code)
            if sc.outcome == "ok":
                steps[sc.step_id].scanned[sc.kind] = sc.id
        for ph in (await session.scalars(select(HandoffPhoto).where(HandoffPhoto.shipment_id == shipment_id))).all():
            steps[ph.step_id].photos += 1
        return view

    async def persist(self, uow, writes: list[Any]) -> None:
        session = uow.session
        inserts: dict[type, list[dict[str, Any]]] = {m: [] for m in ORDER}
        for w in writes:
            if isinstance(w, NewRows):
                inserts[w.model].append(w.row)
        for model in ORDER:
            if inserts[model]:
                await session.execute(insert(model), inserts[model])
        for w in writes:
            if isinstance(w, StepMoved):
                res = await session.execute(update(HandoffStep).where(HandoffStep.id == w.step_id,
                                                                      HandoffStep.status == w.was).values(**w.values))
                if res.rowcount != 1:
                    raise Stale(f"step {w.step_id} is not {w.was}")
            elif isinstance(w, StateMoved):
                res = await session.execute(update(CustodyState).where(
                    CustodyState.shipment_id == w.shipment_id, CustodyState.version == w.version).values(**w.values))
                if res.rowcount != 1:
                    raise Stale(f"custody of {w.shipment_id} is not at version {w.version}")

    # -- operations ----------------------------------------------------------------------
    async def open(self, shipment_id: uuid.UUID, body: OpenIn) -> CustodyOut:
        """Create the steps and the custody state (pre_transit); opening again answers it."""
        def decide(view: _Custody | None, tx: Tx) -> CustodyOut:
            if view is not None:
                return view.out()
            now, first = utcnow(), body.steps[0]
            steps = [_Step(dict(id=uuid.uuid4(), shipment_id=shipment_id, booking_id=body.booking_id, status="planned",
                                transferred_at=None, created_at=now, **p.model_dump())) for p in body.steps]
            steps[0].row["status"] = "awaiting_pickup"
            state = dict(shipment_id=shipment_id, booking_id=body.booking_id, tracking_number=body.tracking_number,
                         sender_id=body.sender_id, status="pre_transit", holder_id=body.sender_id,
                         holder_role="sender", next_seq=first.seq, next_due_at=first.planned_at + self.grace,
                         steps=len(steps), code_hash=body.code_hash, code_attempts=0, events=0, last_event_at=now,
                         version=1)
            view = _Custody(state, steps)
            tx.write(NewRows(CustodyState, state), *(NewRows(HandoffStep, s.row) for s in steps))
            self._event(tx, view, "pre_transit", "Booking confirmed; waiting for the pickup.", source="system")
            tx.emit(CustodyOpened(shipment_id=shipment_id, booking_id=body.booking_id, status="pre_transit", at=now,
                                  steps=len(steps)), shipment_id)
            self._views[shipment_id] = view
            return view.out(created=True)

        return await self.run(shipment_id, decide, idem=("open", shipment_id))

    async def state(self, shipment_id: uuid.UUID) -> CustodyOut:
        return await self.run(shipment_id, lambda view, tx: self._need(view).out())

    async def scan(self, shipment_id: uuid.UUID, body: ScanIn) -> ScanOut:
        """Record one scan: accepted, or refused with a distinct code and recorded anyway."""
        def decide(view: _Custody | None, tx: Tx) -> ScanOut:
            view = self._need(view)
            digest = _digest(body.step_id, body.kind, body.scanner_id, body.qr_id)
            if body.scan_id in view.scans:
                seen, answer, code = view.scans[body.scan_id]
                if seen != digest:
                    raise E.ScanMismatch("This scan id was used for another scan.", scan_id=str(body.scan_id))
                if isinstance(answer, ScanOut):
                    return answer
                if code != "ok":  # a refused scan, retried: the same refusal again
                    raise answer if isinstance(answer, Exception) else BY_CODE.get(code, E.CodeForged)(
                        "This scan was refused.", scan_id=str(body.scan_id))
                i, s = view.step(body.step_id)
                return ScanOut(scan_id=body.scan_id, step_id=body.step_id, kind=body.kind, distance_m=None,
                               outcome="ok", code=code, step=s.out(i == len(view.steps) - 1))
            i, step = view.step(body.step_id)
            last = i == len(view.steps) - 1
            dist = (distance_m(body.lat, body.lon, step.row["lat"], step.row["lon"])
                    if step.row["lat"] is not None and step.row["lon"] is not None else None)
            refusal = self._refusal(view, step, last, body, dist)
            outcome = "ok" if refusal is None else refusal[1]
            code = "ok" if refusal is None else refusal[0].code
            tx.write(NewRows(HandoffScan, dict(id=body.scan_id, step_id=body.step_id, shipment_id=shipment_id,
                                               kind=body.kind, scanner_id=body.scanner_id, outcome=outcome, code=code,
                                               qr_id=body.qr_id, lat=body.lat, lon=body.lon, distance_m=dist,
                                               scanned_at=body.scanned_at, recorded_at=utcnow())))
            if refusal is not None:
                view.scans[body.scan_id] = (digest, refusal[0], code)
                raise refusal[0]
            step.scanned[body.kind] = body.scan_id
            self._maybe_transfer(tx, view, i)
            answer = ScanOut(scan_id=body.scan_id, step_id=body.step_id, kind=body.kind, outcome="ok", code="ok",
                             distance_m=dist, step=step.out(last))
            view.scans[body.scan_id] = (digest, answer, "ok")
            return answer

        return await self.run(shipment_id, decide, idem=("scan", body.scan_id))

    async def photo(self, shipment_id: uuid.UUID, body: PhotoIn) -> StepOut:
        def decide(view: _Custody | None, tx: Tx) -> StepOut:
            view = self._need(view)
            i, step = view.step(body.step_id)
            if body.uploaded_by not in (step.row["giver_id"], step.row["receiver_id"]):
                raise E.NotAParty("Only the giver or the receiver of a step adds its photos.")
            if step.row["status"] in ("transferred", "cancelled"):
                raise E.StepClosed(f"The step is {step.row['status']}.", status=step.row["status"])
            tx.write(NewRows(HandoffPhoto, dict(id=body.photo_id, step_id=body.step_id, shipment_id=shipment_id,
                                                sha256=body.sha256, content_type=body.content_type,
                                                size_bytes=body.size_bytes, uploaded_by=body.uploaded_by,
                                                created_at=utcnow())))
            step.photos += 1
            self._maybe_transfer(tx, view, i)
            return step.out(i == len(view.steps) - 1)

        return await self.run(shipment_id, decide, idem=("photo", body.photo_id))

    async def deliver(self, shipment_id: uuid.UUID, body: ProofIn) -> CustodyOut:
        """The delivery proof: the last step's package scan must be in; a recipient code
        (checked against its hash, MAX_CODE_ATTEMPTS tries) or a signature image."""
        def decide(view: _Custody | None, tx: Tx) -> CustodyOut:
            view = self._need(view)
            if view.state["status"] == "delivered":
                return view.out()
            self._open_or_refuse(view)
            step = view.steps[-1]
            if body.recorded_by != step.row["giver_id"]:
                raise E.NotAParty("Only the carrier of the last leg records the delivery.")
            if view.state["next_seq"] != step.row["seq"] or "package" not in step.scanned or step.photos < 1:
                raise E.ProofNotReady("Scan the package code and add a photo at the delivery first.")
            if body.signature_sha256 is None:
                if view.state["code_attempts"] >= MAX_CODE_ATTEMPTS:
                    raise E.RecipientCodeLocked("Too many wrong codes; support must confirm this delivery.")
                if not body.code or not verify_password(view.state["code_hash"], body.code):
                    self._move(tx, view, code_attempts=view.state["code_attempts"] + 1)
                    left = MAX_CODE_ATTEMPTS - view.state["code_attempts"]
                    raise E.RecipientCodeWrong(f"The recipient's code does not match; {left} attempts left.",
                                               attempts_left=left)
            now = utcnow()
            tx.write(NewRows(DeliveryProof, dict(id=body.proof_id, shipment_id=shipment_id, step_id=step.row["id"],
                                                 method="signature" if body.signature_sha256 else "code",
                                                 photo_sha256=body.photo_sha256,
                                                 signature_sha256=body.signature_sha256,
                                                 recorded_by=body.recorded_by, lat=body.lat, lon=body.lon,
                                                 delivered_at=now)))
            self._transfer(tx, view, len(view.steps) - 1, proof_id=body.proof_id)
            return view.out()

        return await self.run(shipment_id, decide, idem=("deliver", shipment_id))

    async def record(self, shipment_id: uuid.UUID, body: EventIn) -> CustodyOut:
        """A carrier's or the system's event: progress (with a reason) or an exception."""
        def decide(view: _Custody | None, tx: Tx) -> CustodyOut:
            view = self._need(view)
            self._open_or_refuse(view)
            if body.status in ("delivered", "picked_up", "out_for_delivery", "pre_transit"):
                raise E.WrongCode(f"{body.status} is recorded by the handoff scans, not by hand.", status=body.status)
            exceptional = body.status in ("delivery_failed", "return_to_sender", "lost", "cancelled")
            if (exceptional or body.reason) and not (body.reason or "").startswith(REASON_PREFIXES):
                raise E.ReasonRequired("Give a reason code starting with " + ", ".join(REASON_PREFIXES) + ".")
            status = body.status if exceptional else view.state["status"]
            values: dict[str, Any] = {"status": status}
            if status in CLOSED:
                values.update(next_seq=None, next_due_at=None)
                for s in view.steps:
                    if s.row["status"] not in ("transferred", "cancelled"):
                        tx.write(StepMoved(s.row["id"], s.row["status"], {"status": "cancelled"}))
                        s.row["status"] = "cancelled"
            self._move(tx, view, **values)
            self._event(tx, view, body.status if exceptional else status, body.description, reason=body.reason,
                        place=body.place, lat=body.lat, lon=body.lon, holder=False, source=body.source,
                        raw=body.raw, occurred_at=body.occurred_at)
            if exceptional:
                tx.emit(ShipmentException(shipment_id=shipment_id, booking_id=view.state["booking_id"], status=status,
                                          at=body.occurred_at, reason=body.reason or ""), shipment_id)
            return view.out()

        return await self.run(shipment_id, decide, idem=("event", body.event_id))

    # -- rules ---------------------------------------------------------------------------
    def _need(self, view: _Custody | None) -> _Custody:
        if view is None:
            raise E.CustodyNotFound("This shipment has no chain of custody yet (no confirmed booking).")
        return view

    def _open_or_refuse(self, view: _Custody) -> None:
        if view.state["status"] in CLOSED:
            raise E.CustodyClosed(f"The shipment's custody ended: {view.state['status']}.",
                                  status=view.state["status"])

    def _refusal(self, view: _Custody, step: _Step, last: bool, body: ScanIn, dist: int | None):
        """(error, outcome) for a scan that must be refused, else None: first the QR code's
        own verdict, then the step's order, party, kind, replay and place."""
        if body.qr_code != "ok":
            cls, outcome = QR_REFUSALS.get(body.qr_code, (E.CodeForged, "invalid"))
            return cls(body.qr_message or f"The code was refused ({body.qr_code}).", qr=body.qr_code), outcome
        scanner = step.row["giver_id"] if last else step.row["receiver_id"]
        if body.scanner_id != scanner:
            return E.NotAParty("You are not the party who scans at this step.", seq=step.row["seq"]), "invalid"
        if body.qr_kind != body.kind or (last and body.kind == "handoff"):
            return E.WrongCode(f"This scan takes the {body.kind} code of the step.", kind=body.kind), "invalid"
        if body.kind in step.scanned:
            return E.CodeReplayed(f"The {body.kind} code of this step was already accepted.", kind=body.kind), \
                "replayed"
        if step.row["status"] in ("transferred", "cancelled") or view.state["status"] in CLOSED:
            return E.StepClosed(f"The step is {step.row['status']}.", status=step.row["status"]), "invalid"
        if view.state["next_seq"] != step.row["seq"]:
            return E.ScanOutOfOrder(f"Step {view.state['next_seq']} comes first.", next_seq=view.state["next_seq"],
                                    seq=step.row["seq"]), "invalid"
        if dist is not None and dist > self.radius_m:
            return E.TooFar(f"The scan is {dist} m from the handoff place; at most {self.radius_m} m.",
                            distance_m=dist, radius_m=self.radius_m), "invalid"
        return None

    def _maybe_transfer(self, tx: Tx, view: _Custody, i: int) -> None:
        step, last = view.steps[i], i == len(view.steps) - 1
        needed = {"package"} if last else {"handoff", "package"}
        if not last and needed <= set(step.scanned) and step.photos >= 1 and view.state["next_seq"] == step.row["seq"]:
            self._transfer(tx, view, i)

    def _transfer(self, tx: Tx, view: _Custody, i: int, proof_id: uuid.UUID | None = None) -> None:
        step, now, n = view.steps[i], utcnow(), len(view.steps)
        r, sid, bid = step.row, view.state["shipment_id"], view.state["booking_id"]
        tx.write(StepMoved(r["id"], r["status"], {"status": "transferred", "transferred_at": now}))
        r["status"], r["transferred_at"] = "transferred", now
        nxt = view.steps[i + 1] if i + 1 < n else None
        if nxt is not None:
            tx.write(StepMoved(nxt.row["id"], nxt.row["status"], {"status": "awaiting_dropoff"}))
            nxt.row["status"] = "awaiting_dropoff"
        status = "delivered" if nxt is None else "out_for_delivery" if i + 1 == n - 1 else \
            "picked_up" if i == 0 else "in_transit"
        self._move(tx, view, status=status, holder_id=r["receiver_id"], holder_role=r["receiver_role"],
                   next_seq=nxt.row["seq"] if nxt else None,
                   next_due_at=nxt.row["planned_at"] + self.grace if nxt else None)
        who = "the recipient" if r["receiver_id"] is None else f"the {r['receiver_role']}"
        self._event(tx, view, status, f"Handed from the {r['giver_role']} to {who}.", place=r["place"],
                    lat=r["lat"], lon=r["lon"], step_id=r["id"], proof_id=proof_id)
        base = dict(shipment_id=sid, booking_id=bid, status=status, at=now)
        tx.emit(HandoffTransferred(**base, step_id=r["id"], seq=r["seq"], giver_id=r["giver_id"],
                                   receiver_id=r["receiver_id"], leg_completed=r["leg_completed"],
                                   leg_started=r["leg_started"]), sid)
        if i == 0:
            tx.emit(ShipmentPickedUp(**base), sid)
        if status == "out_for_delivery":
            tx.emit(ShipmentOutForDelivery(**base), sid)
        if proof_id is not None:
            tx.emit(ShipmentDelivered(**base, proof_id=proof_id), sid)

    def _move(self, tx: Tx, view: _Custody, **values: Any) -> None:
        s = view.state
        tx.write(StateMoved(s["shipment_id"], s["version"], {**values, "version": s["version"] + 1}))
        s.update(values, version=s["version"] + 1)

    def _event(self, tx: Tx, view: _Custody, status: str, description: str, *, holder: bool = True,
               occurred_at: datetime | None = None, source: str = "custody", raw: dict | None = None,
               **extra: Any) -> None:
        s, now = view.state, utcnow()
        s["events"] += 1
        tx.write(NewRows(TrackingEvent, dict(
            id=uuid.uuid4(), shipment_id=s["shipment_id"], seq=s["events"], status=status,
            reason=extra.get("reason"), description=description[:300], place=extra.get("place"),
            lat=extra.get("lat"), lon=extra.get("lon"), holder_id=s["holder_id"] if holder else None,
            holder_role=s["holder_role"] if holder else None, step_id=extra.get("step_id"),
            proof_id=extra.get("proof_id"), source=source, raw=raw or {}, occurred_at=occurred_at or now,
            recorded_at=now)))
        tx.write(StateMoved(s["shipment_id"], s["version"], {"events": s["events"], "last_event_at": now,
                                                              "version": s["version"] + 1}))
        s.update(last_event_at=now, version=s["version"] + 1)


def _digest(step_id: Any, kind: str, scanner_id: Any, qr_id: Any) -> str:
    return f"{step_id}|{kind}|{scanner_id}|{qr_id}"
