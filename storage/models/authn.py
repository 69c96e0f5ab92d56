"""Authentication Service tables: identities, sessions, devices, refresh tokens, MFA, signing keys."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin, utcnow


class AuthIdentity(TimestampMixin, Base):
    __tablename__ = "auth_identities"
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))


class Device(IdMixin, TimestampMixin, Base):
    __tablename__ = "devices"
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(120))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    last_ip: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Session(IdMixin, TimestampMixin, Base):
    __tablename__ = "sessions"
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"))
    ip: Mapped[str | None] = mapped_column(String(64))
    mfa: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    # For listing sessions with their device's name; load it with joinedload(Session.device).
    device: Mapped[Device] = relationship(lazy="raise")
    device_name: AssociationProxy[str] = association_proxy("device", "name")


class RefreshToken(IdMixin, Base):
    """One row per issued refresh token; a used one presented again is a replay."""

    __tablename__ = "refresh_tokens"
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()


class MfaFactor(IdMixin, TimestampMixin, Base):
    __tablename__ = "mfa_factors"
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16), default="totp")
    secret: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column()
    last_used_step: Mapped[int | None] = mapped_column()


class MfaChallenge(IdMixin, TimestampMixin, Base):
    __tablename__ = "mfa_challenges"
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    device_name: Mapped[str] = mapped_column(String(120))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime | None] = mapped_column()


class SigningKey(TimestampMixin, Base):
    """Ed25519 keys for access tokens. Only the Authentication Service reads the private half."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_pem: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    retired_at: Mapped[datetime | None] = mapped_column()
