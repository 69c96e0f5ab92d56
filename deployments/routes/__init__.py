"""Route Planning Service (spec 3.7), a package: schemas, errors, the graph fed from events
and each replica's in-memory copy, answers, the courier-day optimiser, and the service
with its spec."""
from deployments.routes.service import SPEC, Routes

__all__ = ["SPEC", "Routes"]
