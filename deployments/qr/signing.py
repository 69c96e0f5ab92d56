"""The signed payload of a QR code, pure: `P2Q1.<b64url(canonical JSON claims)>.<b64url(Ed25519 sig)>`.
The signature covers `P2Q1.<claims>`; claims name their key (`kid`), so keys can rotate and
old codes still verify while their key is kept. Any change to any byte is `qr.forged`."""
from __future__ import annotations

import base64
import binascii
import json
import time
from functools import lru_cache
from typing import Any, Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deployments.qr.errors import QrExpired, QrForged

PREFIX = "P2Q1"
CLAIMS = ("exp", "kid", "knd", "n", "pkg", "qid", "rol", "shp", "stp", "sub", "v")


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64e(raw) != text:  # unused bits set: not the canonical encoding
        raise ValueError("not canonical base64url")
    return raw


def canonical(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@lru_cache(maxsize=64)
def _private(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


@lru_cache(maxsize=64)
def _public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, Ed25519PublicKey)
    return key


def sign(claims: dict[str, Any], private_pem: str) -> str:
    """The payload for `claims` (which name their `kid`), signed with the private key."""
    head = f"{PREFIX}.{b64e(canonical(claims))}"
    return f"{head}.{b64e(_private(private_pem).sign(head.encode()))}"


def verify(payload: str, public_key: Callable[[str], str | None], now: float | None = None) -> dict[str, Any]:
    """The claims of a genuine payload; `public_key(kid)` is the key's public PEM (None:
    unknown). With `now` (unix seconds) a payload past its `exp` is `qr.expired`."""
    try:
        prefix, body, sig = payload.split(".")
        if prefix != PREFIX:
            raise ValueError("prefix")
        raw = b64d(body)
        claims = json.loads(raw)
        if not isinstance(claims, dict) or sorted(claims) != list(CLAIMS) or canonical(claims) != raw:
            raise ValueError("claims")
        pem = public_key(str(claims["kid"]))
        if pem is None:
            raise ValueError("unknown kid")
        _public(pem).verify(b64d(sig), f"{prefix}.{body}".encode())
    except (ValueError, TypeError, UnicodeError, binascii.Error, InvalidSignature):
        raise QrForged("The code is not genuine.") from None
    if now is not None and now > claims["exp"]:
        raise QrExpired("The code has expired.")
    return claims


def now_s() -> int:
    return int(time.time())


def claimed_kid(payload: str) -> str | None:
    """The kid a payload claims (unverified), to pick its key."""
    try:
        kid = json.loads(b64d(payload.split(".")[1])).get("kid")
    except Exception:
        return None
    return kid if isinstance(kid, str) else None
