"""A provider's daily capacity, as a ledger: one row per provider and day with what is sold,
and one hold per caller's key, so a retried hold or release changes nothing. A conditional
UPDATE keeps the day within the provider's limits even when two holds race."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from deployments.couriers.errors import CapacityExhausted, SegmentOverCapacity
from deployments.couriers.schemas import CapacityOut
from p2p.errors import Unprocessable
from storage.db import utcnow
from storage.models.couriers import LocalCapacityDay, LocalCapacityHold, LocalCourierProvider

D = LocalCapacityDay


def within_day(p: LocalCourierProvider, max_weight_g: int) -> None:
    """A segment carries at most what the provider carries in a day."""
    if max_weight_g > p.max_weight_g_per_day:
        raise SegmentOverCapacity("A segment cannot carry more than the provider's daily weight.",
                                  max_weight_g=max_weight_g, daily_weight_g=p.max_weight_g_per_day)


async def hold(uow, p: LocalCourierProvider, day: date, weight_g: int, key: str) -> None:
    """Use one parcel and `weight_g` of `p`'s `day`, unless `key` holds already."""
    if weight_g < 0 or not key:
        raise Unprocessable("A hold needs a key and a weight of 0 g or more.")
    if await uow.repo(LocalCapacityHold).get(key) is not None:
        return
    if await uow.repo(D).get((p.id, day)) is None:
        uow.add(D(provider_id=p.id, day=day, parcels=0, weight_g=0))
        await uow.flush()
    done = await uow.session.execute(
        update(D).where(D.provider_id == p.id, D.day == day, D.parcels + 1 <= p.max_parcels_per_day,
                        D.weight_g + weight_g <= p.max_weight_g_per_day)
        .values(parcels=D.parcels + 1, weight_g=D.weight_g + weight_g))
    if done.rowcount != 1:
        raise CapacityExhausted(f"The provider has no capacity left on {day}.", day=str(day))
    uow.add(LocalCapacityHold(key=key, provider_id=p.id, day=day, weight_g=weight_g, created_at=utcnow()))


async def release(uow, key: str) -> None:
    """Give the hold's parcel and weight back, once."""
    held = await uow.repo(LocalCapacityHold).get(key)
    if held is None or held.released_at is not None:
        return
    held.released_at = utcnow()
    await uow.session.execute(update(D).where(D.provider_id == held.provider_id, D.day == held.day)
                              .values(parcels=D.parcels - 1, weight_g=D.weight_g - held.weight_g))


async def usage(uow, p: LocalCourierProvider, day: date) -> CapacityOut:
    # The columns, not the session's object: the conditional UPDATE of `hold` bypasses it.
    used = (await uow.session.execute(select(D.parcels, D.weight_g).where(D.provider_id == p.id, D.day == day))
            ).first() or (0, 0)
    return CapacityOut(provider_id=p.id, day=day, max_parcels=p.max_parcels_per_day,
                       max_weight_g=p.max_weight_g_per_day, used_parcels=used[0], used_weight_g=used[1],
                       remaining_parcels=p.max_parcels_per_day - used[0],
                       remaining_weight_g=p.max_weight_g_per_day - used[1])
