"""The board's filters, as one predicate: what the board (`services/board.py`) and saved
watchlist filters (`domain/watchlists.py`) both mean by "this project matches"."""

from __future__ import annotations

from typing import Protocol

from dropscope.domain.assess import Assessment
from dropscope.domain.status import AirdropStatus
from dropscope.domain.text import normalise_name


class ProjectFilter(Protocol):
    """Filters; every field that is set must hold. Read-only, so any object with these
    attributes (a board query, a saved filter) is one."""

    @property
    def statuses(self) -> tuple[AirdropStatus, ...]: ...
    @property
    def narrative(self) -> str | None: ...
    @property
    def chain(self) -> str | None: ...
    @property
    def sector(self) -> str | None: ...
    @property
    def investor(self) -> str | None: ...
    @property
    def min_tech(self) -> float | None: ...
    @property
    def min_fundamentals(self) -> float | None: ...
    @property
    def text(self) -> str | None: ...


def project_matches(f: ProjectFilter, a: Assessment) -> bool:
    """Whether assessed project `a` passes every filter set in `f` (the text filter: a
    case- and accent-insensitive substring of name, summary, aliases and narratives)."""
    p = a.project
    if f.statuses and a.status not in f.statuses:
        return False
    if f.narrative and f.narrative not in p.narratives:
        return False
    if f.chain and f.chain not in p.chains:
        return False
    if f.sector and f.sector != p.sector:
        return False
    if f.investor and f.investor not in p.investor_slugs:
        return False
    if f.min_tech is not None and (a.tech is None or a.tech.value < f.min_tech):
        return False
    if f.min_fundamentals is not None and (
        a.fundamentals is None or a.fundamentals.value < f.min_fundamentals
    ):
        return False
    if f.text:
        needle = normalise_name(f.text)
        hay = normalise_name(" ".join((p.name, p.summary, *p.aliases, *p.narratives)))
        if needle not in hay:
            return False
    return True
