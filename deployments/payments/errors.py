"""Payment Service errors (and the sandbox processor's, `sandbox.*`)."""
from __future__ import annotations

from p2p.errors import BadRequest, Conflict, NotFound, Unavailable, Unprocessable


class PaymentNotFound(NotFound):
    """No such payment, or one the caller may not see."""
    code = "payment.not_found"


class MethodNotFound(NotFound):
    """No such payment method among the caller's."""
    code = "payment.method_not_found"


class BookingUnknown(NotFound):
    """No such booking, or not one the caller sent."""
    code = "payment.booking_not_found"


class BookingNotPayable(Conflict):
    """Only a pending or confirmed booking is paid for."""
    code = "payment.booking_not_payable"


class PaymentExists(Conflict):
    """The booking has a live or succeeded payment; a new one needs the first to have failed or been canceled."""
    code = "payment.exists"


class NothingToPay(Conflict):
    """The booking's price is zero."""
    code = "payment.nothing_to_pay"


class TokenInvalid(Unprocessable):
    """The card token is unknown to the processor."""
    code = "payment.token_invalid"


class TokenUsed(Conflict):
    """A card token is stored as a payment method once."""
    code = "payment.token_used"


class NotRefundable(Conflict):
    """Only a succeeded payment is refunded."""
    code = "payment.not_refundable"


class RefundExceedsCaptured(Conflict):
    """Refunds never exceed what was captured, less what was refunded or charged back."""
    code = "payment.refund_exceeds_captured"


class FundsHeld(Conflict):
    """The booking's escrow holds the money for its beneficiaries; cancel the booking or resolve the escrow."""
    code = "payment.funds_held"


class PaymentDisputed(Conflict):
    """The payment has an open dispute; it is not refunded until the dispute closes."""
    code = "payment.disputed"


class RefundKeyReused(Conflict):
    """The refund key was used for another payment or amount."""
    code = "payment.refund_key_reused"


class WebhookInvalid(BadRequest):
    """An incoming webhook whose signature, timestamp or body is not valid; nothing was changed."""
    code = "payment.webhook_invalid"


class ProcessorUnavailable(Unavailable):
    """The payment processor did not answer; retry."""
    code = "payment.processor_unavailable"


class ProcessorRefused(Conflict):
    """The payment processor refused the request."""
    code = "payment.processor_refused"


# -- the sandbox processor ------------------------------------------------------------------
class CardInvalid(Unprocessable):
    """The card details are not valid (`reason`: incorrect_number, invalid_expiry, invalid_cvc, not_a_test_card)."""
    code = "sandbox.card_invalid"


class IntentNotFound(NotFound):
    """No such payment intent at the sandbox processor."""
    code = "sandbox.intent_not_found"


class NoActionPending(Conflict):
    """The intent is not waiting for 3-D Secure."""
    code = "sandbox.no_action_pending"


class SandboxRefused(Conflict):
    """The sandbox processor refused the request (nothing to refund, intent not captured)."""
    code = "sandbox.refused"
