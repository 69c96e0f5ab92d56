"""Route planning (not HTTP routing): itinerary search over traveler flights and courier
segments, and vehicle routing for couriers' multi-stop days. Pure code: no database, no
HTTP; services convert their rows into these types and Ray tasks run the heavy parts."""
from routing.graph import MAX_LEGS, Network, RouteEvent, RouteGraph
from routing.itinerary import (
                               Diagnostics,
                               Exclusion,
                               FxTable,
                               Itinerary,
                               ItineraryLeg,
                               ItineraryQuery,
                               Reason,
                               SearchResult,
                               search,
)
from routing.network import (
                               BufferPolicy,
                               CourierSegment,
                               FlightLeg,
                               LegConstraints,
                               LegPrice,
                               Money,
                               OperatingWindow,
                               Place,
)
from routing.tasks import search_many
from routing.vrp import (
                               PORTFOLIO,
                               PortfolioResult,
                               Request,
                               RouteStop,
                               SolverConfig,
                               Stop,
                               TravelMatrix,
                               Unserved,
                               UnservedReason,
                               Vehicle,
                               VehicleRoute,
                               VrpProblem,
                               VrpSolution,
                               portfolio_solve,
                               solve,
                               violations,
)

__all__ = [
    "MAX_LEGS", "BufferPolicy", "CourierSegment", "Diagnostics", "Exclusion", "FlightLeg", "FxTable",
    "Itinerary", "ItineraryLeg", "ItineraryQuery", "LegConstraints", "LegPrice", "Money", "Network",
    "OperatingWindow", "Place", "Reason", "RouteEvent", "RouteGraph", "SearchResult", "search",
    "search_many", "PORTFOLIO", "PortfolioResult", "Request", "RouteStop", "SolverConfig", "Stop", "TravelMatrix",
    "Unserved", "UnservedReason", "Vehicle", "VehicleRoute", "VrpProblem", "VrpSolution", "portfolio_solve", "solve",
    "violations",
]
