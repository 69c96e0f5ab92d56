"""The custody shards' refusals. A refused scan is still recorded (as invalid, expired or
replayed), and nothing of the custody changes."""
from __future__ import annotations

from p2p.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable


class CustodyNotFound(NotFound):
    """The shipment has no chain of custody (no confirmed booking yet), or is unknown."""
    code = "tracking.not_found"


class StepNotFound(NotFound):
    """No such handoff step on this shipment."""
    code = "handoff.not_found"


class ScanOutOfOrder(Conflict):
    """The step is not the shipment's next one: an earlier handoff has not completed."""
    code = "handoff.out_of_order"


class NotAParty(Forbidden):
    """The scanner is not the party of this step who scans (the receiver; on the last step the giver)."""
    code = "handoff.not_a_party"


class CodeForged(Unprocessable):
    """The QR payload's signature does not verify, or it names no code we issued."""
    code = "handoff.code_forged"


class CodeExpired(ProblemError):
    """The QR code is past its expiry, or was expired by hand."""
    code, status, title = "handoff.code_expired", 410, "Gone"


class CodeReplayed(Conflict):
    """This code (or this kind of scan) was already accepted for the step."""
    code = "handoff.code_replayed"


class WrongCode(Conflict):
    """The code belongs to another step, or is not the kind of code this scan expects."""
    code = "handoff.wrong_code"


class TooFar(Unprocessable):
    """The scan's position is farther from the planned handoff place than the allowed radius."""
    code = "handoff.too_far"


class StepClosed(Conflict):
    """The step is already transferred or cancelled."""
    code = "handoff.step_closed"


class ScanMismatch(Conflict):
    """A scan id was reused for a different scan."""
    code = "handoff.scan_mismatch"


class CustodyClosed(Conflict):
    """The shipment's custody ended (delivered, cancelled, lost, returned): nothing more is recorded."""
    code = "tracking.closed"


class ProofNotReady(Conflict):
    """Delivery proof needs the last step's package scan first."""
    code = "tracking.proof_not_ready"


class RecipientCodeWrong(Unprocessable):
    """The recipient's one-time code does not match."""
    code = "tracking.recipient_code_wrong"


class RecipientCodeLocked(ProblemError):
    """Too many wrong recipient codes: delivery needs support now."""
    code, status, title = "tracking.recipient_code_locked", 423, "Locked"


class ReasonRequired(Unprocessable):
    """An exception status needs a reason code with one of the prefixes of domain.md."""
    code = "tracking.reason_required"
