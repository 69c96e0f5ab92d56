"""Tracking Service (spec 8.18): each shipment's custody state, tracking events and
delivery proof, held by the custody shards (actors/custody) and read back from their
tables. The public lookup by tracking number shows status, coarse places and times only.

Public status: pre_transit -> picked_up -> in_transit -> out_for_delivery -> delivered;
exceptions delivery_failed, return_to_sender, lost, cancelled carry a reason code.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from pydantic import Field
from sqlalchemy import select

from actors.custody import CUSTODY_EVENTS
from actors.custody.errors import CustodyNotFound
from actors.custody.schemas import EventIn, ProofIn
from deployments.kit import Ctx, FormField, ServiceSpec, op, uses
from deployments.shipments import Shipments
from deployments.tracking.custody import CustodyDesk
from deployments.tracking.errors import ProofRejected, ProofTooLarge
from deployments.tracking.schemas import (
    HistoryOut,
    HolderEventOut,
    PublicTrackingOut,
    StuckOut,
    TrackingEventIn,
    TrackingEventOut,
    TrackingOut,
)
from p2p.errors import NotFound
from p2p.uploads import PHOTO_MAX_BYTES, PHOTO_TYPES, Upload, check_upload
from storage.db import utcnow
from storage.models.tracking import CustodyState, TrackingEvent


class Tracking(CustodyDesk):
    shipments = uses(Shipments)

    @op("GET /tracking/stuck", perm="tracking:read:any")
    async def stuck(self, ctx: Ctx, limit: Annotated[int, Field(ge=1, le=200)] = 50) -> list[StuckOut]:
        """For support: shipments whose next handoff is overdue (no custody event past the
        planned time of the next step plus the grace of P2P_CUSTODY_STUCK_GRACE_S), most
        overdue first."""
        now = utcnow()
        async with self.uow(read=True) as uow:
            rows = await uow.all(select(CustodyState).where(CustodyState.next_due_at < now)
                                 .order_by(CustodyState.next_due_at).limit(limit))
        return [StuckOut(overdue_s=int((now - r.next_due_at) / timedelta(seconds=1)),
                         **{k: getattr(r, k) for k in StuckOut.model_fields if k != "overdue_s"}) for r in rows]

    @op("GET /tracking/{id}", public=True)
    async def get(self, ctx: Ctx,
                  id: Annotated[str, Field(min_length=6, max_length=40)]) -> TrackingOut | PublicTrackingOut:
        """A shipment's tracking: by shipment id for its parties (sender, carriers; support
        with tracking:read:any), or by public tracking number for anyone, with status,
        coarse places and times only."""
        try:
            shipment_id = uuid.UUID(id)
        except ValueError:
            return await self._public(id)
        state = await self.party_state(ctx, shipment_id, "tracking:read:any")
        events = await self._events(shipment_id)
        return TrackingOut(**state.model_dump(exclude={"steps", "version", "created", "sender_id"}),
                           steps=len(state.steps), last_event_at=events[-1].occurred_at if events else utcnow(),
                           events=[TrackingEventOut.model_validate(e) for e in events])

    @op("GET /tracking/{id}/history", perm="tracking:read")
    async def history(self, ctx: Ctx, id: uuid.UUID) -> HistoryOut:
        """The full chain of custody of a shipment, for its parties: every event with the
        holder, the step and the proof behind it, and the holders in order."""
        state = await self.party_state(ctx, id, "tracking:read:any")
        events = [HolderEventOut.model_validate(e) for e in await self._events(id)]
        holders = ["sender"] + [s.receiver_role for s in state.steps if s.status == "transferred"]
        return HistoryOut(shipment_id=id, tracking_number=state.tracking_number, status=state.status,
                          holders=holders, events=events)

    @op("POST /tracking/events", status=201, perm="tracking:write")
    async def record(self, ctx: Ctx, body: TrackingEventIn) -> TrackingOut:
        """A carrier of the shipment (or support with tracking:write:any) records an event:
        a delay or customs hold (with a reason code), or an exception that ends custody
        (delivery_failed, return_to_sender, lost, cancelled). Handoffs and delivery are
        recorded by the scans and the proof, not here."""
        state = await self.party_state(ctx, body.shipment_id, "tracking:write:any")
        if ctx.user_id == state.sender_id and not await self.can(ctx, "tracking:write:any"):
            raise CustodyNotFound("Senders report a loss or a return through PUT /shipments/{id}/status.")
        await self.custody.call(body.shipment_id, "record", EventIn(
            event_id=body.event_id or uuid.uuid4(), actor_id=ctx.user_id, source="carrier",
            occurred_at=body.occurred_at or utcnow(), raw=body.model_dump(mode="json"),
            **body.model_dump(include={"status", "reason", "description", "place", "lat", "lon"})))
        return await self.get(ctx, str(body.shipment_id))

    @op("POST /tracking/{id}/proof", status=201, perm="tracking:write")
    async def proof(self, ctx: Ctx, id: uuid.UUID, photo: Upload,
                    code: Annotated[str, FormField(), Field(pattern=r"^\d{6}$")]) -> TrackingOut:
        """The carrier of the last leg proves the delivery: a photo (JPEG or PNG, 5 MB at
        most) and the recipient's one-time code (6 digits, 5 attempts). Needs the last
        step's package scan and photo first; delivers the shipment."""
        content_type = check_upload(photo, types=PHOTO_TYPES, max_bytes=PHOTO_MAX_BYTES, too_large=ProofTooLarge,
                                    unsupported=ProofRejected)
        await self.party_state(ctx, id, "tracking:write:any")
        ref = await self.rt.blobs.put(photo.data, content_type)
        await self.custody.call(id, "deliver", ProofIn(proof_id=uuid.uuid4(), recorded_by=ctx.user_id, code=code,
                                                       photo_sha256=ref.sha256))
        return await self.get(ctx, str(id))

    async def _public(self, number: str) -> PublicTrackingOut:
        """From the custody tables (the shard commits before it answers, so they are as new
        as any acknowledged change): one read for the state and its events. Before custody
        opens, the Shipment Service knows the number."""
        number = number.strip().upper()
        async with self.uow(read=True) as uow:
            state = await uow.repo(CustodyState).find(tracking_number=number)
            events = await uow.all(select(TrackingEvent).where(TrackingEvent.shipment_id == state.shipment_id)
                                   .order_by(TrackingEvent.seq)) if state is not None else []
        if state is None:
            try:
                shipment = await self.shipments.by_tracking_number(number)
            except NotFound:
                raise CustodyNotFound("No shipment has this tracking number.", number=number) from None
            return PublicTrackingOut(tracking_number=shipment.tracking_number, status="pre_transit",
                                     last_event_at=utcnow(), events=[])
        return PublicTrackingOut(tracking_number=state.tracking_number, status=state.status,
                                 last_event_at=state.last_event_at,
                                 events=[TrackingEventOut.model_validate(e) for e in events])

    async def _events(self, shipment_id: uuid.UUID) -> list[TrackingEvent]:
        async with self.uow(read=True) as uow:
            return await uow.all(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
                                 .order_by(TrackingEvent.seq))


SPEC = ServiceSpec("Tracking Service", key="tracking", prefix="/tracking", service=Tracking,
                   models="storage.models.tracking", emits=CUSTODY_EVENTS,
                   grants={"sender": ("tracking:read",), "traveler": ("tracking:read", "tracking:write"),
                           "courier": ("tracking:read", "tracking:write"),
                           "support": ("tracking:read", "tracking:read:any", "tracking:write", "tracking:write:any")})
