"""QR payload signing: round trip, tampering, unknown keys, expiry, rotation."""
from __future__ import annotations

import string

import pytest

from deployments.qr import signing
from deployments.qr.errors import QrExpired, QrForged
from p2p.security import new_signing_key

ALPHABET = string.ascii_letters + string.digits + "-_."


def claims(kid: str, exp: int = 2_000_000_000) -> dict:
    return {"v": 1, "kid": kid, "qid": "q", "stp": "s", "pkg": "p", "shp": "h", "knd": "handoff",
            "rol": "traveler", "sub": None, "exp": exp, "n": "abcd"}


@pytest.fixture(scope="module")
def keys():
    a, b = new_signing_key(), new_signing_key()
    return {a[0]: a, b[0]: b}, a, b


def lookup(keys):
    return lambda kid: keys[kid][2] if kid in keys else None


class TestSigning:
    def test_a_signed_payload_verifies_to_its_claims(self, keys):
        all_, a, _ = keys
        p = signing.sign(claims(a[0]), a[1])
        assert p.startswith("P2Q1.") and p.isascii()
        assert signing.verify(p, lookup(all_), now=1_000) == claims(a[0])

    def test_every_changed_byte_is_forged(self, keys):
        all_, a, _ = keys
        p = signing.sign(claims(a[0]), a[1])
        for i, ch in enumerate(p):
            for other in {ALPHABET[(ALPHABET.index(ch) + 1) % len(ALPHABET)], chr(ord(ch) ^ 1)} - {ch}:
                with pytest.raises(QrForged):
                    signing.verify(p[:i] + other + p[i + 1:], lookup(all_))

    def test_an_unknown_kid_is_forged(self, keys):
        all_, a, b = keys
        with pytest.raises(QrForged):
            signing.verify(signing.sign(claims("nope"), a[1]), lookup(all_))
        with pytest.raises(QrForged):  # signed with a, claims b's kid
            signing.verify(signing.sign(claims(b[0]), a[1]), lookup(all_))

    def test_a_payload_past_its_expiry_is_expired(self, keys):
        all_, a, _ = keys
        with pytest.raises(QrExpired):
            signing.verify(signing.sign(claims(a[0], exp=100), a[1]), lookup(all_), now=101)

    def test_after_rotation_old_codes_still_verify(self, keys):
        all_, a, b = keys
        old, new = signing.sign(claims(a[0]), a[1]), signing.sign(claims(b[0]), b[1])
        assert signing.verify(old, lookup(all_))["kid"] == a[0]
        assert signing.verify(new, lookup(all_))["kid"] == b[0]
        assert signing.claimed_kid(old) == a[0] and signing.claimed_kid("junk") is None
