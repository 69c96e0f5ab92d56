"""Password hashing (argon2), access tokens (EdDSA JWT with `kid`), opaque secrets."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from p2p.errors import InvalidToken

ISSUER = "p2p-auth"
AUDIENCE = "p2p"
ALGORITHM = "EdDSA"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = None


def burn_password_check(password: str) -> None:
    """Spend the time of a real check, so unknown emails are not told apart by timing."""
    global _DUMMY_HASH
    _DUMMY_HASH = _DUMMY_HASH or _hasher.hash("not-a-password")
    verify_password(_DUMMY_HASH, password)


def opaque_token(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_signing_key() -> tuple[str, str, str]:
    """A fresh Ed25519 key: (kid, private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return secrets.token_hex(8), private_pem, public_pem


def issue_access_token(*, kid: str, private_pem: str, user_id: uuid.UUID, session_id: uuid.UUID,
                       ttl_s: int, mfa: bool = False, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id), "sid": str(session_id),
        "iat": int(now.timestamp()), "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
        "jti": uuid.uuid4().hex, "typ": "access", "amr": ["pwd", "otp"] if mfa else ["pwd"],
    }
    return jwt.encode(claims, private_pem, algorithm=ALGORITHM, headers={"kid": kid})


def token_kid(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("The token is malformed.") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("The token's algorithm is not accepted.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("The token names no key.")
    return kid


def verify_access_token(token: str, public_pem: str) -> dict:
    """Signature, algorithm (EdDSA only: never `none`), issuer, audience, expiry, type."""
    try:
        claims = jwt.decode(token, public_pem, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "sid", "iss", "aud"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The token has expired.", reason="expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken("The token is invalid.", reason=type(exc).__name__) from None
    if claims.get("typ") != "access":
        raise InvalidToken("Not an access token.")
    return claims
