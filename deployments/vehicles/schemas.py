"""The Vehicle Verification Service's request and response models, and its vocabulary."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, Field, computed_field, field_validator, model_validator

from deployments.kit import Schema
from p2p.vocab import UserId, VehicleId

VehicleType = Literal["bicycle", "motorbike", "car", "van", "truck"]
VehicleStatus = Literal["unverified", "pending", "verified", "rejected"]
DocumentKind = Literal["registration", "insurance", "inspection", "photo"]
# type -> (max payload grams, max cargo volume cm3): generous ceilings, not typical values.
MAX_CAPACITY = {"bicycle": (40_000, 150_000), "motorbike": (80_000, 250_000), "car": (600_000, 2_000_000),
                "van": (2_000_000, 20_000_000), "truck": (30_000_000, 120_000_000)}


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
    id: VehicleId
    owner_id: UserId
    type: VehicleType
    plate: str | None
    make: str
    model: str
    capacity_weight_g: int
    capacity_volume_cm3: int
    status: VehicleStatus
    review_reason: str | None = None
    documents: list[DocumentOut] = []
    created_at: datetime
    updated_at: datetime


class CapacityOut(Schema):
    vehicle_id: VehicleId = Field(validation_alias=AliasChoices("vehicle_id", "id"))
    type: VehicleType
    capacity_weight_g: int
    capacity_volume_cm3: int
    status: VehicleStatus

    @computed_field(description="Only a verified vehicle's capacity may be offered")  # type: ignore[prop-decorator]
    @property
    def usable(self) -> bool:
        return self.status == "verified"


class VerificationIn(Schema):
    decision: Literal["verified", "rejected"]
    reason: str | None = Field(default=None, max_length=500, description="Required when rejecting")

    @model_validator(mode="after")
    def _reason(self):
        if self.decision == "rejected" and not self.reason:
            raise ValueError("a rejection needs a reason")
        return self
