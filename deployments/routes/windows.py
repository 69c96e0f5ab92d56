"""The time windows a search accepts: ordered, not over, and at most 31 days long (what the
planner searches at once)."""
from __future__ import annotations

from datetime import datetime, timedelta

from deployments.routes.errors import DeadlineBeforeReady, DeadlineInPast, WindowTooLong
from storage.db import utcnow

MAX_WINDOW = timedelta(days=31)


def ready_from(ready_at: datetime, deadline: datetime) -> datetime:
    """The ready time to search from (never before now), once the pair makes sense."""
    now = utcnow()
    if deadline <= ready_at:
        raise DeadlineBeforeReady("The deadline must be after the ready time.")
    if deadline <= now:
        raise DeadlineInPast("The deadline has passed.", deadline=deadline.isoformat())
    ready = max(ready_at, now)
    if deadline - ready > MAX_WINDOW:
        raise WindowTooLong(f"Search at most {MAX_WINDOW.days} days between ready time and deadline.")
    return ready


def check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise DeadlineBeforeReady("The window must end after it starts.")
    if end - start > MAX_WINDOW:
        raise WindowTooLong(f"A window spans at most {MAX_WINDOW.days} days.")
