"""Vehicle Verification Service (spec 2.5): couriers' and travelers' vehicles, their documents
(kept in the blob store) and the review that makes a vehicle's capacity usable.

Status: unverified -> pending (registration and insurance uploaded) -> verified | rejected.
A rejected vehicle goes back to pending with new documents; a change of plate or capacity
sends any reviewed vehicle back for review."""
from __future__ import annotations

import uuid
from typing import Annotated

from deployments.kit import Ctx, FormField, Service, ServiceSpec, crud, op
from deployments.vehicles.errors import (
    CapacityExceedsType,
    DocumentTooLarge,
    DocumentTypeUnsupported,
    NotPending,
    NotVehicleOwner,
    PlateTaken,
    SelfReview,
    VehicleNotFound,
)
from deployments.vehicles.events import (
    VehicleRegistered,
    VehicleRejected,
    VehicleSubmitted,
    VehicleUpdated,
    VehicleVerified,
)
from deployments.vehicles.schemas import (
    MAX_CAPACITY,
    CapacityOut,
    DocumentKind,
    VehicleCreate,
    VehicleOut,
    VehicleUpdate,
    VerificationIn,
)
from p2p.errors import Unprocessable
from p2p.uploads import Upload, check_upload
from storage.db import utcnow
from storage.models.vehicles import UserVehicle, VehicleDocument

REQUIRED_DOCUMENTS = {"registration", "insurance"}
MATERIAL = ("plate", "capacity_weight_g", "capacity_volume_cm3")  # a change of these needs a new review


class Vehicles(Service):
    get = crud.get_one("GET /vehicles/{id}", UserVehicle, VehicleOut, perm="vehicles:read",
                       any_perm="vehicles:read:any", missing=VehicleNotFound, what="vehicle",
                       doc="A vehicle with its documents and status; only to its owner (or vehicles:read:any).")
    mine = crud.list_mine("GET /vehicles", UserVehicle, VehicleOut, perm="vehicles:read")

    @op("POST /vehicles", status=201, perm="vehicles:write")
    async def create(self, ctx: Ctx, body: VehicleCreate) -> VehicleOut:
        """Register a vehicle. It starts unverified; upload registration and insurance next."""
        _check_capacity(body.type, body.capacity_weight_g, body.capacity_volume_cm3)
        async with self.uow() as uow:
            vehicles = uow.repo(UserVehicle)
            await _plate_free(vehicles, ctx.user_id, body.plate)
            v = vehicles.add(UserVehicle(owner_id=ctx.user_id, status="unverified", documents=[], **body.model_dump()))
            await uow.flush()
            uow.emit(VehicleRegistered(vehicle_id=v.id, owner_id=ctx.user_id, type=body.type), entity_id=v.id)
            return VehicleOut.model_validate(v)

    @op("PUT /vehicles/{id}", perm="vehicles:write")
    async def update(self, ctx: Ctx, id: uuid.UUID, body: VehicleUpdate) -> VehicleOut:
        """Change a vehicle's details (owner only). A new plate or capacity needs a new review."""
        async with self.uow() as uow:
            v = await self._owned(uow, ctx, id)
            changes = {k: val for k, val in body.model_dump(exclude_unset=True).items() if val is not None}
            if v.type != "bicycle" and "plate" in body.model_fields_set and body.plate is None:
                raise Unprocessable(f"A {v.type} needs a plate.")
            _check_capacity(v.type, changes.get("capacity_weight_g", v.capacity_weight_g),
                            changes.get("capacity_volume_cm3", v.capacity_volume_cm3))
            if changes.get("plate") not in (None, v.plate):
                await _plate_free(uow.repo(UserVehicle), v.owner_id, changes["plate"])
            material = any(changes.get(k, getattr(v, k)) != getattr(v, k) for k in MATERIAL)
            for field, value in changes.items():
                setattr(v, field, value)
            if material and v.status != "unverified":
                _back_to_review(v)
            v.updated_at = utcnow()
            uow.emit(VehicleUpdated(vehicle_id=id, fields=sorted(changes), status=v.status), entity_id=id)
            return VehicleOut.model_validate(v)

    @op("POST /vehicles/{id}/documents", status=201, perm="vehicles:write")
    async def upload(self, ctx: Ctx, id: uuid.UUID, kind: Annotated[DocumentKind, FormField()],
                     file: Upload) -> VehicleOut:
        """Upload a PDF, JPEG or PNG (10 MB at most) as the vehicle's registration, insurance,
        inspection or photo. Registration plus insurance submit the vehicle for review."""
        content_type = check_upload(file, too_large=DocumentTooLarge, unsupported=DocumentTypeUnsupported)
        async with self.uow(read=True) as uow:
            await self._owned(uow, ctx, id)
        # Stored before the row; a blob left by a failed transaction is unreferenced, not wrong.
        ref = await self.rt.blobs.put(file.data, content_type)
        async with self.uow() as uow:
            v = await self._owned(uow, ctx, id)
            v.documents.append(VehicleDocument(kind=kind, sha256=ref.sha256, size=ref.size, content_type=content_type,
                                               filename=file.filename[-200:], uploaded_by=ctx.user_id))
            await uow.flush()
            if v.status in ("unverified", "rejected") and _complete(v):
                _back_to_review(v)
                uow.emit(VehicleSubmitted(vehicle_id=id, owner_id=v.owner_id), entity_id=id)
            v.updated_at = utcnow()
            return VehicleOut.model_validate(v)

    @op("POST /vehicles/{id}/verification", perm="vehicles:verify")
    async def review(self, ctx: Ctx, id: uuid.UUID, body: VerificationIn) -> VehicleOut:
        """A reviewer's decision on a pending vehicle: verified, or rejected with a reason."""
        async with self.uow() as uow:
            v = await self._visible(uow, ctx, id)
            if v.owner_id == ctx.user_id:
                raise SelfReview("You cannot review your own vehicle.")
            if v.status != "pending":
                raise NotPending(f"The vehicle is {v.status}, not pending.", status=v.status)
            v.status, v.review_reason = body.decision, body.reason
            v.reviewed_by, v.reviewed_at = ctx.user_id, utcnow()
            v.updated_at = utcnow()
            decided = VehicleVerified if body.decision == "verified" else VehicleRejected
            uow.emit(decided(vehicle_id=id, owner_id=v.owner_id), entity_id=id)
            return VehicleOut.model_validate(v)

    @op("GET /vehicles/{id}/capacity", perm="vehicles:read")
    async def capacity(self, ctx: Ctx, id: uuid.UUID) -> CapacityOut:
        """What the vehicle carries, and whether it may be used (only once verified)."""
        async with self.uow(read=True) as uow:
            return CapacityOut.model_validate(await self._visible(uow, ctx, id))

    # -- helpers -----------------------------------------------------------------------
    async def _visible(self, uow, ctx: Ctx, id: uuid.UUID) -> UserVehicle:
        v = await uow.repo(UserVehicle).get(id)
        if v is None or (v.owner_id != ctx.user_id and not await self.can(ctx, "vehicles:read:any")):
            raise VehicleNotFound("No such vehicle.", id=str(id))
        return v

    async def _owned(self, uow, ctx: Ctx, id: uuid.UUID) -> UserVehicle:
        v = await self._visible(uow, ctx, id)
        if v.owner_id != ctx.user_id:
            raise NotVehicleOwner("Only the vehicle's owner can change it.")
        return v


