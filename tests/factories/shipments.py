"""Shipments: request bodies and an HTTP helper creating one, with keyword defaults."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def package_body(**kw) -> dict:
    return {"weight_g": 1500, "length_mm": 300, "width_mm": 200, "height_mm": 100, "category": "parcel",
            "description": "Books", "items": [{"description": "Paperback novel", "quantity": 2, "value_minor": 1200}],
            **kw}


def shipment_body(*, packages: int = 1, **kw) -> dict:
    t = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    return {"pickup": {"lines": ["221B Baker Street"], "city": "London", "country": "GB", "postcode": "NW1 6XE"},
            "recipient": {"name": "Ada Lovelace", "phone": "+12125550123", "email": "ada@example.com",
                          "address": {"location_id": "city:US:new-york"}},
            "pickup_window": {"start": t.isoformat(), "end": (t + timedelta(hours=4)).isoformat()},
            "delivery_window": {"start": (t + timedelta(days=1)).isoformat(),
                                "end": (t + timedelta(days=3)).isoformat()},
            "declared_value_minor": 5000, "currency": "GBP", "description": "A gift",
            "packages": [package_body() for _ in range(packages)], **kw}


def create_shipment(client, headers, **kw) -> dict:
    r = client.post("/shipments", json=shipment_body(**kw), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()
