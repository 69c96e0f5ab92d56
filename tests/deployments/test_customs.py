"""Customs Service over HTTP: declarations, their CN22/CN23 PDF, updates and duties quotes."""
from __future__ import annotations

import io
import uuid
from datetime import datetime, timezone

from pypdf import PdfReader

from actors.custody.events import ShipmentPickedUp
from deployments.bookings.events import BookingConfirmed
from tests.factories.common import problem
from tests.factories.customs import create_declaration, declaration_body, item_body
from tests.factories.identity import signed_up, user_with
from tests.factories.shipments import create_shipment

DOMESTIC = {"pickup": {"location_id": "city:GB:london"},
            "recipient": {"name": "Bob", "phone": "+447700900123", "address": {"location_id": "city:GB:london"}}}


def shipments(platform):
    return platform.runtime.services["shipments"]


def handle(call, platform, handler: str, event) -> None:
    """Run a Shipment Service event handler in a unit of work, as the relay does."""
    s = shipments(platform)

    async def run():
        async with s.uow() as uow:
            await getattr(s, handler)(uow, event)
    call(run)


def book(call, platform, s: dict, carrier_id: str) -> None:
    """Attach the shipment to a booking and confirm it with one carrier: the shipment is booked."""
    booking = uuid.uuid4()
    call(shipments(platform).attach, uuid.UUID(s["id"]), uuid.UUID(s["sender_id"]), booking)
    handle(call, platform, "on_booking_confirmed", BookingConfirmed(
        booking_id=booking, itinerary_id=uuid.uuid4(), sender_id=s["sender_id"], shipment_id=s["id"],
        status="confirmed", carrier_ids=[uuid.UUID(carrier_id)]))


def pick_up(call, platform, s: dict) -> None:
    handle(call, platform, "on_picked_up", ShipmentPickedUp(shipment_id=s["id"], booking_id=None, status="picked_up",
                                                            at=datetime.now(timezone.utc)))


def pdf_text(r) -> str:
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)


