"""The Authentication Service's errors."""
from __future__ import annotations

from p2p.errors import Conflict, RateLimited, Unauthorized


class InvalidCredentials(Unauthorized):
    """Email and password do not match an active account."""
    code = "auth.invalid_credentials"


class RefreshReused(Unauthorized):
    """A refresh token was presented twice: the session is revoked."""
    code = "auth.refresh_reused"


class InvalidRefresh(Unauthorized):
    """The refresh token is unknown, expired or its session revoked."""
    code = "auth.invalid_refresh"


class InvalidMfaCode(Unauthorized):
    """The TOTP code is wrong, used already, or the challenge expired."""
    code = "auth.invalid_mfa_code"


class MfaAlreadyEnabled(Conflict):
    """The account has a verified TOTP factor already."""
    code = "auth.mfa_already_enabled"


class TooManyLogins(RateLimited):
    """Too many login attempts for this account or from this address."""
    code = "auth.too_many_attempts"
