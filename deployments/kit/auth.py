"""Who is calling: access tokens verified with the Authentication Service's public keys,
API keys verified by the Authorization Service, revocations looked up in the KV store."""
from __future__ import annotations

import time
import uuid
from typing import Any, Awaitable, Callable

from deployments.kit.context import Principal
from deployments.kit.spec import TTLCache
from p2p.errors import InvalidApiKey, InvalidToken
from p2p.security import token_kid, verify_access_token
from storage.kv import KV

API_KEY_PREFIX = "p2pk_"


def revoked_session_key(session_id) -> str:
    return f"revoked:session:{session_id}"


def revoked_api_key_key(key_id) -> str:
    return f"revoked:apikey:{key_id}"


class Authenticator:
    def __init__(self, kv: KV, invoke: Callable[..., Awaitable[Any]]):
        self.kv, self.invoke = kv, invoke
        self._keys: dict[str, str] = {}
        self._miss = TTLCache(ttl=5.0)
        self._api_keys = TTLCache(ttl=30.0)
        self._verified = TTLCache(ttl=60.0)  # token -> claims; expiry is still checked below

    async def public_key(self, kid: str) -> str:
        if kid not in self._keys and self._miss.get(kid) is None:
            self._keys = {k["kid"]: k["public_pem"] for k in await self.invoke("auth", "jwks")}
            if kid not in self._keys:
                self._miss.put(kid, True)
        if kid not in self._keys:
            raise InvalidToken("The token was signed by an unknown key.", reason="unknown_kid")
        return self._keys[kid]

    async def from_headers(self, authorization: str | None, api_key: str | None) -> Principal | None:
        if api_key:
            return await self.from_api_key(api_key)
        if not authorization:
            return None
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and credential.startswith(API_KEY_PREFIX):
            return await self.from_api_key(credential)
        if scheme.lower() != "bearer" or not credential:
            raise InvalidToken("Use 'Authorization: Bearer <token>'.")
        return await self.from_access_token(credential)

    async def from_access_token(self, token: str) -> Principal:
        claims = self._verified.get(token)
        if claims is None or claims["exp"] <= time.time():
            claims = verify_access_token(token, await self.public_key(token_kid(token)))
            self._verified.put(token, claims)
        try:
            user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
        except (ValueError, TypeError):
            raise InvalidToken("The token's subject is malformed.") from None
        if await self.kv.get(revoked_session_key(session_id)) is not None:
            raise InvalidToken("The session was revoked.", reason="revoked")
        return Principal(user_id=user_id, kind="user", session_id=session_id)

    async def from_api_key(self, key: str) -> Principal:
        cached = self._api_keys.get(key)
        if cached is None:
            info = await self.invoke("authz", "verify_api_key", (key,))  # raises InvalidApiKey
            cached = Principal(user_id=info["user_id"], kind="api_key", api_key_id=info["id"],
                               scopes=frozenset(info["scopes"]))
            self._api_keys.put(key, cached)
        if await self.kv.get(revoked_api_key_key(cached.api_key_id)) is not None:
            self._api_keys.drop(key)
            raise InvalidApiKey("The API key was revoked.")
        return cached
