"""Vehicles (and their documents), courier providers and segments, locations' polygons,
and small real files."""
from __future__ import annotations

import uuid

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def square(lon: float, lat: float, half: float = 0.1) -> dict:
    """A closed GeoJSON Polygon centred on (lon, lat)."""
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def vehicle(client, headers, **kw) -> dict:
    body = {"type": "car", "plate": f"T{uuid.uuid4().hex[:7]}", "make": "Toyota", "model": "Yaris",
            "capacity_weight_g": 200_000, "capacity_volume_cm3": 400_000, **kw}
    r = client.post("/vehicles", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def upload(client, headers, vehicle_id, kind: str, data: bytes = PDF, content_type: str = "application/pdf",
           filename: str = "doc.pdf"):
    return client.post(f"/vehicles/{vehicle_id}/documents", data={"kind": kind},
                       files={"file": (filename, data, content_type)}, headers=headers)


def provider(client, headers, **kw) -> dict:
    body = {"name": "Swift Couriers", "city_id": "city:GB:london", "contact_email": "ops@swift.example",
            "max_parcels_per_day": 3, "max_weight_g_per_day": 20_000, **kw}
    r = client.post("/couriers", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def segment(client, headers, provider_id, **kw):
    body = {"from_location": "city:GB:london", "to_location": "apt:LHR", "duration_min": 75,
            "price_minor": 1850, "currency": "GBP", "max_weight_g": 10_000, **kw}
    return client.post(f"/couriers/{provider_id}/segments", json=body, headers=headers)
