"""The Vehicle Verification Service's events."""
from __future__ import annotations

from typing import ClassVar

from deployments.vehicles.schemas import VehicleStatus, VehicleType
from p2p.events import DomainEvent
from p2p.vocab import UserId, VehicleId


class VehicleRegistered(DomainEvent):
    topic: ClassVar[str] = "vehicle.registered"
    vehicle_id: VehicleId
    owner_id: UserId
    type: VehicleType


class VehicleUpdated(DomainEvent):
    topic: ClassVar[str] = "vehicle.updated"
    vehicle_id: VehicleId
    fields: list[str]
    status: VehicleStatus


class VehicleSubmitted(DomainEvent):
    """Registration and insurance are in: the vehicle waits for review."""
    topic: ClassVar[str] = "vehicle.submitted"
    vehicle_id: VehicleId
    owner_id: UserId


class VehicleVerified(VehicleSubmitted):
    topic: ClassVar[str] = "vehicle.verified"


class VehicleRejected(VehicleSubmitted):
    topic: ClassVar[str] = "vehicle.rejected"