async def _plate_free(vehicles, owner_id: uuid.UUID, plate: str | None) -> None:
    if plate and await vehicles.exists(owner_id=owner_id, plate=plate):
        raise PlateTaken(f"You registered a vehicle with plate {plate} already.", plate=plate)


def _complete(v: UserVehicle) -> bool:
    return REQUIRED_DOCUMENTS <= {d.kind for d in v.documents}


def _back_to_review(v: UserVehicle) -> None:
    v.status = "pending" if _complete(v) else "unverified"
    v.review_reason = v.reviewed_by = v.reviewed_at = None


def _check_capacity(type_: str, weight_g: int, volume_cm3: int) -> None:
    max_g, max_cm3 = MAX_CAPACITY[type_]
    if weight_g > max_g or volume_cm3 > max_cm3:
        raise CapacityExceedsType(f"A {type_} carries at most {max_g} g and {max_cm3} cm3.", type=type_,
                                  max_weight_g=max_g, max_volume_cm3=max_cm3)


SPEC = ServiceSpec("Vehicle Verification Service", key="vehicles", prefix="/vehicles", service=Vehicles,
                   models="storage.models.vehicles",
                   emits=(VehicleRegistered, VehicleUpdated, VehicleSubmitted, VehicleVerified, VehicleRejected),
                   grants={"traveler": ("vehicles:read", "vehicles:write"),
                           "courier": ("vehicles:read", "vehicles:write"),
                           "support": ("vehicles:read:any",),
                           "compliance": ("vehicles:verify", "vehicles:read:any")})
