"""Helpers and fixtures for the money tests (payments): test cards, payment methods, a
payable booking, and delivery of the sandbox processor's webhooks through the app.

Production modules are imported inside the helpers: this module is loaded as a pytest
plugin at start-up, before any test is collected."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.factories.trips import create_trip, flight_leg, itinerary, sender, traveler

SUCCESS = "4242424242424242"
PARCEL = {"weight_g": 2000, "volume_cm3": 3000, "items": 1, "category": "parcel"}


def tokenize(client, number: str = SUCCESS, *, exp_month: int = 12, exp_year: int | None = None, cvc: str = "123"):
    """POST the card to the sandbox's tokenization endpoint (the response, unchecked);
    the expiry defaults to December three years on."""
    exp_year = exp_year or datetime.now(timezone.utc).year + 3
    return client.post("/payments/sandbox/tokens",
                       json={"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc})


def card_method(client, headers, number: str = SUCCESS) -> dict:
    """A stored payment method of the caller for a test card number."""
    r = tokenize(client, number)
    assert r.status_code == 201, r.text
    r = client.post("/payments/methods", json={"token": r.json()["id"]}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def payable_booking(client, call, platform, **trip_kw) -> tuple[dict, dict, dict]:
    """A pending booking of a published LHR-JFK trip by a new sender: (sender, headers, booking)."""
    _, th = traveler(client, call, platform)
    trip = create_trip(client, th, **trip_kw)
    su, sh = sender(client)
    it = itinerary(client, sh, [flight_leg(trip)])
    r = client.post("/bookings", json={"itinerary_id": it["id"], **PARCEL}, headers=sh)
    assert r.status_code == 201, r.text
    return su, sh, r.json()


def pay(client, headers, booking_id: str, method_id: str, **extra_headers):
    return client.post("/payments", json={"booking_id": booking_id, "payment_method_id": method_id},
                       headers={**headers, **extra_headers})


@pytest.fixture()
def deliver(client, platform):
    """Deliver the sandbox's queued webhooks once (one round), through the app; the count."""
    return lambda: client.portal.call(platform.deliver_webhooks)


@pytest.fixture()
def settle(deliver):
    """Deliver webhook rounds until none is left (disputes included); the total."""
    def run(max_rounds: int = 20) -> int:
        total = 0
        for _ in range(max_rounds):
            n = deliver()
            total += n
            if n == 0:
                return total
        raise AssertionError("webhooks kept coming")
    return run
