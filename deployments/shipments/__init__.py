"""Shipment Service (spec 6.12): schemas, errors, events, rules (tracking numbers,
prohibited items), what other services call (desk.py) and the service with its spec."""
from deployments.shipments.events import PackageAdded, ShipmentCreated, ShipmentStatusChanged
from deployments.shipments.schemas import ShipmentCustody, ShipmentCustomsFacts
from deployments.shipments.service import SPEC, Shipments

__all__ = ["SPEC", "PackageAdded", "ShipmentCreated", "ShipmentCustody", "ShipmentCustomsFacts",
           "ShipmentStatusChanged", "Shipments"]
