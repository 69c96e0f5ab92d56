"""Helpers for the money tests: ledger transfers, balances and reconciliation."""
from __future__ import annotations

import uuid

from tests.factories.identity import signed_up, user_with
from tests.factories.payments import PARCEL


def ledger(platform):
    return platform.runtime.services["accounting"]


def move(debit: str, credit: str, amount: int, currency: str = "EUR", *, action: str = "post",
         code: str = "manual", id: str | None = None) -> dict:
    """A two-entry transfer body: `debit` and `credit` are account keys (`revenue`, `payable:<id>`)."""
    def entry(key: str, side: str) -> dict:
        kind, _, owner = key.partition(":")
        return {"kind": kind, "owner_id": owner or None, "side": side, "amount_minor": amount}

    return {"id": id or str(uuid.uuid4()), "action": action, "currency": currency, "code": code,
            "entries": [entry(debit, "debit"), entry(credit, "credit")]}


def admin(client, call, platform) -> dict:
    return user_with(client, call, platform, "admin")[1]


def finance(client, call, platform) -> dict:
    return user_with(client, call, platform, "finance")[1]


def balance(client, headers, account: str, currency: str = "EUR", **params) -> dict:
    r = client.get("/accounting/balance", params={"account": account, "currency": currency, **params},
                   headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def reconciled(client, headers) -> dict:
    """Reconcile and assert the books hold (showing each mismatch when they don't)."""
    r = client.post("/accounting/reconcile", headers=headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["ok"], out["mismatches"]
    return out


def booked(client, call, platform, *, confirm: bool = True, courier: bool = True, **trip_kw) -> dict:
    """A sender's booking of a London -> LHR courier leg (18.50 GBP) and an LHR -> JFK flight
    (15.00 GBP/kg, 2 kg: 30.00), confirmed by both carriers unless `confirm` is False. Its
    price is 48.50 + the platform fee (10%: 4.85) = 53.35 GBP. Without the courier leg, and
    with `trip_kw` (currency, per_kg_minor), the flight alone in another currency."""
    from tests.factories.trips import courier_leg, courier_segment, create_trip, flight_leg, itinerary, traveler

    tu, th = traveler(client, call, platform)
    trip = create_trip(client, th, **trip_kw)
    legs, cu, ch = [flight_leg(trip)], None, None
    if courier:
        cu, ch, seg = courier_segment(client, call, platform)
        legs.insert(0, courier_leg(seg, trip))
    su, sh = signed_up(client)
    it = itinerary(client, sh, legs)
    r = client.post("/bookings", json={"itinerary_id": it["id"], **PARCEL}, headers=sh)
    assert r.status_code == 201, r.text
    b = r.json()
    if confirm:
        for h in (th, ch) if courier else (th,):
            assert client.put(f"/bookings/{b['id']}/confirm", headers=h).status_code == 200
    return {"booking": b, "sender": su, "sh": sh, "traveler": tu, "th": th, "courier": cu, "ch": ch, "trip": trip}
