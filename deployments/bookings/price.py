"""What a booking costs, and whom it pays: each trip's price for the booking's weight (the
traveler's asking price per kg, at least the trip's minimum), each courier leg's segment
price, and the platform's fee on top (`platform_fee_bps` of the carriers' total, rounded
half up). Integer minor units throughout, one currency per booking: the FX issue lets legs
priced in different currencies be converted; until then such a booking cannot be paid.
`Bookings` inherits the `price` call; the Payment Service charges what it answers and the
Escrow Service holds each part for its beneficiary."""
from __future__ import annotations

import asyncio
import uuid

from deployments.bookings.errors import BookingNotFound, MixedCurrencies
from deployments.bookings.holds import BookingHolds
from deployments.bookings.schemas import BookingPrice, PricePart
from deployments.kit import internal
from storage.models.bookings import Booking


def trip_price(weight_g: int, per_kg_minor: int, min_price_minor: int) -> int:
    """The traveler's price for `weight_g`: per kg, rounded up to the minor unit, at least the minimum."""
    return max(min_price_minor, -(-weight_g * per_kg_minor // 1000))


def fee(amount_minor: int, bps: int) -> int:
    """`bps` basis points of `amount_minor`, rounded half up (integers only)."""
    return (amount_minor * bps + 5000) // 10000


class BookingPricing(BookingHolds):
    @internal
    async def price(self, booking_id: uuid.UUID) -> BookingPrice:
        """The booking's price in parts: one per trip (on its first leg) and per courier leg,
        then the platform fee. A 409 `booking.mixed_currencies` when the legs are priced in
        different currencies."""
        async with self.uow(read=True) as uow:
            b = await uow.repo(Booking, BookingNotFound).get_or_404(booking_id)
        firsts = {}
        for a in b.legs:
            if a.kind == "flight":
                firsts.setdefault(a.trip_id, a)
        flights = await asyncio.gather(*(self.trips.leg(a.trip_id, a.trip_leg_id) for a in firsts.values()))
        by_trip = {f.trip_id: f for f in flights}
        segments = await asyncio.gather(*(self.couriers.segment(a.segment_id) for a in b.legs if a.kind == "courier"))
        by_segment = {s.id: s for s in segments}
        parts, currencies = [], set()
        for a in b.legs:
            if a.kind == "flight" and firsts.get(a.trip_id) is a:
                f = by_trip[a.trip_id]
                parts.append(PricePart(kind="carrier", beneficiary_id=f.traveler_id, leg_seq=a.seq,
                                       amount_minor=trip_price(b.weight_g, f.price_per_kg_minor, f.min_price_minor)))
                currencies.add(f.currency)
            elif a.kind == "courier":
                s = by_segment[a.segment_id]
                parts.append(PricePart(kind="carrier", beneficiary_id=a.carrier_id, leg_seq=a.seq,
                                       amount_minor=s.price_minor))
                currencies.add(s.currency)
        if len(currencies) != 1:
            raise MixedCurrencies("The booking's legs are priced in different currencies; it cannot be paid in one.",
                                  id=str(booking_id), currencies=sorted(currencies))
        carriers = sum(p.amount_minor for p in parts)
        parts.append(PricePart(kind="platform_fee", beneficiary_id=None, leg_seq=None,
                               amount_minor=fee(carriers, self.settings.platform_fee_bps)))
        return BookingPrice(booking_id=b.id, sender_id=b.sender_id, status=b.status, currency=currencies.pop(),
                            total_minor=sum(p.amount_minor for p in parts), parts=parts)
