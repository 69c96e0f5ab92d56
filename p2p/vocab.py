"""The shared vocabulary of `domain.md`, once: package categories, place ids, typed ids,
statuses, and the limits every service applies to a package. Services import these
instead of writing their own copies."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field

# -- identifiers --------------------------------------------------------------------------
UserId = Annotated[uuid.UUID, Field(description="A user's id")]
TripId = Annotated[uuid.UUID, Field(description="A traveler's trip")]
LegId = Annotated[uuid.UUID, Field(description="A leg of a trip")]
ItineraryId = Annotated[uuid.UUID, Field(description="A sender's itinerary")]
BookingId = Annotated[uuid.UUID, Field(description="A booking of an itinerary")]
ProviderId = Annotated[uuid.UUID, Field(description="A courier provider")]
SegmentId = Annotated[uuid.UUID, Field(description="A courier provider's local segment")]
VehicleId = Annotated[uuid.UUID, Field(description="A registered vehicle")]
ShipmentId = Annotated[uuid.UUID, Field(description="A sender's shipment")]
PackageId = Annotated[uuid.UUID, Field(description="A package of a shipment")]
HandoffId = Annotated[uuid.UUID, Field(description="A handoff step of a shipment")]
QrId = Annotated[uuid.UUID, Field(description="A signed QR code")]

LOCATION_ID_PATTERN = r"^(apt|city|addr):\S+$"
LocationId = Annotated[str, Field(min_length=5, max_length=96, pattern=LOCATION_ID_PATTERN,
                                  description="A Location Service id: apt:LHR, city:GB:london, addr:<uuid>")]

# -- packages -----------------------------------------------------------------------------
Category = Literal["document", "parcel", "electronics", "fragile", "food", "medicine", "other"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
MAX_PACKAGE_WEIGHT_G = 50_000       # what one traveler may carry for one sender
MAX_PACKAGE_VOLUME_CM3 = 300_000
MAX_PACKAGE_ITEMS = 50
MAX_SIDE_MM = 2_000

# -- state machines (domain.md) -----------------------------------------------------------
TripStatus = Literal["draft", "published", "in_progress", "completed", "cancelled"]
LegStatus = Literal["planned", "requested", "booked", "in_progress", "completed", "cancelled", "failed"]
BookingStatus = Literal["pending", "confirmed", "completed", "expired", "declined", "cancelled"]
LegKind = Literal["flight", "courier"]
KycStatus = Literal["not_required", "pending", "verified", "rejected"]
CancellationReason = Literal["user_request", "no_show", "compliance", "other"]
ShipmentStatus = Literal["draft", "searching", "awaiting_acceptance", "booked", "in_transit", "out_for_delivery",
                         "delivered", "cancelled", "delivery_failed", "return_to_sender", "lost"]
PackageStatus = Literal["draft", "ready", "assigned", "in_transit", "delivered", "cancelled", "lost"]
TrackingStatus = Literal["pre_transit", "picked_up", "in_transit", "at_handoff", "out_for_delivery", "delivered",
                         "delivery_failed", "return_to_sender", "cancelled", "lost"]
HandoffStatus = Literal["planned", "awaiting_dropoff", "awaiting_pickup", "transferred", "failed", "cancelled"]
ScanOutcome = Literal["ok", "invalid", "expired", "replayed"]
# exception reason codes carry one of these prefixes (domain.md)
REASON_PREFIXES = ("carrier_", "consignee_", "customs_", "weather_", "other_")

# -- money (domain.md) --------------------------------------------------------------------
PaymentStatus = Literal["requires_payment_method", "requires_confirmation", "requires_action", "processing",
                        "succeeded", "failed", "canceled"]
EscrowStatus = Literal["awaiting_funds", "held", "disputed", "released", "refunded"]
EscrowEntryStatus = Literal["held", "disputed", "released", "refunded"]
PayoutStatus = Literal["pending", "in_transit", "paid", "failed", "canceled"]
DisputeStatus = Literal["needs_response", "under_review", "won", "lost"]
FeeType = Literal["platform_fee", "payment_processor_fee", "fx_fee", "dispute_fee", "other"]
