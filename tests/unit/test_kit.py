"""Pure pieces of the kit: permission matching, cursors, tokens, passwords, errors."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from deployments.kit.spec import has_permission
from p2p.errors import BadRequest, InvalidToken, RateLimited
from p2p.security import (
    hash_password,
    issue_access_token,
    new_signing_key,
    token_kid,
    verify_access_token,
    verify_password,
)
from storage.repository import BadCursor, decode_cursor, encode_cursor


class TestPermissions:
    @pytest.mark.parametrize("granted,needed,ok", [
        (["users:read"], "users:read", True),
        (["users:*"], "users:read:any", True),
        (["*"], "anything:at:all", True),
        (["users:read"], "users:read:any", False),
        (["users:read:any"], "users:read", False),
        (["user:*"], "users:read", False),
        ([], "users:read", False),
    ])
    def test_matching(self, granted, needed, ok):
        assert has_permission(granted, needed) is ok


def test_a_cursor_round_trips_and_garbage_is_a_400():
    values = [datetime(2026, 1, 1, tzinfo=timezone.utc), uuid.uuid4()]
    assert decode_cursor(encode_cursor([values[0].isoformat(), str(values[1])])) == values
    for garbage in ("%%%", encode_cursor({"not": "a list"}), encode_cursor(["2026-01-01", "not-a-uuid"])):  # type: ignore[arg-type]
        with pytest.raises(BadCursor) as err:
            decode_cursor(garbage)
        assert isinstance(err.value, BadRequest) and err.value.code == "pagination.bad_cursor"


def test_passwords_hash_with_argon2_and_verify():
    h = hash_password("correct horse")
    assert h.startswith("$argon2") and verify_password(h, "correct horse")
    assert not verify_password(h, "wrong horse") and not verify_password("not-a-hash", "x")


class TestAccessTokens:
    def test_a_token_verifies_with_its_public_key_only(self):
        kid, private_pem, public_pem = new_signing_key()
        _, _, other_public = new_signing_key()
        user, session = uuid.uuid4(), uuid.uuid4()
        token = issue_access_token(kid=kid, private_pem=private_pem, user_id=user, session_id=session, ttl_s=60)
        assert token_kid(token) == kid
        claims = verify_access_token(token, public_pem)
        assert claims["sub"] == str(user) and claims["sid"] == str(session)
        with pytest.raises(InvalidToken):
            verify_access_token(token, other_public)

    def test_a_token_without_a_kid_or_with_another_alg_is_refused(self):
        import jwt

        with pytest.raises(InvalidToken):
            token_kid(jwt.encode({"sub": "x"}, "secret-secret-secret-secret-secret", algorithm="HS256",
                                 headers={"kid": "k"}))
        with pytest.raises(InvalidToken):
            token_kid("not-a-token")


def test_rate_limited_errors_carry_retry_after():
    err = RateLimited("slow down", retry_after=7)
    assert err.headers() == {"Retry-After": "7"} and err.problem()["status"] == 429
