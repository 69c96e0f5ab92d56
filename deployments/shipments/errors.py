"""Shipment Service errors."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable


class ShipmentNotFound(NotFound):
    """No such shipment, or one the caller may not see."""
    code = "shipment.not_found"


class PackageNotFound(NotFound):
    """No such package, or one of a shipment the caller may not see."""
    code = "shipment.package_not_found"


class IllegalTransition(Conflict):
    """The shipment's current status does not allow the requested move."""
    code = "shipment.illegal_transition"


class NotEditable(Conflict):
    """Packages are added only while the shipment is a draft."""
    code = "shipment.not_editable"


class NoPackages(Conflict):
    """A shipment without packages cannot be booked."""
    code = "shipment.no_packages"


class NotTheSender(Forbidden):
    """Only the shipment's sender may do this."""
    code = "shipment.not_sender"


class ProhibitedItem(Unprocessable):
    """A description names an item the platform does not carry."""
    code = "shipment.prohibited_item"


class UnknownAddress(Unprocessable):
    """An address names a location id the Location Service does not know."""
    code = "shipment.unknown_location"


class PhotoTooLarge(ProblemError):
    """A package photo is limited to 5 MB."""
    code, status, title = "shipment.photo_too_large", 413, "Content too large"


class PhotoUnsupported(ProblemError):
    """A package photo must be a JPEG or PNG whose content matches its type."""
    code, status, title = "shipment.photo_unsupported", 415, "Unsupported media type"
