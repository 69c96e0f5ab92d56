"""Payment Service."""
from deployments.payments.service import SPEC, Payments

__all__ = ["SPEC", "Payments"]
