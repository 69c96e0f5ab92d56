"""The service's Ed25519 signing keys: made on first use, looked up by kid, rotatable.
`QrCodes` inherits these."""
from __future__ import annotations

from sqlalchemy import select, update

from deployments.kit import Service
from p2p.security import new_signing_key
from storage.db import utcnow
from storage.models.qr import QrSigningKey


class QrKeys(Service):
    _public: dict[str, str]

    async def _signing_key(self) -> QrSigningKey:
        """The newest active key, created on first use."""
        async with self.uow() as uow:
            key = await uow.scalar(select(QrSigningKey).where(QrSigningKey.active.is_(True))
                                   .order_by(QrSigningKey.created_at.desc()).limit(1))
            if key is None:
                kid, private_pem, public_pem = new_signing_key()
                key = uow.add(QrSigningKey(kid=kid, private_pem=private_pem, public_pem=public_pem, active=True))
            return key

    async def rotate_key(self) -> str:
        """Retire the active keys and make a new one; codes signed before still verify. Its kid."""
        kid, private_pem, public_pem = new_signing_key()
        async with self.uow() as uow:
            await uow.session.execute(update(QrSigningKey).where(QrSigningKey.active.is_(True))
                                      .values(active=False, retired_at=utcnow()))
            uow.add(QrSigningKey(kid=kid, private_pem=private_pem, public_pem=public_pem, active=True))
        return kid

    async def _public_keys(self, kid: str) -> dict[str, str]:
        """Public PEMs by kid, reloaded when `kid` is not known yet in this process."""
        cache = self.__dict__.setdefault("_public", {})
        if kid not in cache:
            async with self.uow(read=True) as uow:
                for k in await uow.all(select(QrSigningKey)):
                    cache[k.kid] = k.public_pem
        return cache
