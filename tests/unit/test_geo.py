"""Point-in-polygon and GeoJSON validation (pure, no I/O)."""
from __future__ import annotations

import pytest

from p2p.geo import bbox, contains, in_ring, validate_geometry

SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
HOLE = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
# A "U": concave, so a ray from the notch crosses the outline more than once.
U = [[0, 0], [9, 0], [9, 9], [6, 9], [6, 3], [3, 3], [3, 9], [0, 9], [0, 0]]


@pytest.mark.parametrize("point,inside", [((5, 5), True), ((0.001, 9.999), True), ((-1, 5), False),
                                          ((11, 5), False), ((5, 10.5), False)])
def test_a_square(point, inside):
    assert in_ring(*point, SQUARE) is inside


@pytest.mark.parametrize("point,inside", [((1.5, 8), True), ((7.5, 8), True), ((4.5, 8), False), ((4.5, 1), True)])
def test_a_concave_ring(point, inside):
    assert in_ring(*point, U) is inside


def test_holes_are_outside_and_any_polygon_of_a_multipolygon_counts():
    poly = {"type": "Polygon", "coordinates": [SQUARE, HOLE]}
    assert contains(poly, 2, 2) and not contains(poly, 5, 5)
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [[[20, 20], [30, 20], [30, 30], [20, 20]]]]}
    assert contains(multi, 28, 22) and not contains(multi, 22, 28) and not contains(multi, 5, 5)


def test_bbox_of_the_outer_rings():
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE], [[[20, -5], [30, 20], [25, 30], [20, -5]]]]}
    assert bbox(multi) == (0, -5, 30, 30)


def test_a_real_city_area():
    # Roughly inner London; Trafalgar Square in, Heathrow out.
    ring = [[-0.25, 51.45], [0.05, 51.45], [0.05, 51.58], [-0.25, 51.58], [-0.25, 51.45]]
    area = validate_geometry({"type": "Polygon", "coordinates": [ring]})
    assert contains(area, -0.1278, 51.5074) and not contains(area, -0.46194, 51.4706)


@pytest.mark.parametrize("geometry,message", [
    ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "Polygon or MultiPolygon"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 0], [0, 0]]]}, "3 distinct"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 1], [0, 0]]]}, "outside"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, True], [1, 1], [0, 0]]]}, "numbers"),
    ({"type": "Polygon", "coordinates": []}, "at least one"),
    ({"type": "MultiPolygon", "coordinates": [[]]}, "at least one ring"),
    ("not even a dict", "Polygon or MultiPolygon"),
])
def test_invalid_geometries_say_why(geometry, message):
    with pytest.raises(ValueError, match=message):
        validate_geometry(geometry)


def test_too_many_positions_are_refused():
    ring = [[i / 10_000, 0] for i in range(10_001)] + [[0, 1], [0, 0]]
    with pytest.raises(ValueError, match="at most"):
        validate_geometry({"type": "Polygon", "coordinates": [ring]})
