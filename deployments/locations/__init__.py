"""Location Service (spec 3.6): schemas, errors, and the service with its spec."""
from deployments.locations.errors import LocationNotResolved, UnknownAirport, UnknownCity, UnknownLocation
from deployments.locations.schemas import AirportOut, GeocodeIn, GeocodeOut, LocationOut
from deployments.locations.service import SPEC, Locations

__all__ = ["SPEC", "AirportOut", "GeocodeIn", "GeocodeOut", "LocationNotResolved", "LocationOut", "Locations",
           "UnknownAirport", "UnknownCity", "UnknownLocation"]
