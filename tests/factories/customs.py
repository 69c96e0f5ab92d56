"""Customs: declaration bodies and an HTTP helper creating one, with keyword defaults."""
from __future__ import annotations


def item_body(**kw) -> dict:
    return {"description": "Paperback novel", "quantity": 2, "unit_value_minor": 1250, "currency": "GBP",
            "net_weight_g": 700, "hs_code": "490199", "origin_country": "GB", **kw}


def declaration_body(shipment_id: str | None = None, *, items: list[dict] | None = None, **kw) -> dict:
    """Two lines totalling GBP 50.00, the default shipment's declared value."""
    body = {"content_type": "gift", "incoterm": "DAP",
            "items": items if items is not None else [
                item_body(), item_body(description="Wool scarf", quantity=1, unit_value_minor=2500,
                                       net_weight_g=150, hs_code="611710", origin_country="IE")], **kw}
    return {"shipment_id": shipment_id, **body} if shipment_id is not None else body


def create_declaration(client, headers, shipment_id: str, **kw) -> dict:
    r = client.post("/customs/declaration", json=declaration_body(shipment_id, **kw), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()
