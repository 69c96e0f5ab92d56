"""Accounting Service errors: why the ledger refused a transfer. A refused transfer id is
burned: the same id again answers `accounting.id_already_failed` with the first reason."""
from __future__ import annotations

from p2p.errors import Conflict, NotFound, Unprocessable


class Refused(Conflict):
    """Base of the refusals that burn a transfer id."""
    code = "accounting.refused"


class ExceedsCredits(Refused):
    """The account's debits would exceed its credits (`debits_must_not_exceed_credits`)."""
    code = "accounting.exceeds_credits"


class ExceedsDebits(Refused):
    """The account's credits would exceed its debits (`credits_must_not_exceed_debits`)."""
    code = "accounting.exceeds_debits"


class PendingNotFound(Refused):
    """A commit or void names no pending transfer."""
    code = "accounting.pending_not_found"


class PendingAlreadyResolved(Refused):
    """The pending transfer was already committed or voided (a pending resolves once)."""
    code = "accounting.pending_already_resolved"


class ReversalMismatch(Refused):
    """A reversal must mirror a posted transfer, once."""
    code = "accounting.reversal_mismatch"


class LinkedFailed(Refused):
    """Another transfer of the same atomic batch was refused, so this one was too."""
    code = "accounting.linked_failed"


class IdAlreadyFailed(Conflict):
    """This transfer id was refused before; the same id never succeeds later."""
    code = "accounting.id_already_failed"


class IdReused(Conflict):
    """This transfer id exists with a different body."""
    code = "accounting.id_reused"


class Unbalanced(Unprocessable):
    """A transfer's debits and credits differ, or it has fewer than two entries."""
    code = "accounting.unbalanced"


class BadAccount(Unprocessable):
    """An account key names an unknown kind or the wrong owner."""
    code = "accounting.bad_account"


class AccountNotVisible(NotFound):
    """No such account, or one the caller may not read."""
    code = "accounting.account_not_found"
