"""Escrow Service errors."""
from __future__ import annotations

from p2p.errors import Conflict, NotFound


class EscrowNotFound(NotFound):
    """No such escrow, or one the caller is no party to."""
    code = "escrow.not_found"


class PaymentNotSucceeded(Conflict):
    """An escrow opens only for a succeeded payment."""
    code = "escrow.payment_not_succeeded"


class EscrowDisputed(Conflict):
    """The escrow is frozen by a dispute or a hold; only finance releases or refunds it."""
    code = "escrow.disputed"


class EscrowClosed(Conflict):
    """The escrow was already released or refunded; its money has moved."""
    code = "escrow.closed"

