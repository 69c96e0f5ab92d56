"""The handoff steps of a confirmed booking: one per leg boundary, in order. Step 0 is the
sender handing the package to the first carrier at the pickup; step k the carrier of leg
k-1 handing it to the carrier of leg k where the legs meet; the last step the last
carrier handing it to the recipient. Places are kept coarse (an address is kept as its
city), which is all the public tracking shows and all a scan's position is checked against."""
from __future__ import annotations

from typing import Any

from actors.custody.schemas import StepPlan

ROLE = {"flight": "traveler", "courier": "courier"}


def plan_steps(sender_id: Any, booking: Any, itinerary: Any, places: dict[str, Any]) -> list[StepPlan]:
    """`places` maps each location id of the itinerary to its Location Service answer."""
    legs = sorted(itinerary.legs, key=lambda leg: leg.seq)
    carriers = {a.seq: a.carrier_id for a in booking.legs}
    steps: list[StepPlan] = []
    for i in range(len(legs) + 1):
        before, after = (legs[i - 1] if i else None), (legs[i] if i < len(legs) else None)
        where = after.from_location if after is not None else before.to_location
        place = places[where]
        steps.append(StepPlan(
            seq=i, giver_id=carriers[before.seq] if before else sender_id,
            giver_role=ROLE[before.kind] if before else "sender",
            receiver_id=carriers[after.seq] if after else None,
            receiver_role=ROLE[after.kind] if after else "recipient",
            leg_completed=before.seq if before else None, leg_started=after.seq if after else None,
            place=place.city_id if place.kind == "address" and place.city_id else place.id,
            lat=place.lat, lon=place.lon, planned_at=after.starts_at if after else before.ends_at))
    return steps
