"""User Service tables: users, user_profiles, user_stats, user_settings."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, IdMixin, TimestampMixin


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Every account has its profile (written together); loaded with the user, so a user row
    # reads as the whole profile (`UserOut.model_validate(user)`) and writes through to it.
    profile: Mapped[UserProfile] = relationship(lazy="joined", innerjoin=True)
    display_name: AssociationProxy[str] = association_proxy("profile", "display_name")
    bio: AssociationProxy[str | None] = association_proxy("profile", "bio")
    country: AssociationProxy[str | None] = association_proxy("profile", "country")
    avatar_url: AssociationProxy[str | None] = association_proxy("profile", "avatar_url")


class UserProfile(TimestampMixin, Base):
    __tablename__ = "user_profiles"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str | None] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(2))
    avatar_url: Mapped[str | None] = mapped_column(String(500))


class UserStats(Base):
    __tablename__ = "user_stats"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    shipments_sent: Mapped[int] = mapped_column(default=0)
    trips_completed: Mapped[int] = mapped_column(default=0)
    deliveries_completed: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    last_active_at: Mapped[datetime | None] = mapped_column()

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class UserSettings(Base):
    __tablename__ = "user_settings"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    notifications: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column()
