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
