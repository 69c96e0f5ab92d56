"""Shipment Service (spec 6.12): a sender's shipment (pickup address, recipient, windows,
declared value) and its packages, items and photos; the public tracking number; the
prohibited-items check (rules.py); what other services call and the events it follows
(desk.py).

Shipment: draft -> awaiting_acceptance (a booking names it) -> booked (confirmed) ->
in_transit -> out_for_delivery -> delivered; delivery_failed, return_to_sender, lost,
cancelled. Packages follow: draft -> ready -> assigned -> in_transit -> delivered.
"""
from __future__ import annotations

import uuid

from deployments.kit import Ctx, ServiceSpec, crud, op, uses
from deployments.locations import GeocodeIn, Locations
from deployments.shipments import rules
from deployments.shipments.desk import ShipmentDesk, move
from deployments.shipments.errors import (
    IllegalTransition,
    NotEditable,
    NotTheSender,
    PackageNotFound,
    PhotoTooLarge,
    PhotoUnsupported,
    ProhibitedItem,
    ShipmentNotFound,
    UnknownAddress,
)
from deployments.shipments.events import SHIPMENT_EVENTS, PackageAdded, ShipmentCreated
from deployments.shipments.schemas import (
    MAX_PACKAGES,
    AddressIn,
    PackageIn,
    PackageOut,
    PhotoOut,
    ShipmentCreate,
    ShipmentOut,
    StatusRequest,
)
from p2p.errors import NotFound
from p2p.uploads import PHOTO_MAX_BYTES, PHOTO_TYPES, Upload, check_upload
from p2p.vocab import ShipmentStatus
from storage.models.shipments import Package, PackageItem, PackagePhoto, Shipment


def package_row(p: PackageIn, seq: int) -> Package:
    return Package(id=uuid.uuid4(), seq=seq, status="draft", photos=[],
                   items=[PackageItem(id=uuid.uuid4(), seq=j, **i.model_dump()) for j, i in enumerate(p.items)],
                   **p.model_dump(exclude={"items"}))


