"""Local Courier Service (spec 5.10), grown into a package: schemas, events, errors, and the
service with its spec. The route planner follows `SegmentPublished` / `SegmentUpdated`."""
from deployments.couriers.events import SegmentPublished, SegmentUpdated
from deployments.couriers.service import SPEC, Couriers

__all__ = ["SPEC", "Couriers", "SegmentPublished", "SegmentUpdated"]
