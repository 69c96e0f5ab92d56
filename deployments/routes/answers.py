"""From the routing core's values to the service's answers: itineraries with local times,
exclusion reasons, direct connections and trip listings."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from deployments.routes.keeper import GraphView
from deployments.routes.schemas import (
    ConstraintsOut,
    ExampleOut,
    ItineraryOut,
    LegOut,
    PlaceRef,
    ReasonOut,
    RouteAnswer,
    TransitCourier,
    TransitFlight,
    TransitOut,
    TripListing,
)
from routing import FlightLeg, LegConstraints, Network, SearchResult
from routing.network import zone


def local(at: datetime, tz: str) -> str:
    """ISO 8601 in the place's zone, the zone's name in brackets (RFC 9557)."""
    return f"{at.astimezone(zone(tz)).isoformat()}[{tz}]"


def constraints_out(c: LegConstraints) -> ConstraintsOut:
    return ConstraintsOut(allowed_categories=None if c.allowed_categories is None else sorted(c.allowed_categories),
                          banned_categories=sorted(c.banned_categories), max_item_weight_g=c.max_item_weight_g,
                          max_dimensions_mm=c.max_dimensions_mm)


def accepts(c: LegConstraints, category: str) -> bool:
    """Whether a trip's constraints take the category."""
    return category not in c.banned_categories and (c.allowed_categories is None or category in c.allowed_categories)


def route_answer(result: SearchResult, view: GraphView, net: Network, origin: PlaceRef,
                 destination: PlaceRef) -> RouteAnswer:
    q = result.query
    itineraries = []
    for it in result.itineraries:
        legs = [LegOut(kind=x.kind, from_place=x.from_place, to_place=x.to_place, departure_utc=x.departure_utc,
                       arrival_utc=x.arrival_utc, departure_local=x.departure_local, arrival_local=x.arrival_local,
                       from_tz=net.places[x.from_place].tz, to_tz=net.places[x.to_place].tz,
                       price_minor=x.price_minor, currency=x.currency, trip_id=x.trip_id, leg_id=x.leg_id,
                       flight=view.flights.get(x.leg_id) if x.leg_id else None, segment_id=x.segment_id,
                       provider_id=x.provider_id) for x in it.legs]
        itineraries.append(ItineraryOut(legs=legs, price_minor=it.price_minor, currency=it.currency,
                                        departure_utc=it.departure_utc, arrival_utc=it.arrival_utc,
                                        duration_s=int((it.arrival_utc - it.departure_utc).total_seconds()),
                                        legs_count=it.legs_count))
    for tag, key in (("cheapest", lambda i: i.price_minor), ("fastest", lambda i: i.arrival_utc),
                     ("fewest_legs", lambda i: i.legs_count)):
        best = min((key(i) for i in itineraries), default=None)
        for i in itineraries:
            if key(i) == best:
                i.tags.append(tag)
    d = result.diagnostics
    reasons = [ReasonOut(reason=str(r), count=n, examples=[ExampleOut(place=e.place, edge_id=e.edge_id,
                                                                      detail=e.detail)
                                                           for e in d.examples if e.reason == r])
               for r, n in sorted(d.counts.items(), key=lambda kv: -kv[1])]
    return RouteAnswer(origin=origin, destination=destination, ready_at=q.ready_at, deadline=q.deadline,
                       found=result.found, itineraries=itineraries, reasons=reasons, graph_version=view.version)


def transit(view: GraphView, origin: str, destination: str, start: datetime, end: datetime) -> TransitOut:
    net = view.graph.snapshot()
    flights = sorted((x for x in net.legs if x.from_place == origin and x.to_place == destination
                      and start <= x.departure <= end), key=lambda x: x.departure)
    couriers = [s for s in net.segments if s.from_place == origin and s.to_place == destination]
    return TransitOut(
        origin=origin, destination=destination, start=start, end=end,
        flights=[TransitFlight(trip_id=x.trip_id, leg_id=x.leg_id, flight=view.flights.get(x.leg_id),
                               departure_utc=x.departure, arrival_utc=x.arrival,
                               departure_local=local(x.departure, net.places[origin].tz),
                               arrival_local=local(x.arrival, net.places[destination].tz),
                               remaining_weight_g=x.remaining_weight_g, remaining_volume_cm3=x.remaining_volume_cm3,
                               remaining_items=x.remaining_items, price_per_kg_minor=x.price.per_kg_minor,
                               minimum_minor=x.price.minimum_minor, currency=x.price.currency,
                               constraints=constraints_out(x.constraints)) for x in flights],
        couriers=[TransitCourier(segment_id=s.segment_id, provider_id=s.provider_id,
                                 duration_s=int(s.duration.total_seconds()), price_minor=s.price.amount_minor,
                                 currency=s.price.currency, max_weight_g=s.max_weight_g)
                  for s in sorted(couriers, key=lambda s: (s.price.amount_minor, s.duration))])


def listings(view: GraphView, origins: set[str], destinations: set[str], start: datetime, end: datetime,
             min_remaining_g: int, category: str | None) -> list[TripListing]:
    """Trips with a leg leaving an origin in the window and a leg (the same or a later one)
    reaching a destination, with room and the category on every leg flown."""
    net = view.graph.snapshot()
    by_trip: dict[str, list[FlightLeg]] = defaultdict(list)
    for leg in net.legs:
        by_trip[leg.trip_id].append(leg)
    out = []
    for legs in by_trip.values():
        legs.sort(key=lambda x: x.departure)
        flown = _flown(legs, origins, destinations, start, end)
        if not flown or min(x.remaining_weight_g for x in flown) < min_remaining_g:
            continue
        if category and not all(accepts(x.constraints, category) for x in flown):
            continue
        out.append(listing(view, flown))
    return sorted(out, key=lambda t: (t.departure_utc, str(t.trip_id)))


def _flown(legs: list[FlightLeg], origins, destinations, start, end) -> list[FlightLeg] | None:
    for i, first in enumerate(legs):
        if first.from_place in origins and start <= first.departure <= end:
            for j in range(i, len(legs)):
                if legs[j].to_place in destinations:
                    return legs[i:j + 1]
    return None


def listing(view: GraphView, flown: list[FlightLeg]) -> TripListing:
    places = view.graph.places
    first, last = flown[0], flown[-1]
    return TripListing(trip_id=first.trip_id, from_place=first.from_place, to_place=last.to_place,
                       departure_utc=first.departure, arrival_utc=last.arrival,
                       departure_local=local(first.departure, places[first.from_place].tz),
                       arrival_local=local(last.arrival, places[last.to_place].tz),
                       flights=[view.flights.get(x.leg_id) for x in flown], legs=len(flown),
                       remaining_weight_g=min(x.remaining_weight_g for x in flown),
                       price_per_kg_minor=first.price.per_kg_minor, minimum_minor=first.price.minimum_minor,
                       currency=first.price.currency, constraints=constraints_out(first.constraints))
