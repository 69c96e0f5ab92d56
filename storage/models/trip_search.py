"""Trip Search Service tables: the queries senders ran (route_search_queries), their
per-route counts behind popular-route suggestions (route_suggestions), saved searches and
the alerts raised for them when a matching trip is published (search_alerts)."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, IdMixin, TimestampMixin, utcnow


class RouteSearchQuery(IdMixin, TimestampMixin, Base):
    __tablename__ = "route_search_queries"
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    origin: Mapped[str] = mapped_column(String(96), index=True)
    destination: Mapped[str] = mapped_column(String(96), index=True)
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    weight_g: Mapped[int] = mapped_column()
    category: Mapped[str] = mapped_column(String(16))
    trips_found: Mapped[int] = mapped_column(default=0)
    itineraries_found: Mapped[int] = mapped_column(default=0)
    cached: Mapped[bool] = mapped_column(default=False)


class RouteSuggestion(Base):
    """How often a route was searched: what popular-route suggestions rank by."""

    __tablename__ = "route_suggestions"
    origin: Mapped[str] = mapped_column(String(96), primary_key=True)
    destination: Mapped[str] = mapped_column(String(96), primary_key=True)
    origin_name: Mapped[str] = mapped_column(String(200))
    destination_name: Mapped[str] = mapped_column(String(200))
    searches: Mapped[int] = mapped_column(default=0)
    last_searched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SavedSearch(IdMixin, TimestampMixin, Base):
    """`origin_ids`/`destination_ids` are the place and its airports or city, resolved when
    saving, so the event handler matches trips without calling anyone."""

    __tablename__ = "saved_searches"
    __table_args__ = (CheckConstraint("date_from <= date_to", name="window_ordered"),
                      CheckConstraint("weight_g > 0", name="weight_positive"))
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(96))
    destination: Mapped[str] = mapped_column(String(96))
    origin_ids: Mapped[list[str]] = mapped_column(JSON)
    destination_ids: Mapped[list[str]] = mapped_column(JSON)
    origin_tz: Mapped[str] = mapped_column(String(64))
    date_from: Mapped[date] = mapped_column(Date, index=True)
    date_to: Mapped[date] = mapped_column(Date, index=True)
    weight_g: Mapped[int] = mapped_column()
    category: Mapped[str] = mapped_column(String(16))


class SearchAlert(IdMixin, TimestampMixin, Base):
    """A trip published after the search was saved that matches it, its category included
    (`trip.published` carries the trip's constraints). `category_checked` is false, and
    `not_matching` a status, only on alerts raised before the event carried them."""

    __tablename__ = "search_alerts"
    __table_args__ = (UniqueConstraint("saved_search_id", "trip_id"),)
    saved_search_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"),
                                                       index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    trip_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | trip_cancelled | not_matching
    category_checked: Mapped[bool] = mapped_column(default=False)
    from_location: Mapped[str] = mapped_column(String(96))
    to_location: Mapped[str] = mapped_column(String(96))
    departs_at: Mapped[datetime] = mapped_column()
    arrives_at: Mapped[datetime] = mapped_column()
    capacity_g: Mapped[int] = mapped_column()
