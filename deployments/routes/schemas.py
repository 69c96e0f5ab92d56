"""Route Planning Service schemas: itinerary queries and answers, direct connections and trip
listings; the typed contract other services (the Trip Search Service) call it with."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from deployments.kit import Schema
from deployments.locations import GeocodeIn
from p2p.money import Currency
from p2p.vocab import MAX_PACKAGE_WEIGHT_G, MAX_SIDE_MM, Category, LocationId

Side = Annotated[int, Field(ge=1, le=MAX_SIDE_MM)]


class Package(Schema):
    """One package and when it moves."""

    ready_at: AwareDatetime = Field(description="When the package can first be handed over at the origin")
    deadline: AwareDatetime = Field(description="When it must have arrived at the destination")
    weight_g: int = Field(gt=0, le=MAX_PACKAGE_WEIGHT_G)
    dimensions_mm: tuple[Side, Side, Side] = Field(default=(300, 200, 100), description="Length, width, height")
    category: Category = "parcel"
    currency: Currency
    max_legs: int = Field(default=4, ge=1, le=4)


class PlanQuery(Package):
    """An itinerary query between two known place ids (what other services send)."""

    origin: LocationId
    destination: LocationId


class RouteRequest(Package):
    """Origin and destination each as a place id or as an address to geocode."""

    origin: LocationId | None = None
    destination: LocationId | None = None
    origin_address: GeocodeIn | None = None
    destination_address: GeocodeIn | None = None

    @model_validator(mode="after")
    def _one_of_each(self):
        for side in ("origin", "destination"):
            if (getattr(self, side) is None) == (getattr(self, f"{side}_address") is None):
                raise ValueError(f"give exactly one of {side} and {side}_address")
        return self


class PlaceRef(Schema):
    id: str
    name: str | None = None
    tz: str
    routed_from: str = Field(description="The graph node searched from: an address's city or airport")


class LegOut(Schema):
    kind: Literal["flight", "courier"]
    from_place: str
    to_place: str
    departure_utc: datetime
    arrival_utc: datetime
    departure_local: str = Field(description="ISO 8601 local time with the IANA zone in brackets")
    arrival_local: str
    from_tz: str
    to_tz: str
    price_minor: int
    currency: str
    trip_id: uuid.UUID | None = None
    leg_id: uuid.UUID | None = None
    flight: str | None = Field(default=None, description="Carrier and flight number, e.g. BA117")
    segment_id: uuid.UUID | None = None
    provider_id: uuid.UUID | None = None


class ItineraryOut(Schema):
    legs: list[LegOut]
    price_minor: int
    currency: str
    departure_utc: datetime
    arrival_utc: datetime
    duration_s: int
    legs_count: int
    tags: list[Literal["cheapest", "fastest", "fewest_legs"]] = Field(default_factory=list)


class ExampleOut(Schema):
    place: str
    edge_id: str | None = None
    detail: str = ""


class ReasonOut(Schema):
    reason: str
    count: int
    examples: list[ExampleOut]


class RouteAnswer(Schema):
    origin: PlaceRef
    destination: PlaceRef
    ready_at: datetime = Field(description="The ready time searched from (never before now)")
    deadline: datetime
    found: bool
    itineraries: list[ItineraryOut] = Field(description="The Pareto set on price, arrival and legs")
    reasons: list[ReasonOut] = Field(description="Why candidates were excluded; what matters when none is found")
    graph_version: int


class ConstraintsOut(Schema):
    allowed_categories: list[str] | None = None
    banned_categories: list[str] = Field(default_factory=list)
    max_item_weight_g: int | None = None
    max_dimensions_mm: tuple[int, int, int] | None = None


class TransitFlight(Schema):
    trip_id: uuid.UUID
    leg_id: uuid.UUID
    flight: str | None
    departure_utc: datetime
    arrival_utc: datetime
    departure_local: str
    arrival_local: str
    remaining_weight_g: int
    remaining_volume_cm3: int | None
    remaining_items: int | None
    price_per_kg_minor: int
    minimum_minor: int
    currency: str
    constraints: ConstraintsOut


class TransitCourier(Schema):
    segment_id: uuid.UUID
    provider_id: uuid.UUID
    duration_s: int
    price_minor: int
    currency: str
    max_weight_g: int | None


class TransitOut(Schema):
    origin: str
    destination: str
    start: datetime
    end: datetime
    flights: list[TransitFlight]
    couriers: list[TransitCourier] = Field(description="Run any time; no schedule")


class ListingQuery(Schema):
    """Trips flying from an origin (an airport, or any airport of a city) to a destination."""

    origin: LocationId
    destination: LocationId
    start: AwareDatetime
    end: AwareDatetime
    min_remaining_g: int = Field(default=1, ge=1, le=MAX_PACKAGE_WEIGHT_G)
    category: Category | None = None


class TripListing(Schema):
    trip_id: uuid.UUID
    from_place: str
    to_place: str
    departure_utc: datetime
    arrival_utc: datetime
    departure_local: str
    arrival_local: str
    flights: list[str | None]
    legs: int
    remaining_weight_g: int = Field(description="The least left on the legs flown")
    price_per_kg_minor: int
    minimum_minor: int
    currency: str
    constraints: ConstraintsOut


class KnownPlace(Schema):
    id: str
    name: str | None
    code: str | None
