"""Trip Search Service schemas: a trip search and its answer, suggestions, saved searches and
their alerts. Trips and itineraries are the Route Planning Service's (its typed contract)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from deployments.kit import Schema
from deployments.routes.schemas import ItineraryOut, PlaceRef, ReasonOut, Side, TripListing
from p2p.money import Currency
from p2p.vocab import MAX_PACKAGE_WEIGHT_G, Category, LocationId


class TripSearchIn(Schema):
    origin: LocationId
    destination: LocationId
    date_from: date = Field(description="First departure day, in the origin's zone")
    date_to: date | None = Field(default=None, description="Last departure day (default: date_from)")
    weight_g: int = Field(default=1000, gt=0, le=MAX_PACKAGE_WEIGHT_G)
    dimensions_mm: tuple[Side, Side, Side] = (300, 200, 100)
    category: Category = "parcel"
    currency: Currency
    min_remaining_g: int | None = Field(default=None, gt=0, le=MAX_PACKAGE_WEIGHT_G, description="Default: weight_g")
    arrive_within_days: int = Field(default=3, ge=0, le=14, description="Arrival allowance after date_to")
    max_legs: int = Field(default=4, ge=1, le=4)


class TripSearchOut(Schema):
    query: TripSearchIn = Field(description="The query as normalised (and cached) by the service")
    origin: PlaceRef
    destination: PlaceRef
    trips: list[TripListing] = Field(description="Trips flying from the origin's airports to the destination's")
    itineraries: list[ItineraryOut] = Field(description="Pareto-best door-to-door itineraries")
    reasons: list[ReasonOut] = Field(description="Why itinerary candidates were excluded")
    graph_version: int
    cached: bool = Field(description="Answered from the cache")


class PlaceSuggestion(Schema):
    id: str
    kind: str
    name: str
    code: str | None = None
    country: str
    match: Literal["exact", "fuzzy"]


class PopularRoute(Schema):
    origin: str
    origin_name: str
    destination: str
    destination_name: str
    searches: int


class SuggestionsOut(Schema):
    q: str
    places: list[PlaceSuggestion]
    routes: list[PopularRoute]


class SavedSearchIn(Schema):
    name: str | None = Field(default=None, max_length=100)
    origin: LocationId
    destination: LocationId
    date_from: date
    date_to: date
    weight_g: int = Field(default=1000, gt=0, le=MAX_PACKAGE_WEIGHT_G)
    category: Category = "parcel"


class SavedSearchOut(Schema):
    id: uuid.UUID
    name: str | None
    origin: str
    destination: str
    date_from: date
    date_to: date
    weight_g: int
    category: str
    created_at: datetime


class AlertOut(Schema):
    id: uuid.UUID
    saved_search_id: uuid.UUID
    trip_id: uuid.UUID
    status: Literal["new", "trip_cancelled"]
    category_checked: bool
    from_location: str
    to_location: str
    departs_at: datetime
    arrives_at: datetime
    capacity_g: int
    created_at: datetime
