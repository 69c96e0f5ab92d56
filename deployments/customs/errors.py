"""Customs Service errors."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound, Unprocessable


class DeclarationNotFound(NotFound):
    """No such declaration, or one the caller may not see."""
    code = "customs.not_found"


class ShipmentUnknown(NotFound):
    """The shipment is unknown, or not one the caller may see."""
    code = "customs.shipment_not_found"


class NotTheSender(Forbidden):
    """Only the shipment's sender declares its contents or changes the declaration."""
    code = "customs.not_sender"


class DeclarationExists(Conflict):
    """A shipment has one declaration; change it with PUT."""
    code = "customs.declaration_exists"


class NotInternational(Conflict):
    """A domestic shipment needs no customs declaration."""
    code = "customs.not_international"


class NotEditable(Conflict):
    """A declaration changes only before pickup (shipment draft, awaiting_acceptance or booked)."""
    code = "customs.not_editable"


class ValueMismatch(Unprocessable):
    """The items' total is not the shipment's declared value."""
    code = "customs.value_mismatch"


class CurrencyMismatch(Unprocessable):
    """An item is valued in a currency other than the shipment's."""
    code = "customs.currency_mismatch"


class DestinationNotCovered(Unprocessable):
    """The rates table has no rules for the destination country."""
    code = "customs.destination_not_covered"


class NoRuleForDate(Unprocessable):
    """The rates table has no rule of the destination valid on the date asked."""
    code = "customs.no_rule_for_date"


class NoFxRate(Unprocessable):
    """The FX table has no rate for a currency."""
    code = "customs.no_fx_rate"


class DutiesQueryIncomplete(Unprocessable):
    """A duties quote needs declaration_id, or destination, value_minor and currency."""
    code = "customs.duties_query_incomplete"
