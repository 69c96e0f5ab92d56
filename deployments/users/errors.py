"""The User Service's errors."""
from __future__ import annotations

from p2p.errors import Conflict, Unprocessable


class EmailTaken(Conflict):
    """An account with this email exists already."""
    code = "user.email_taken"


class WeakPassword(Unprocessable):
    """The password is too easy to guess."""
    code = "user.weak_password"
