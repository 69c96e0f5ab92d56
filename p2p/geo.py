"""Small, pure geometry on GeoJSON (RFC 7946) coordinates, [lon, lat] in degrees: validation
of Polygon and MultiPolygon, bounding boxes and point-in-polygon by ray casting. Planar
on degrees, which is exact enough for city-sized service areas away from the antimeridian."""
from __future__ import annotations

from typing import Any

MAX_POSITIONS = 10_000  # per geometry: bounds the work of one point test

Ring = list[list[float]]


def validate_geometry(geometry: Any) -> dict[str, Any]:
    """The geometry if it is a valid Polygon or MultiPolygon, else ValueError saying why."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("geometry must be a GeoJSON Polygon or MultiPolygon")
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise ValueError("a MultiPolygon needs at least one polygon")
    count = 0
    for p, polygon in enumerate(polygons):
        if not isinstance(polygon, list) or not polygon:
            raise ValueError(f"polygon {p} needs at least one ring")
        for r, ring in enumerate(polygon):
            count += _check_ring(ring, f"polygon {p} ring {r}")
    if count > MAX_POSITIONS:
        raise ValueError(f"at most {MAX_POSITIONS} positions per area")
    return {"type": geometry["type"], "coordinates": coords}


def _check_ring(ring: Any, where: str) -> int:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValueError(f"{where}: a linear ring needs at least 4 positions")
    for pos in ring:
        if (not isinstance(pos, list) or len(pos) not in (2, 3)
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in pos)):
            raise ValueError(f"{where}: a position is [lon, lat] (or [lon, lat, alt]) numbers")
        if not (-180 <= pos[0] <= 180 and -90 <= pos[1] <= 90):
            raise ValueError(f"{where}: {pos[:2]} is outside lon -180..180, lat -90..90")
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError(f"{where}: a ring must be closed (first position = last)")
    if len({(p[0], p[1]) for p in ring}) < 3:
        raise ValueError(f"{where}: a ring needs at least 3 distinct positions")
    return len(ring)


def polygons(geometry: dict[str, Any]) -> list[list[Ring]]:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of the outer rings."""
    points = [pos for polygon in polygons(geometry) for pos in polygon[0]]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting: count the edges a ray from the point eastwards crosses."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(geometry: dict[str, Any], lon: float, lat: float) -> bool:
    """Whether the point lies in the area: inside an outer ring and outside that polygon's holes."""
    return any(in_ring(lon, lat, polygon[0]) and not any(in_ring(lon, lat, hole) for hole in polygon[1:])
               for polygon in polygons(geometry))
