"""QR Code Service errors."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable


class QrNotFound(NotFound):
    """No such code, or one the caller may not see."""
    code = "qr.not_found"


class QrForged(Unprocessable):
    """The payload's signature does not verify, or names an unknown key or code."""
    code = "qr.forged"


class QrRevoked(ProblemError):
    """The code was expired by hand (or replaced by a newer one)."""
    code, status, title = "qr.revoked", 410, "Gone"


class QrExpired(ProblemError):
    """The code is past its expiry."""
    code, status, title = "qr.expired", 410, "Gone"


class QrAlreadyUsed(Conflict):
    """The code was consumed by a scan already."""
    code = "qr.already_used"


class QrWrongStep(Conflict):
    """The code belongs to another handoff step."""
    code = "qr.wrong_step"


class QrWrongScanner(Forbidden):
    """The caller is not the scanner the code expects."""
    code = "qr.wrong_scanner"
