"""The Vehicle Verification Service's errors (codes `vehicle.*`)."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable


class VehicleNotFound(NotFound):
    """No vehicle has this id, or the caller may not see it."""
    code = "vehicle.not_found"


class NotVehicleOwner(Forbidden):
    """Only the owner changes a vehicle or adds its documents."""
    code = "vehicle.not_owner"


class PlateTaken(Conflict):
    """The owner registered a vehicle with this plate already."""
    code = "vehicle.plate_taken"


class CapacityExceedsType(Unprocessable):
    """The capacity is beyond what a vehicle of this type can carry."""
    code = "vehicle.capacity_exceeds_type"


class DocumentTooLarge(ProblemError):
    """The document is over 10 MB."""
    code, status, title = "vehicle.document_too_large", 413, "Content too large"


class DocumentTypeUnsupported(ProblemError):
    """The document is not a PDF, JPEG or PNG (by declared type and by content)."""
    code, status, title = "vehicle.document_type_unsupported", 415, "Unsupported media type"


class NotPending(Conflict):
    """Only a vehicle waiting for review can be verified or rejected."""
    code = "vehicle.not_pending"


class SelfReview(Forbidden):
    """Reviewers do not review their own vehicles."""
    code = "vehicle.self_review"
