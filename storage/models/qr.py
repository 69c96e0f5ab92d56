"""QR Code Service tables: qr_codes (one signed code per handoff step and kind, at most
one active), qr_scan_attempts (every validation, accepted or refused) and qr_signing_keys."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, IdMixin, utcnow


class QrCode(IdMixin, Base):
    __tablename__ = "qr_codes"
    __table_args__ = (Index("uq_qr_codes_one_active", "step_id", "kind", unique=True,
                            sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),)
    step_id: Mapped[uuid.UUID] = mapped_column(index=True)
    shipment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    package_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    scanner_role: Mapped[str] = mapped_column(String(16))
    scanner_id: Mapped[uuid.UUID | None] = mapped_column()
    issued_by: Mapped[uuid.UUID] = mapped_column(index=True)
    kid: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str | None] = mapped_column(String(40))
    used_at: Mapped[datetime | None] = mapped_column()
    used_by_scan: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QrScanAttempt(IdMixin, Base):
    __tablename__ = "qr_scan_attempts"
    qr_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    step_id: Mapped[uuid.UUID] = mapped_column()
    scanner_id: Mapped[uuid.UUID] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(40))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)


class QrSigningKey(Base):
    """Ed25519 keys by kid. The private PEM is stored here for the embedded setup; production
    would keep it in a KMS and store only the public key and a KMS reference."""

    __tablename__ = "qr_signing_keys"
    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_pem: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()
