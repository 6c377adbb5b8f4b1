"""The airdrop board: every listed project assessed on a date, filtered, sorted and grouped.

The same function answers the CLI, and later the API, dashboard and assistant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dropscope.domain.assess import Assessment, AssessParams, assess_all
from dropscope.domain.filters import project_matches
from dropscope.domain.status import BOARD_ORDER, AirdropStatus
from dropscope.errors import InvalidInput
from dropscope.services.database import UnitOfWork

SORT_FIELDS = ("potential", "name", "tech", "fundamentals", "raised", "valuation", "status")


@dataclass(frozen=True, slots=True)
class BoardQuery:
    """Filters and order. `sort` is a comma list of fields, '-' for descending."""

    statuses: tuple[AirdropStatus, ...] = ()
    narrative: str | None = None
    chain: str | None = None
    sector: str | None = None
    investor: str | None = None
    min_tech: float | None = None
    min_fundamentals: float | None = None
    text: str | None = None
    sort: str = "-potential,name"
    limit: int | None = None
    include_excluded: bool = False


@dataclass(frozen=True, slots=True)
class Board:
    at: date
    entries: tuple[Assessment, ...]
    excluded: tuple[Assessment, ...] = field(default_factory=tuple)

    def grouped(self) -> list[tuple[AirdropStatus, list[Assessment]]]:
        """Sections in board order (confirmed, likely, possible, then later stages)."""
        return [
            (s, [a for a in self.entries if a.status is s])
            for s in BOARD_ORDER
            if any(a.status is s for a in self.entries)
        ]


def parse_sort(sort: str) -> list[tuple[str, bool]]:
    """'-potential,name' → [('potential', True), ('name', False)]; unknown fields → error."""
    keys = []
    for raw in sort.split(","):
        name = raw.strip()
        desc = name.startswith("-")
        name = name.lstrip("-+")
        if name not in SORT_FIELDS:
            raise InvalidInput(f"cannot sort by {name!r}; choose from {', '.join(SORT_FIELDS)}")
        keys.append((name, desc))
    return keys


def _sort_value(a: Assessment, name: str) -> float | str:
    match name:
        case "potential":
            return a.potential.value
        case "name":
            return a.project.name.lower()
        case "tech":
            return a.tech.value if a.tech else -1.0
        case "fundamentals":
            return a.fundamentals.value if a.fundamentals else -1.0
        case "raised":
            return float(a.raised_usd) if a.raised_usd is not None else -1.0
        case "valuation":
            return float(a.valuation_usd) if a.valuation_usd is not None else -1.0
        case _:
            return float(a.status.rank)


def _descending(value: float | str) -> float | list[int]:
    """A key that sorts `value` in reverse: numbers negated; text as negated code points
    followed by a sentinel, so that "ab" comes before "a"."""
    if isinstance(value, str):
        return [-ord(ch) for ch in value] + [1]
    return -value


def sort_key(a: Assessment, spec: list[tuple[str, bool]]) -> list[Any]:
    """The full ascending sort key of `a` for a parsed sort spec, ending in the unique slug,
    so that it orders a board totally and can be written into a pagination cursor."""
    key: list[Any] = []
    for name, desc in spec:
        value = _sort_value(a, name)
        key.append(_descending(value) if desc else value)
    key.append(a.project.slug)
    return key


def sort_assessments(items: Sequence[Assessment], sort: str) -> list[Assessment]:
    spec = parse_sort(sort)
    return sorted(items, key=lambda a: sort_key(a, spec))


def board(
    uow: UnitOfWork, at: date, query: BoardQuery, params: AssessParams | None = None
) -> Board:
    """Assess every project on `at` and keep those the policy lists and the query matches."""
    if query.limit is not None and query.limit < 1:
        raise InvalidInput("limit must be at least 1")
    parse_sort(query.sort)  # refuse a bad sort before any work
    assessed = assess_all(uow.projects.list_all(), at, params)
    listed = [a for a in assessed if a.inclusion.listed or query.include_excluded]
    excluded = [a for a in assessed if not a.inclusion.listed]
    chosen = sort_assessments([a for a in listed if project_matches(query, a)], query.sort)
    if query.limit is not None:
        chosen = chosen[: query.limit]
    return Board(at, tuple(chosen), tuple(excluded))
