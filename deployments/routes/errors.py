"""Route Planning Service errors: each a 4xx with a stable code, never a 500 for bad input."""
from __future__ import annotations

from p2p.errors import Unprocessable


class UnknownPlace(Unprocessable):
    """A place id (apt:/city:/addr:) the Location Service does not know."""
    code = "routes.unknown_place"


class PlaceNotRoutable(Unprocessable):
    """The place is known but cannot start or end a route (a country)."""
    code = "routes.place_not_routable"


class SamePlace(Unprocessable):
    """Origin and destination are (or resolve to) the same place."""
    code = "routes.same_place"


class DeadlineBeforeReady(Unprocessable):
    """The deadline (or the window's end) is not after the ready time (its start)."""
    code = "routes.deadline_before_ready"


class DeadlineInPast(Unprocessable):
    """The deadline (or the window's end) has already passed."""
    code = "routes.deadline_in_past"


class WindowTooLong(Unprocessable):
    """The search window spans more days than the planner searches at once."""
    code = "routes.window_too_long"


class BadTimeWindow(Unprocessable):
    """A stop's or the depot's time window ends before it starts, or lacks one end."""
    code = "routes.bad_time_window"


class WindowOutsideDay(Unprocessable):
    """A stop's time window lies outside the depot's opening hours of that day."""
    code = "routes.window_outside_day"


class DuplicateId(Unprocessable):
    """Two vehicles or two requests share an id."""
    code = "routes.duplicate_id"
