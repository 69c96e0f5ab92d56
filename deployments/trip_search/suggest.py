"""Suggestions: places matching what a sender types (typo-tolerant: `heathrw` finds LHR)
and the most searched routes touching them or naming the text."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import func, or_, select

from deployments.kit import Ctx, op
from deployments.locations import LocationOut
from deployments.routes.schemas import KnownPlace
from deployments.trip_search.places import Places
from deployments.trip_search.schemas import PlaceSuggestion, PopularRoute, SuggestionsOut
from storage.gazetteer import fold
from storage.models.trip_search import RouteSuggestion


class Suggestions(Places):
    """A part of `TripSearch`."""

    @op("GET /search/suggestions", perm="search:read")
    async def suggestions(self, ctx: Ctx, q: Annotated[str, Field(min_length=1, max_length=100)],
                          limit: Annotated[int, Field(ge=1, le=20)] = 8) -> SuggestionsOut:
        """Places matching `q` (airports, cities, countries; typo-tolerant: `heathrw` finds
        LHR) and the most searched routes touching them or naming `q`. This service owns
        the path for both kinds of suggestion (see the README's spec collisions)."""
        places = [suggestion(p, "exact") for p in await self.locations.search(ctx, q=q, limit=limit)]
        if not places:
            places = await self._fuzzy(ctx, q, limit)
        return SuggestionsOut(q=q, places=places, routes=await self._popular(q, {p.id for p in places}, limit))

    async def _fuzzy(self, ctx: Ctx, q: str, limit: int) -> list[PlaceSuggestion]:
        """Typos: search shorter prefixes of `q` and the graph's known places, keep the names
        or codes within a small edit distance of `q`, closest first."""
        folded = fold(q)
        if len(folded) < 3:
            return []
        found: dict[str, LocationOut] = {}
        for n in range(len(folded) - 1, max(2, len(folded) - 4), -1):
            for loc in await self.locations.search(ctx, q=folded[:n], limit=20):
                found.setdefault(loc.id, loc)
            if found:
                break
        known = [p for p in await self.routes.known_places() if p.id not in found]
        candidates: list[LocationOut | KnownPlace] = [*found.values(), *known]
        scored = sorted(((distance(folded, p.name, p.code), i, p) for i, p in enumerate(candidates)),
                        key=lambda x: x[:2])
        out: list[PlaceSuggestion] = []
        for d, _, p in scored:
            if d > max(1, len(folded) // 3) or len(out) >= limit:
                break
            out.append(suggestion(found.get(p.id) or await self._place(p.id), "fuzzy"))
        return out

    async def _popular(self, q: str, place_ids: set[str], limit: int) -> list[PopularRoute]:
        R, like = RouteSuggestion, f"%{fold(q)}%"
        match = [func.lower(R.origin_name).like(like), func.lower(R.destination_name).like(like),
                 func.lower(R.origin).like(like), func.lower(R.destination).like(like)]
        if place_ids:
            match += [R.origin.in_(place_ids), R.destination.in_(place_ids)]
        async with self.uow(read=True) as uow:
            rows = await uow.all(select(R).where(or_(*match))
                                 .order_by(R.searches.desc(), R.last_searched_at.desc()).limit(limit))
        return [PopularRoute.model_validate(r) for r in rows]


def suggestion(loc: LocationOut, match: Literal["exact", "fuzzy"]) -> PlaceSuggestion:
    return PlaceSuggestion(id=loc.id, kind=loc.kind, name=loc.name, code=loc.code, country=loc.country, match=match)


def distance(q: str, name: str | None, code: str | None) -> int:
    """Least edit distance (with transpositions) from `q` to a word of the name, the whole
    name or the code."""
    words = fold(name or "").split()
    options = [*words, " ".join(words), (code or "").lower()]
    return min(_osa(q, w) for w in options if w) if any(options) else len(q)


def _osa(a: str, b: str) -> int:
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]
