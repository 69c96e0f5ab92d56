"""The Location Service's refusals."""
from __future__ import annotations

from p2p.errors import NotFound, Unprocessable


class UnknownLocation(NotFound):
    """No location has this id."""
    code = "location.unknown"


class UnknownAirport(NotFound):
    """No airport has this IATA code."""
    code = "location.unknown_airport"


class UnknownCity(NotFound):
    """No city has this id or name."""
    code = "location.unknown_city"


class LocationNotResolved(Unprocessable):
    """The address names a country or city the gazetteer does not know."""
    code = "location.not_resolved"
