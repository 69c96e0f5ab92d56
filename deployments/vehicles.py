"""Vehicle Verification Service (spec 2.5): couriers' and travelers' vehicles, their documents
(kept in the blob store) and the review that makes a vehicle's capacity usable.

Status: unverified -> pending (registration and insurance uploaded) -> verified | rejected.
A rejected vehicle goes back to pending with new documents; a change of plate or capacity
sends any reviewed vehicle back for review."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select

from deployments.kit import Ctx, Page, Schema, Service, ServiceSpec, op
from deployments.kit.http import FormField, Upload
from deployments.kit.schemas import Limit, decode_cursor, encode_cursor
from p2p.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from storage.db import utcnow
from storage.models.vehicles import UserVehicle, VehicleDocument

VehicleType = Literal["bicycle", "motorbike", "car", "van", "truck"]
DocumentKind = Literal["registration", "insurance", "inspection", "photo"]
# type -> (max payload grams, max cargo volume cm3): generous ceilings, not typical values.
MAX_CAPACITY = {"bicycle": (40_000, 150_000), "motorbike": (80_000, 250_000), "car": (600_000, 2_000_000),
                "van": (2_000_000, 20_000_000), "truck": (30_000_000, 120_000_000)}
REQUIRED_DOCUMENTS = {"registration", "insurance"}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAGIC = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}


def _plate(v: str | None) -> str | None:
    if v is None:
        return None
    v = "".join(v.split()).replace("-", "").upper()
    if not (2 <= len(v) <= 10 and v.isascii() and v.isalnum()):
        raise ValueError("a plate has 2-10 letters and digits (spaces and hyphens are ignored)")
    return v


class VehicleCreate(Schema):
    type: VehicleType
    plate: str | None = Field(default=None, description="Required except for bicycles")
    make: str = Field(min_length=1, max_length=60)
    model: str = Field(min_length=1, max_length=60)
    capacity_weight_g: int = Field(ge=1, description="Payload in grams")
    capacity_volume_cm3: int = Field(ge=1, description="Cargo volume in cubic centimetres")

    check_plate = field_validator("plate")(classmethod(lambda cls, v: _plate(v)))

    @model_validator(mode="after")
    def _needs_plate(self):
        if self.type != "bicycle" and not self.plate:
            raise ValueError(f"a {self.type} needs a plate")
        return self


class VehicleUpdate(Schema):
    """The type cannot change: register the other vehicle instead."""

    plate: str | None = None
    make: str | None = Field(default=None, min_length=1, max_length=60)
    model: str | None = Field(default=None, min_length=1, max_length=60)
    capacity_weight_g: int | None = Field(default=None, ge=1)
    capacity_volume_cm3: int | None = Field(default=None, ge=1)

    check_plate = field_validator("plate")(classmethod(lambda cls, v: _plate(v)))


class DocumentOut(Schema):
    id: uuid.UUID
    kind: DocumentKind
    sha256: str
    size: int
    content_type: str
    filename: str
    created_at: datetime


class VehicleOut(Schema):
    id: uuid.UUID
    owner_id: uuid.UUID
    type: VehicleType
    plate: str | None
    make: str
    model: str
    capacity_weight_g: int
    capacity_volume_cm3: int
    status: Literal["unverified", "pending", "verified", "rejected"]
    review_reason: str | None = None
    documents: list[DocumentOut] = []
    created_at: datetime
    updated_at: datetime


class CapacityOut(Schema):
    vehicle_id: uuid.UUID
    type: VehicleType
    capacity_weight_g: int
    capacity_volume_cm3: int
    status: str
    usable: bool = Field(description="Only a verified vehicle's capacity may be offered")


class VerificationIn(Schema):
    decision: Literal["verified", "rejected"]
    reason: str | None = Field(default=None, max_length=500, description="Required when rejecting")

    @model_validator(mode="after")
    def _reason(self):
        if self.decision == "rejected" and not self.reason:
            raise ValueError("a rejection needs a reason")
        return self


class VehicleNotFound(NotFound):
    """No vehicle has this id, or the caller may not see it."""
    code = "vehicle.not_found"


class NotVehicleOwner(Forbidden):
    """Only the owner changes a vehicle or adds its documents."""
    code = "vehicle.not_owner"


class PlateTaken(Conflict):
    """The owner registered a vehicle with this plate already."""
    code = "vehicle.plate_taken"


class CapacityExceedsType(Unprocessable):
    """The capacity is beyond what a vehicle of this type can carry."""
    code = "vehicle.capacity_exceeds_type"


class DocumentTooLarge(ProblemError):
    """The document is over 10 MB."""
    code, status, title = "vehicle.document_too_large", 413, "Content too large"


class DocumentTypeUnsupported(ProblemError):
    """The document is not a PDF, JPEG or PNG (by declared type and by content)."""
    code, status, title = "vehicle.document_type_unsupported", 415, "Unsupported media type"


class NotPending(Conflict):
    """Only a vehicle waiting for review can be verified or rejected."""
    code = "vehicle.not_pending"


class SelfReview(Forbidden):
    """Reviewers do not review their own vehicles."""
    code = "vehicle.self_review"


class Vehicles(Service):
    @op("POST /vehicles", status=201, perm="vehicles:write")
    async def create(self, ctx: Ctx, body: VehicleCreate) -> VehicleOut:
        """Register a vehicle. It starts unverified; upload registration and insurance next."""
        _check_capacity(body.type, body.capacity_weight_g, body.capacity_volume_cm3)
        async with self.uow() as uow:
            await self._plate_free(uow, ctx.user_id, body.plate)
            v = uow.add(UserVehicle(id=uuid.uuid4(), owner_id=ctx.user_id, status="unverified", **body.model_dump()))
            uow.emit("vehicle.registered", v.id, {"vehicle_id": str(v.id), "owner_id": str(ctx.user_id),
                                                  "type": body.type})
            await uow.flush()
            return self._out(v, [])

    @op("GET /vehicles", perm="vehicles:read")
    async def list_mine(self, ctx: Ctx, limit: Limit = 20, cursor: str | None = None) -> Page[VehicleOut]:
        """The caller's vehicles, oldest first."""
        async with self.uow(read=True) as uow:
            rows, nxt = await uow.page(select(UserVehicle).where(UserVehicle.owner_id == ctx.user_id), UserVehicle,
                                       limit=limit, after=decode_cursor(cursor) if cursor else None)
            return Page(items=[self._out(v, await self._documents(uow, v.id)) for v in rows],
                        next_cursor=encode_cursor(nxt) if nxt else None)

    @op("GET /vehicles/{id}", perm="vehicles:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> VehicleOut:
        """A vehicle with its documents and status; only to its owner (or vehicles:read:any)."""
        async with self.uow(read=True) as uow:
            v = await self._visible(uow, ctx, id)
            return self._out(v, await self._documents(uow, id))

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
                await self._plate_free(uow, v.owner_id, changes["plate"])
            material = any(changes.get(k, getattr(v, k)) != getattr(v, k)
                           for k in ("plate", "capacity_weight_g", "capacity_volume_cm3"))
            for field, value in changes.items():
                setattr(v, field, value)
            docs = await self._documents(uow, id)
            if material and v.status != "unverified":
                self._back_to_review(v, docs)
            v.updated_at = utcnow()
            uow.emit("vehicle.updated", id, {"vehicle_id": str(id), "fields": sorted(changes), "status": v.status})
            return self._out(v, docs)

    @op("POST /vehicles/{id}/documents", status=201, perm="vehicles:write")
    async def upload(self, ctx: Ctx, id: uuid.UUID, kind: Annotated[DocumentKind, FormField()],
                     file: Upload) -> VehicleOut:
        """Upload a PDF, JPEG or PNG (10 MB at most) as the vehicle's registration, insurance,
        inspection or photo. Registration plus insurance submit the vehicle for review."""
        if len(file.data) > MAX_DOCUMENT_BYTES:
            raise DocumentTooLarge("Documents are limited to 10 MB.", size=len(file.data), limit=MAX_DOCUMENT_BYTES)
        content_type = file.content_type.split(";")[0].strip().lower()
        if not file.data or not any(file.data.startswith(m) for m in MAGIC.get(content_type, ())):
            raise DocumentTypeUnsupported("Upload a PDF, JPEG or PNG whose content matches its type.",
                                          content_type=content_type)
        async with self.uow(read=True) as uow:
            await self._owned(uow, ctx, id)
        # Stored before the row; a blob left by a failed transaction is unreferenced, not wrong.
        ref = await self.rt.blobs.put(file.data, content_type)
        async with self.uow() as uow:
            v = await self._owned(uow, ctx, id)
            uow.add(VehicleDocument(id=uuid.uuid4(), vehicle_id=id, kind=kind, sha256=ref.sha256, size=ref.size,
                                    content_type=content_type, filename=file.filename[-200:], uploaded_by=ctx.user_id))
            await uow.flush()
            docs = await self._documents(uow, id)
            if v.status in ("unverified", "rejected") and self._complete(docs):
                self._back_to_review(v, docs)
                uow.emit("vehicle.submitted", id, {"vehicle_id": str(id), "owner_id": str(v.owner_id)})
            v.updated_at = utcnow()
            return self._out(v, docs)

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
            uow.emit(f"vehicle.{body.decision}", id, {"vehicle_id": str(id), "owner_id": str(v.owner_id)})
            return self._out(v, await self._documents(uow, id))

    @op("GET /vehicles/{id}/capacity", perm="vehicles:read")
    async def capacity(self, ctx: Ctx, id: uuid.UUID) -> CapacityOut:
        """What the vehicle carries, and whether it may be used (only once verified)."""
        async with self.uow(read=True) as uow:
            v = await self._visible(uow, ctx, id)
        return CapacityOut(vehicle_id=v.id, type=v.type, capacity_weight_g=v.capacity_weight_g,
                           capacity_volume_cm3=v.capacity_volume_cm3, status=v.status, usable=v.status == "verified")

    # -- helpers -----------------------------------------------------------------------
    async def _visible(self, uow, ctx: Ctx, id: uuid.UUID) -> UserVehicle:
        v = await uow.get(UserVehicle, id)
        if v is None or (v.owner_id != ctx.user_id and not await self.can(ctx, "vehicles:read:any")):
            raise VehicleNotFound("No such vehicle.", id=str(id))
        return v

    async def _owned(self, uow, ctx: Ctx, id: uuid.UUID) -> UserVehicle:
        v = await self._visible(uow, ctx, id)
        if v.owner_id != ctx.user_id:
            raise NotVehicleOwner("Only the vehicle's owner can change it.")
        return v

    @staticmethod
    async def _plate_free(uow, owner_id: uuid.UUID, plate: str | None) -> None:
        if plate and await uow.scalar(select(UserVehicle.id).where(UserVehicle.owner_id == owner_id,
                                                                   UserVehicle.plate == plate)):
            raise PlateTaken(f"You registered a vehicle with plate {plate} already.", plate=plate)

    @staticmethod
    async def _documents(uow, vehicle_id: uuid.UUID) -> list[VehicleDocument]:
        return await uow.all(select(VehicleDocument).where(VehicleDocument.vehicle_id == vehicle_id)
                             .order_by(VehicleDocument.created_at, VehicleDocument.id))

    @staticmethod
    def _complete(docs: list[VehicleDocument]) -> bool:
        return REQUIRED_DOCUMENTS <= {d.kind for d in docs}

    def _back_to_review(self, v: UserVehicle, docs: list[VehicleDocument]) -> None:
        v.status = "pending" if self._complete(docs) else "unverified"
        v.review_reason = v.reviewed_by = v.reviewed_at = None

    @staticmethod
    def _out(v: UserVehicle, docs: list[VehicleDocument]) -> VehicleOut:
        return VehicleOut.model_validate({**{c: getattr(v, c) for c in VehicleOut.model_fields if c != "documents"},
                                          "documents": [DocumentOut.model_validate(d) for d in docs]})


def _check_capacity(type_: str, weight_g: int, volume_cm3: int) -> None:
    max_g, max_cm3 = MAX_CAPACITY[type_]
    if weight_g > max_g or volume_cm3 > max_cm3:
        raise CapacityExceedsType(f"A {type_} carries at most {max_g} g and {max_cm3} cm3.", type=type_,
                                  max_weight_g=max_g, max_volume_cm3=max_cm3)


SPEC = ServiceSpec("Vehicle Verification Service", key="vehicles", prefix="/vehicles", service=Vehicles,
                   models="storage.models.vehicles")
