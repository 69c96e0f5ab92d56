"""Trip Search Service errors: each a 4xx with a stable code."""
from __future__ import annotations

from p2p.errors import NotFound, Unprocessable


class SavedSearchNotFound(NotFound):
    """No saved search has this id, or it is not the caller's."""
    code = "search.saved_not_found"


class UnknownPlace(Unprocessable):
    """A place id the Location Service does not know, or a country."""
    code = "search.unknown_place"


class SamePlace(Unprocessable):
    """Origin and destination are the same place."""
    code = "search.same_place"


class BadDates(Unprocessable):
    """The date window ends before it starts, spans too many days, or has passed."""
    code = "search.bad_dates"