class TestCreate:
    def test_the_sender_declares_an_international_shipment_with_duties_quoted(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        d = create_declaration(client, h, s["id"])
        assert d["shipment_id"] == s["id"] and d["sender_id"] == s["sender_id"] and d["version"] == 1
        assert d["total_minor"] == 5000 and d["currency"] == "GBP" and d["form"] == "CN22"
        assert [i["value_minor"] for i in d["items"]] == [2500, 2500]
        duties = d["duties"]
        assert duties["destination"] == "US" and duties["currency"] == "USD" and duties["value_minor"] == 6590
        # Each line 25.00 GBP = 32.95 USD; books (ch. 49) 0%, the scarf (ch. 61) 16% = 5.272 -> 5.27.
        assert duties["rule"] == "us-de-minimis-suspended" and duties["total_minor"] == 527
        got = client.get(f"/customs/declaration/{d['id']}", headers=h)
        assert got.status_code == 200 and got.json() == d

    def test_over_300_sdr_is_a_cn23(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h, declared_value_minor=40000)
        d = create_declaration(client, h, s["id"], items=[item_body(quantity=32, unit_value_minor=1250)])
        assert d["form"] == "CN23" and d["total_minor"] == 40000

    def test_bad_items_are_refused_naming_the_field_and_nothing_is_stored(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        bad = [("hs_code", [item_body(hs_code="49019912345")]), ("hs_code", [item_body(hs_code="770000")]),
               ("currency", [item_body(currency="XXQ")]), ("net_weight_g", [item_body(net_weight_g=-5)]),
               ("items", [item_body(quantity=1, unit_value_minor=5)] * 1000)]
        for field, items in bad:
            r = client.post("/customs/declaration", json=declaration_body(s["id"], items=items), headers=h)
            problem(r, 422, "request.validation_failed")
            assert any(e["loc"][-1] == field for e in r.json()["data"]["errors"]), r.json()
        r = client.post("/customs/declaration", json=declaration_body(s["id"], items=[
            item_body(), item_body(currency="USD")]), headers=h)
        problem(r, 422, "customs.currency_mismatch")
        assert r.json()["data"]["field"] == "items[1].currency"
        create_declaration(client, h, s["id"])  # nothing was stored: the shipment has no declaration yet

    def test_a_total_other_than_the_declared_value_is_refused_with_both_figures(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        r = client.post("/customs/declaration", json=declaration_body(s["id"], items=[item_body()]), headers=h)
        problem(r, 422, "customs.value_mismatch")
        assert r.json()["data"] == {"items_total_minor": 2500, "declared_value_minor": 5000, "currency": "GBP"}
        create_declaration(client, h, s["id"])

    def test_a_domestic_shipment_needs_no_declaration(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h, **DOMESTIC)
        r = client.post("/customs/declaration", json=declaration_body(s["id"]), headers=h)
        problem(r, 409, "customs.not_international")
        assert r.json()["data"]["destination_country"] == "GB"

    def test_only_the_sender_declares_once(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        _, stranger = signed_up(client)
        problem(client.post("/customs/declaration", json=declaration_body(s["id"]), headers=stranger), 404,
                "customs.shipment_not_found")
        problem(client.post("/customs/declaration", json=declaration_body(str(uuid.uuid4())), headers=h), 404,
                "customs.shipment_not_found")
        carrier, ch = signed_up(client)
        book(call, platform, s, carrier["id"])
        problem(client.post("/customs/declaration", json=declaration_body(s["id"]), headers=ch), 403,
                "customs.not_sender")
        create_declaration(client, h, s["id"])
        problem(client.post("/customs/declaration", json=declaration_body(s["id"]), headers=h), 409,
                "customs.declaration_exists")


class TestGet:
    def test_the_sender_carriers_and_support_see_it_and_others_get_a_404(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        d = create_declaration(client, h, s["id"])
        _, stranger = signed_up(client)
        problem(client.get(f"/customs/declaration/{d['id']}", headers=stranger), 404, "customs.not_found")
        problem(client.get(f"/customs/declaration/{d['id']}", params={"format": "pdf"}, headers=stranger), 404,
                "customs.not_found")
        problem(client.get(f"/customs/declaration/{uuid.uuid4()}", headers=h), 404, "customs.not_found")
        carrier, ch = signed_up(client)
        book(call, platform, s, carrier["id"])
        assert client.get(f"/customs/declaration/{d['id']}", headers=ch).json()["id"] == d["id"]
        _, support = user_with(client, call, platform, "support")
        assert client.get(f"/customs/declaration/{d['id']}", headers=support).status_code == 200

    def test_the_pdf_lists_every_item_line_and_the_form_follows_the_value(self, client):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        d = create_declaration(client, h, s["id"])
        text = pdf_text(client.get(f"/customs/declaration/{d['id']}", params={"format": "pdf"}, headers=h))
        assert "CN 22" in text and "CN 23" not in text
        for needle in ("Paperback novel", "Wool scarf", "490199", "611710", "25.00 GBP", "50.00 GBP", "700",
                       "IE", "[X] gift", "Total net weight (g): 850", "Sender's country: GB",
                       "Destination country: US", "signature", d["created_at"][:10]):
            assert needle in text, needle
        big = create_shipment(client, h, declared_value_minor=400_000)
        items = [item_body(description=f"Collectible card {n}", quantity=1, unit_value_minor=10_000,
                           hs_code=f"9700{n:02d}", net_weight_g=10 + n) for n in range(40)]
        items.append(item_body(description="Tasse à café ☕", unit_value_minor=0, hs_code="691200"))
        d = create_declaration(client, h, big["id"], items=items, content_type="merchandise")
        text = pdf_text(client.get(f"/customs/declaration/{d['id']}?format=pdf", headers=h))
        assert "CN 23" in text and "[X] merchandise" in text and "4000.00 GBP" in text
        assert "Tasse à café ?" in text and "691200" in text  # outside Latin-1: '?'
        assert "Total gross weight (g): 1500" in text
        for n in range(40):
            assert f"Collectible card {n}" in text and f"9700{n:02d}" in text


class TestUpdate:
    def test_the_sender_replaces_the_items_until_pickup(self, client, call, platform):
        _, h = signed_up(client)
        s = create_shipment(client, h)
        d = create_declaration(client, h, s["id"])
        body = declaration_body(items=[item_body(description="Silk tie", quantity=1, unit_value_minor=5000,
                                                 hs_code="621510", origin_country="IT")], incoterm="DDP")
        r = client.put(f"/customs/declaration/{d['id']}", json=body, headers=h)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["version"] == 2 and got["incoterm"] == "DDP" and [i["hs_code"] for i in got["items"]] == ["621510"]
        assert got["duties"]["duty_minor"] == 1055  # 65.91 USD x 16%, one line now
        problem(client.put(f"/customs/declaration/{d['id']}", json=declaration_body(items=[item_body()]), headers=h),
                422, "customs.value_mismatch")
        carrier, ch = signed_up(client)
        book(call, platform, s, carrier["id"])
        problem(client.put(f"/customs/declaration/{d['id']}", json=body, headers=ch), 403, "customs.not_sender")
        _, stranger = signed_up(client)
        problem(client.put(f"/customs/declaration/{d['id']}", json=body, headers=stranger), 404, "customs.not_found")
        assert client.put(f"/customs/declaration/{d['id']}", json=body, headers=h).json()["version"] == 3  # booked
        pick_up(call, platform, s)
        r = client.put(f"/customs/declaration/{d['id']}", json=declaration_body(), headers=h)
        problem(r, 409, "customs.not_editable")
        assert r.json()["data"]["status"] == "in_transit"
        assert client.get(f"/customs/declaration/{d['id']}", headers=h).json()["version"] == 3


class TestDuties:
    def test_a_consignment_quote_names_the_rule_its_dates_and_the_source(self, client):
        _, h = signed_up(client)
        ask = {"destination": "US", "value_minor": 50000, "currency": "USD", "hs_code": "950300"}
        before = client.get("/customs/duties", params={**ask, "date": "2025-08-28"}, headers=h).json()
        assert before["rule"] == "us-section-321" and before["duty_de_minimis_applied"] and before["total_minor"] == 0
        after = client.get("/customs/duties", params={**ask, "date": "2025-08-29"}, headers=h).json()
        assert after["duty_minor"] == 5000 and after["rule_valid_from"] == "2025-08-29" and after["as_of"]
        assert after["charges"][0]["rate"] == "0.10" and "ECB" in after["fx_source"]
        eu = client.get("/customs/duties", params={"destination": "DE", "value_minor": 10000, "currency": "EUR",
                                                   "date": "2026-07-01", "lines": 3}, headers=h).json()
        assert eu["flat_duty_applied"] and (eu["duty_minor"], eu["tax_minor"]) == (900, 2071)

    def test_a_declarations_quote_is_for_those_who_see_it(self, client):
        _, h = signed_up(client)
        d = create_declaration(client, h, create_shipment(client, h)["id"])
        r = client.get("/customs/duties", params={"declaration_id": d["id"], "date": "2025-08-01"}, headers=h)
        assert r.status_code == 200 and r.json()["rule"] == "us-section-321" and r.json()["total_minor"] == 0
        _, stranger = signed_up(client)
        problem(client.get("/customs/duties", params={"declaration_id": d["id"]}, headers=stranger), 404,
                "customs.not_found")

    def test_an_incomplete_or_uncovered_query_is_refused(self, client):
        _, h = signed_up(client)
        r = client.get("/customs/duties", params={"destination": "US"}, headers=h)
        problem(r, 422, "customs.duties_query_incomplete")
        assert r.json()["data"]["missing"] == ["value_minor", "currency"]
        problem(client.get("/customs/duties", params={"destination": "JP", "value_minor": 1, "currency": "JPY"},
                           headers=h), 422, "customs.destination_not_covered")
        problem(client.get("/customs/duties", params={"destination": "US", "value_minor": 1, "currency": "XXQ"},
                           headers=h), 422, "request.validation_failed")
        problem(client.get("/customs/duties", params={"destination": "US", "value_minor": 1, "currency": "USD",
                                                      "date": "2010-01-01"}, headers=h), 422,
                "customs.no_rule_for_date")
