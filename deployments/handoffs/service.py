"""Handoff Service (spec 8.17): the steps of a shipment's chain of custody and the scans
and photos that complete them, decided by the custody shards (actors/custody).

A step completes when the receiver has scanned the giver's code and the package code
(codes from the QR Code Service, checked there and recorded) and a photo is in; the
last step, to the recipient, when the last carrier has scanned the package code, added a
photo and given the recipient's one-time code as delivery proof (POST /tracking/{id}/proof).
Steps are made when the booking is confirmed; POST /handoffs makes them on demand.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any, Protocol

from actors.custody.errors import CustodyNotFound, NotAParty, StepNotFound
from actors.custody.schemas import CustodyOut, OpenIn, PhotoIn, ScanIn, ScanOut, StepOut
from deployments.bookings import BookingConfirmed, Bookings
from deployments.handoffs.errors import PhotoRejected, PhotoTooLarge, ShipmentNotBooked
from deployments.handoffs.plan import plan_steps
from deployments.handoffs.schemas import HandoffsCreate, PhotoOut, QrSubjectOut, ScanCreate
from deployments.itineraries import Itineraries
from deployments.kit import Ctx, ServiceSpec, internal, on, op, uses
from deployments.locations import Locations
from deployments.shipments import Shipments
from deployments.tracking import CustodyDesk
from p2p.security import hash_password
from p2p.sms import SandboxSms
from p2p.uploads import PHOTO_MAX_BYTES, PHOTO_TYPES, Upload, check_upload
from storage.db import utcnow
from storage.models.handoffs import HandoffStep


class QrDesk(Protocol):
    """What handoffs call of the QR Code Service (a Protocol: it asks this one about steps)."""

    async def check(self, payload: str, step_id: uuid.UUID, scanner_id: uuid.UUID, lat: float | None = None,
                    lon: float | None = None) -> Any: ...

    async def consume(self, qr_id: uuid.UUID, scan_id: uuid.UUID) -> bool: ...


class Handoffs(CustodyDesk):
    shipments = uses(Shipments)
    bookings = uses(Bookings)
    itineraries = uses(Itineraries)
    locations = uses(Locations)
    qr = uses(QrDesk, "qr")

    @op("POST /handoffs", status=201, perm="handoffs:write")
    async def create(self, ctx: Ctx, body: HandoffsCreate) -> CustodyOut:
        """Make the handoff steps of a shipment from its confirmed booking (the sender, or
        support). They are made on confirmation anyway: calling again answers the same."""
        facts = await self.shipments.custody_subject(body.shipment_id)
        if facts.sender_id != ctx.user_id and not await self.can(ctx, "handoffs:write:any"):
            raise StepNotFound("No such shipment.", shipment_id=str(body.shipment_id))
        return await self._open(facts)

    @op("GET /handoffs/{id}", perm="handoffs:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> StepOut:
        """One handoff step, for the parties of its shipment (or handoffs:read:any)."""
        state, step = await self._step(ctx, id, "handoffs:read:any")
        return step

    @op("POST /handoffs/{id}/scan", status=201, perm="handoffs:scan", idempotent=False)
    async def scan(self, ctx: Ctx, id: uuid.UUID, body: ScanCreate) -> ScanOut:
        """Record a scan of the step's giver code or package code, by the party who scans
        (the receiver; on the last step the giver), near the planned place. Refused scans
        (forged, expired, replayed, wrong step or code, out of order, not a party, too far)
        are recorded too and answer a distinct code. Retrying with the same scan_id answers
        the first outcome."""
        state, step = await self._step(ctx, id, "handoffs:read:any")
        qr = await self.qr.check(body.payload, id, ctx.user_id, body.lat, body.lon)
        out: ScanOut = await self.custody.call(state.shipment_id, "scan", ScanIn(
            scan_id=body.scan_id, step_id=id, kind=body.kind, scanner_id=ctx.user_id, qr_id=qr.qr_id,
            qr_kind=qr.kind, qr_code="ok" if qr.ok else qr.code, qr_message=qr.message, lat=body.lat,
            lon=body.lon, scanned_at=body.scanned_at or utcnow()))
        if qr.qr_id is not None:
            await self.qr.consume(qr.qr_id, body.scan_id)
        return out

    @op("POST /handoffs/{id}/photos", status=201, perm="handoffs:scan")
    async def add_photo(self, ctx: Ctx, id: uuid.UUID, file: Upload) -> PhotoOut:
        """A photo of the package at the handoff (JPEG or PNG, 5 MB at most), by the giver
        or the receiver of the step; every step needs one."""
        content_type = check_upload(file, types=PHOTO_TYPES, max_bytes=PHOTO_MAX_BYTES, too_large=PhotoTooLarge,
                                    unsupported=PhotoRejected)
        state, step = await self._step(ctx, id, "handoffs:read:any")
        ref = await self.rt.blobs.put(file.data, content_type)
        photo = PhotoIn(photo_id=uuid.uuid4(), step_id=id, sha256=ref.sha256, content_type=content_type,
                        size_bytes=ref.size, uploaded_by=ctx.user_id)
        await self.custody.call(state.shipment_id, "photo", photo)
        return PhotoOut(id=photo.photo_id, step_id=id, sha256=ref.sha256, content_type=content_type,
                        size_bytes=ref.size)

    @internal
    async def qr_subject(self, step_id: uuid.UUID, user_id: uuid.UUID, kind: str) -> QrSubjectOut:
        """What a code for the step binds, for a caller allowed to make it: the giver makes
        the giver code; the giver, the receiver or the sender the package code."""
        async with self.uow(read=True) as uow:
            row = await uow.repo(HandoffStep).get(step_id)
        if row is None:
            raise StepNotFound("No such handoff step.", id=str(step_id))
        facts = await self.shipments.custody_subject(row.shipment_id)
        last = row.receiver_id is None
        allowed = {row.giver_id} if kind == "handoff" else {row.giver_id, row.receiver_id, facts.sender_id}
        if user_id not in allowed or (last and kind == "handoff"):
            raise NotAParty("You cannot make this code for this step.", seq=row.seq, kind=kind)
        scanner_role, scanner_id = ((row.giver_role, row.giver_id) if last else (row.receiver_role, row.receiver_id))
        return QrSubjectOut(step_id=step_id, shipment_id=row.shipment_id, package_id=facts.package_ids[0],
                            seq=row.seq, kind=kind, scanner_role=scanner_role, scanner_id=scanner_id,
                            not_after=max(row.planned_at, utcnow()) + timedelta(days=2))

    @on(BookingConfirmed, tx=False)
    async def on_booking_confirmed(self, event: BookingConfirmed) -> None:
        """A confirmed booking that carries a shipment gets its handoff steps (idempotent)."""
        if event.shipment_id is not None:
            await self._open(await self.shipments.custody_subject(event.shipment_id))

    # -- helpers -------------------------------------------------------------------------
    async def _open(self, facts: Any) -> CustodyOut:
        if facts.booking_id is None:
            raise ShipmentNotBooked("The shipment has no booking yet.", status=facts.status)
        booking = await self.bookings.view(facts.booking_id)
        if booking.status not in ("confirmed", "completed"):
            raise ShipmentNotBooked(f"The shipment's booking is {booking.status}.", status=booking.status)
        itinerary = await self.itineraries.view(booking.itinerary_id)
        ids = {x for leg in itinerary.legs for x in (leg.from_location, leg.to_location)}
        places = {x: await self.locations.resolve(x) for x in ids}
        code = f"{secrets.randbelow(10 ** 6):06d}"
        out: CustodyOut = await self.custody.call(facts.id, "open", OpenIn(
            booking_id=booking.id, tracking_number=facts.tracking_number, sender_id=facts.sender_id,
            code_hash=hash_password(code), steps=plan_steps(facts.sender_id, booking, itinerary, places)))
        if out.created:  # the code exists only here and, hashed, in the custody row
            await SandboxSms(self.settings.data_dir).send(
                facts.recipient_phone, f"Your delivery code for {facts.tracking_number} is {code}. "
                "Give it to the courier only when you receive the package.")
        return out

    async def _step(self, ctx: Ctx, step_id: uuid.UUID, any_perm: str) -> tuple[CustodyOut, StepOut]:
        async with self.uow(read=True) as uow:
            row = await uow.repo(HandoffStep).get(step_id)
        if row is None:
            raise StepNotFound("No such handoff step.", id=str(step_id))
        try:
            state = await self.party_state(ctx, row.shipment_id, any_perm)
        except CustodyNotFound:
            raise StepNotFound("No such handoff step.", id=str(step_id)) from None
        return state, next(s for s in state.steps if s.id == step_id)


SPEC = ServiceSpec("Handoff Service", key="handoffs", prefix="/handoffs", service=Handoffs,
                   models="storage.models.handoffs",
                   grants={"sender": ("handoffs:read", "handoffs:write", "handoffs:scan"),
                           "traveler": ("handoffs:read", "handoffs:scan"),
                           "courier": ("handoffs:read", "handoffs:scan"),
                           "support": ("handoffs:read", "handoffs:read:any", "handoffs:write", "handoffs:write:any")})
