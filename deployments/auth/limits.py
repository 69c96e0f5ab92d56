"""Brute-force limits on login, counted in the KV store: attempts per address, failures per
account, each over a sliding window of `login_window_s`."""
from __future__ import annotations

from typing import NoReturn

from deployments.auth.errors import InvalidCredentials, TooManyLogins
from p2p.settings import Settings
from storage.kv import KV


class LoginLimits:
    def __init__(self, kv: KV, settings: Settings):
        self.kv, self.settings = kv, settings

    async def check(self, ip: str | None, email: str) -> None:
        """Count this attempt for the address; refuse it if the address or the account is over its limit."""
        await self._over(f"ip:{ip}", self.settings.login_max_attempts_per_ip, count=True)
        await self._over(f"acct:{email}", self.settings.login_max_failures_per_account, count=False)

    async def failed(self, email: str) -> NoReturn:
        await self.kv.incr(f"rl:login:acct:{email}", ttl=self.settings.login_window_s)
        raise InvalidCredentials("Email or password is wrong.")

    async def succeeded(self, email: str) -> None:
        await self.kv.delete(f"rl:login:acct:{email}")

    async def _over(self, what: str, limit: int, *, count: bool) -> None:
        key = f"rl:login:{what}"
        if count:
            n, left = await self.kv.incr(key, ttl=self.settings.login_window_s)
        else:
            raw = await self.kv.get(key)
            n, left = (int(raw), await self.kv.ttl(key) or 1) if raw else (0, 0)
        if n > limit or (not count and n >= limit):
            raise TooManyLogins("Too many login attempts; wait and try again.", retry_after=max(1, int(left)))
