"""Watchlists: the projects an account follows, by slug or by a saved board filter.

A saved filter uses the board's filter vocabulary (statuses, narrative, chain, sector,
investor, minimum tech and fundamentals, text); `filter_matches` decides whether an assessed
project matches it, exactly as the board would list it. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dropscope.domain.assess import Assessment
from dropscope.domain.filters import project_matches
from dropscope.domain.status import AirdropStatus
from dropscope.domain.text import check_no_controls
from dropscope.errors import InvalidInput

MAX_SLUGS = 500
MAX_FILTERS = 20
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


@dataclass(frozen=True, slots=True)
class SavedFilter:
    """Board filters; every field set must hold for a project to match."""

    statuses: tuple[AirdropStatus, ...] = ()
    narrative: str | None = None
    chain: str | None = None
    sector: str | None = None
    investor: str | None = None
    min_tech: float | None = None
    min_fundamentals: float | None = None
    text: str | None = None

    def is_empty(self) -> bool:
        return self == SavedFilter()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"statuses": [s.value for s in self.statuses]}
        for name in ("narrative", "chain", "sector", "investor", "min_tech", "min_fundamentals"):
            out[name] = getattr(self, name)
        out["text"] = self.text
        return out

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SavedFilter:
        """A filter from its JSON form; `InvalidInput` naming the field at fault."""
        unknown = sorted(set(doc) - set(SavedFilter.__slots__))
        if unknown:
            raise InvalidInput(f"unknown filter field(s): {', '.join(unknown)}")
        try:
            statuses = tuple(AirdropStatus(s) for s in doc.get("statuses") or ())
        except ValueError:
            known = ", ".join(s.value for s in AirdropStatus)
            raise InvalidInput(f"filter statuses: choose from {known}") from None
        values: dict[str, Any] = {}
        for name in ("narrative", "chain", "sector", "investor", "text"):
            v = doc.get(name)
            if v is not None and (not isinstance(v, str) or not v.strip() or len(v) > 100):
                raise InvalidInput(f"filter {name}: a non-empty text of at most 100 characters")
            values[name] = check_no_controls(f"filter {name}", v.strip()) if v else None
        for name in ("min_tech", "min_fundamentals"):
            v = doc.get(name)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 100
            ):
                raise InvalidInput(f"filter {name}: a number from 0 to 100")
            values[name] = None if v is None else float(v)
        made = cls(statuses=statuses, **values)
        if made.is_empty():
            raise InvalidInput("a saved filter needs at least one condition")
        return made


@dataclass(frozen=True, slots=True)
class Watchlist:
    """An account's watchlist: projects by slug, plus saved filters whose matches count as
    watched too."""

    id: str
    account_id: str
    name: str
    slugs: tuple[str, ...]
    filters: tuple[SavedFilter, ...]
    created_at: datetime
    updated_at: datetime


def check_slugs(slugs: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Slugs, de-duplicated in order; `InvalidInput` for a malformed one or too many."""
    if len(slugs) > MAX_SLUGS:
        raise InvalidInput(f"a watchlist holds at most {MAX_SLUGS} slugs")
    for s in slugs:
        if not isinstance(s, str) or not _SLUG.match(s):
            raise InvalidInput(f"{s!r} is not a project slug (lowercase letters, digits, '-')")
    return tuple(dict.fromkeys(slugs))


def check_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        raise InvalidInput("a watchlist name is 1 to 100 characters")
    return check_no_controls("name", name)


def filter_matches(f: SavedFilter, a: Assessment) -> bool:
    """True when the board, asked with these filters, would list project `a` (listed
    projects only: one the policy leaves off the board never matches)."""
    return a.inclusion.listed and project_matches(f, a)