class Shipments(ShipmentDesk):
    locations = uses(Locations)

    mine = crud.list_mine("GET /shipments", Shipment, ShipmentOut, perm="shipments:read", owner="sender_id",
                          filters={"status": ShipmentStatus},
                          doc="The caller's own shipments (as sender), oldest first.")

    @op("POST /shipments", status=201, perm="shipments:write")
    async def create(self, ctx: Ctx, body: ShipmentCreate) -> ShipmentOut:
        """Create a draft shipment from a pickup address, a recipient and 0-10 packages.
        Addresses are location ids or are geocoded by the Location Service; a prohibited
        item is a 422 `shipment.prohibited_item` naming its rule, and nothing is stored."""
        self._check_prohibited(body.description, body.packages)
        origin = await self._place(ctx, body.pickup, "pickup")
        dest = await self._place(ctx, body.recipient.address, "recipient.address")
        async with self.uow() as uow:
            shipments = uow.repo(Shipment)
            number = rules.new_tracking_number()
            while await shipments.exists(tracking_number=number):  # collisions: 1 in 32^9
                number = rules.new_tracking_number()
            r = body.recipient
            s = shipments.add(Shipment(
                id=uuid.uuid4(), sender_id=ctx.user_id, tracking_number=number, status="draft", carrier_ids=[],
                recipient_name=r.name, recipient_phone=r.phone, recipient_email=r.email,
                **{f"origin_{k}": v for k, v in origin.items()}, **{f"destination_{k}": v for k, v in dest.items()},
                international=origin["country"] != dest["country"],
                pickup_start=body.pickup_window.start, pickup_end=body.pickup_window.end,
                delivery_start=body.delivery_window.start, delivery_end=body.delivery_window.end,
                declared_value_minor=body.declared_value_minor, currency=body.currency, description=body.description,
                packages=[package_row(p, i) for i, p in enumerate(body.packages)]))
            await uow.flush()
            uow.emit(ShipmentCreated(shipment_id=s.id, sender_id=s.sender_id, tracking_number=number,
                                     international=s.international, packages=len(s.packages)), entity_id=s.id)
            return ShipmentOut.model_validate(s)

    @op("GET /shipments/{id}")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> ShipmentOut:
        """A shipment, for its sender, the carriers of its booking and holders of shipments:read:any."""
        async with self.uow(read=True) as uow:
            return ShipmentOut.model_validate(await self._visible(uow, ctx, id))

    @op("PUT /shipments/{id}/status")
    async def set_status(self, ctx: Ctx, id: uuid.UUID, body: StatusRequest) -> ShipmentOut:
        """Ask for a status: cancelled (the sender, before pickup), lost (the sender or
        support, in transit) or return_to_sender (the sender, in transit). Anything else
        is a 409 `shipment.illegal_transition` naming the current status."""
        support = await self.can(ctx, "shipments:status:any")
        async with self.uow() as uow:
            s = await self._visible(uow, ctx, id)
            if s.sender_id != ctx.user_id and not (support and body.status == "lost"):
                raise NotTheSender("Only the sender may ask for this status.", id=str(id))
            if s.status not in rules.REQUESTABLE.get(body.status, ()):
                raise IllegalTransition(f"A {s.status} shipment cannot become {body.status}.", id=str(id),
                                        status=s.status, requested=body.status)
            move(uow, s, body.status, reason=body.reason, by=ctx.user_id)
            return ShipmentOut.model_validate(s)

    @op("POST /shipments/{id}/packages", status=201, perm="shipments:write")
    async def add_package(self, ctx: Ctx, id: uuid.UUID, body: PackageIn) -> PackageOut:
        """Add a package to one's own draft shipment (409 `shipment.not_editable` after it)."""
        async with self.uow() as uow:
            s = await self._owned(uow, ctx, id)
            if s.status != "draft":
                raise NotEditable(f"A {s.status} shipment takes no packages.", status=s.status)
            if len(s.packages) >= MAX_PACKAGES:
                raise NotEditable(f"A shipment has at most {MAX_PACKAGES} packages.", status=s.status)
            self._check_prohibited(None, [body], first=len(s.packages))
            p = package_row(body, len(s.packages))
            s.packages.append(p)
            await uow.flush()
            uow.emit(PackageAdded(shipment_id=s.id, package_id=p.id), entity_id=s.id)
            return PackageOut.model_validate(p)

    @op("POST /packages/{id}/photos", status=201, perm="shipments:write")
    async def add_photo(self, ctx: Ctx, id: uuid.UUID, file: Upload) -> PhotoOut:
        """Attach a photo (JPEG or PNG, 5 MB at most) to a package of one's own shipment,
        until it is delivered or cancelled; the bytes go to the blob store."""
        content_type = check_upload(file, types=PHOTO_TYPES, max_bytes=PHOTO_MAX_BYTES, too_large=PhotoTooLarge,
                                    unsupported=PhotoUnsupported)
        async with self.uow(read=True) as uow:
            p = await uow.repo(Package).get(id)
            s = await uow.repo(Shipment).get(p.shipment_id) if p else None
            if s is None or s.sender_id != ctx.user_id:
                raise PackageNotFound("No such package.", id=str(id))
            if s.status in ("delivered", "cancelled") or p.status in ("delivered", "cancelled"):
                raise NotEditable(f"A {s.status} shipment takes no photos.", status=s.status)
        ref = await self.rt.blobs.put(file.data, content_type)
        async with self.uow() as uow:
            photo = uow.repo(PackagePhoto).add(PackagePhoto(
                id=uuid.uuid4(), package_id=id, sha256=ref.sha256, content_type=content_type, size_bytes=ref.size,
                uploaded_by=ctx.user_id))
            await uow.flush()
            return PhotoOut.model_validate(photo)

    # -- helpers -------------------------------------------------------------------------
    def _check_prohibited(self, description: str | None, packages: list[PackageIn], first: int = 0) -> None:
        path = self.settings.prohibited_items_file
        hit = rules.find_prohibited(rules.load_rules(str(path) if path else None), description, packages, first)
        if hit is not None:
            raise ProhibitedItem(f"{hit.keyword!r} is not carried: {hit.reason}", rule=hit.rule, keyword=hit.keyword,
                                 **hit.where)

    async def _place(self, ctx: Ctx, a: AddressIn, field: str) -> dict:
        """location, country, lat, lon of an address (a location id, or geocoded)."""
        if a.location_id is None:
            g = await self.locations.geocode(ctx, GeocodeIn(lines=a.lines, city=a.city, country=a.country,
                                                            postcode=a.postcode))
            return {"location": g.id, "country": g.country, "lat": g.lat, "lon": g.lon}
        try:
            loc = await self.locations.resolve(a.location_id)
        except NotFound:
            raise UnknownAddress(f"No location has the id {a.location_id!r}.", field=field,
                                 location_id=a.location_id) from None
        return {"location": loc.id, "country": loc.country, "lat": loc.lat, "lon": loc.lon}

    async def _visible(self, uow, ctx: Ctx, id: uuid.UUID) -> Shipment:
        s = await uow.repo(Shipment).get(id)
        if s is None or not (s.sender_id == ctx.user_id or str(ctx.user_id) in (s.carrier_ids or [])
                             or await self.can(ctx, "shipments:read:any")):
            raise ShipmentNotFound("No such shipment.", id=str(id))
        return s

    async def _owned(self, uow, ctx: Ctx, id: uuid.UUID) -> Shipment:
        s = await self._visible(uow, ctx, id)
        if s.sender_id != ctx.user_id:
            raise NotTheSender("Only the sender may change the shipment.", id=str(id))
        return s


SPEC = ServiceSpec("Shipment Service", key="shipments", prefix="/shipments", aliases=("/packages",),
                   service=Shipments, models="storage.models.shipments", emits=SHIPMENT_EVENTS,
                   grants={"sender": ("shipments:read", "shipments:write"), "traveler": ("shipments:read",),
                           "courier": ("shipments:read",),
                           "support": ("shipments:read:any", "shipments:status:any")})
