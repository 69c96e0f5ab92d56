"""What a trip must satisfy, as plain functions the service applies: a chain of flight legs,
the item a hold is for against the trip's constraints, and the rows and events a trip's
fields make."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from deployments.trips.errors import (
    ArrivalBeforeDeparture,
    DepartureInPast,
    ItemNotAllowed,
    LegsDiscontinuous,
    LegsOutOfOrder,
    SameAirport,
    TripNotEditable,
    TripStateConflict,
)
from deployments.trips.events import PublishedLeg, TripPublished
from deployments.trips.schemas import CapacityIn, ConstraintsIn, LegIn, PriceIn, TripUpdate
from storage.db import utcnow
from storage.models.trips import LegCapacity, Trip, TripConstraint, TripLeg

MAX_FLIGHT = timedelta(hours=24)
PUBLIC = ("published", "in_progress", "completed")  # seen by anyone signed in; drafts and cancelled by the traveler


def check_chain(legs: list[LegIn]) -> None:
    """Each leg flies between two airports, arrives after it departs (within 24 hours) and
    departs where and after the previous one arrived; the first has not departed yet."""
    for i, leg in enumerate(legs):
        if leg.origin == leg.destination:
            raise SameAirport("A leg must fly between two airports.", leg=i, airport=leg.origin)
        if not leg.departs_at < leg.arrives_at <= leg.departs_at + MAX_FLIGHT:
            raise ArrivalBeforeDeparture("A leg must arrive after it departs, within 24 hours.", leg=i)
        if i and leg.origin != legs[i - 1].destination:
            raise LegsDiscontinuous(f"Leg {i} departs from {leg.origin}, not from {legs[i - 1].destination} "
                                    "where the previous leg arrives.", leg=i)
        if i and leg.departs_at < legs[i - 1].arrives_at:
            raise LegsOutOfOrder(f"Leg {i} departs before the previous leg arrives.", leg=i)
    if legs[0].departs_at <= utcnow():
        raise DepartureInPast("The first flight has already departed.", leg=0)


def leg_rows(legs: list[LegIn], airports: dict[str, Any]) -> list[TripLeg]:
    """The trip's leg rows; `airports` maps each IATA code to the Location Service's airport."""
    return [TripLeg(id=uuid.uuid4(), seq=seq, origin_iata=leg.origin, destination_iata=leg.destination,
                    origin_location=airports[leg.origin].id, destination_location=airports[leg.destination].id,
                    origin_tz=airports[leg.origin].tz, destination_tz=airports[leg.destination].tz,
                    departs_at=leg.departs_at, arrives_at=leg.arrives_at, carrier=leg.carrier,
                    flight_number=leg.flight_number) for seq, leg in enumerate(legs)]


def capacity_cols(c: CapacityIn) -> dict[str, int]:
    return {"capacity_g": c.weight_g, "capacity_cm3": c.volume_cm3, "capacity_items": c.items}


def price_cols(p: PriceIn) -> dict[str, Any]:
    return {"price_per_kg_minor": p.per_kg_minor, "min_price_minor": p.min_price_minor, "currency": p.currency}


def move(trip: Trip, frm: tuple[str, ...], to: str) -> Trip:
    """The trip's next status, from one of `frm` (409 `trip.invalid_transition` otherwise)."""
    if trip.status not in frm:
        raise TripStateConflict(f"A {trip.status} trip cannot become {to}.", status=trip.status)
    trip.status, trip.updated_at, trip.version = to, utcnow(), trip.version + 1
    return trip


def publish(trip: Trip) -> list[LegCapacity]:
    """Publish a draft whose first flight is still ahead; the capacity rows of its legs."""
    if trip.status == "draft" and trip.legs[0].departs_at <= utcnow():
        raise DepartureInPast("The first flight has already departed.", departs_at=trip.legs[0].departs_at.isoformat())
    move(trip, ("draft",), "published").published_at = trip.updated_at
    return [LegCapacity(trip_id=trip.id, leg_id=leg.id, open=True, capacity_g=trip.capacity_g,
                        capacity_cm3=trip.capacity_cm3, capacity_items=trip.capacity_items) for leg in trip.legs]


def check_editable(trip: Trip, body: TripUpdate) -> Trip:
    """Only a draft or published trip changes, and its legs only while it is a draft."""
    if trip.status not in ("draft", "published"):
        raise TripNotEditable(f"A {trip.status} trip cannot be changed.", status=trip.status)
    if body.legs is not None and trip.status != "draft":
        raise TripNotEditable("Legs change only while the trip is a draft.", status=trip.status)
    return trip


def apply_update(trip: Trip, body: TripUpdate) -> None:
    """The fields of `body` that were given, except the legs (the service replaces those)."""
    cols = {**(capacity_cols(body.capacity) if body.capacity else {}), **(price_cols(body.price) if body.price else {})}
    if "notes" in body.model_fields_set:
        cols["notes"] = body.notes
    for k, v in cols.items():
        setattr(trip, k, v)
    for k, v in (body.constraints.model_dump() if body.constraints else {}).items():
        setattr(trip.constraints, k, v)
    trip.version += 1
    trip.updated_at = utcnow()


def check_item(c: TripConstraint | None, weight_g: int, items: int, category: str | None) -> None:
    """The item fits the trip's weight per item and its allowed and banned categories."""
    if c is None:
        return
    if c.max_item_weight_g is not None and weight_g > c.max_item_weight_g * items:
        raise ItemNotAllowed("The items are heavier than the trip allows per item.",
                             max_item_weight_g=c.max_item_weight_g)
    if category and (category in (c.banned_categories or []) or (
            c.allowed_categories is not None and category not in c.allowed_categories)):
        raise ItemNotAllowed(f"The trip does not take {category}.", category=category)


def published(trip: Trip) -> TripPublished:
    """What a published trip's subscribers need without calling back."""
    return TripPublished(
        trip_id=trip.id, traveler_id=trip.traveler_id, status=trip.status, capacity=trip.capacity, price=trip.price,
        constraints=ConstraintsIn.model_validate(trip.constraints),
        legs=[PublishedLeg(leg_id=x.id, origin_location=x.origin_location, destination_location=x.destination_location,
                           departs_at=x.departs_at, arrives_at=x.arrives_at, carrier=x.carrier,
                           flight_number=x.flight_number) for x in trip.legs])
