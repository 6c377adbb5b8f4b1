"""Reading the dashboard's URL query: board filters, the as-of date, compared slugs.

A browser form submits every field, so an empty value means "no filter". Anything
malformed raises `InvalidInput` (the 400 page); unknown parameters are ignored (links from
elsewhere carry utm_* and the like).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from starlette.datastructures import QueryParams

from dropscope.errors import InvalidInput
from dropscope.services.board import BoardQuery, parse_sort

MAX_TEXT = 200
DEFAULT_SORT = "-potential,name"
SORTS: tuple[tuple[str, str], ...] = (
    ("-potential,name", "Potential (highest first)"),
    ("name", "Name (A–Z)"),
    ("-tech,name", "Tech score (highest first)"),
    ("-fundamentals,name", "Fundamentals (highest first)"),
    ("-raised,name", "Funding raised (most first)"),
    ("-valuation,name", "Valuation (highest first)"),
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # NUL, TAB, ESC, DEL, U+0080–U+009F …


@dataclass(frozen=True, slots=True)
class BoardFilters:
    """The board's filters as typed in the URL (for the form), and the query they make."""

    narrative: str = ""
    chain: str = ""
    investor: str = ""
    min_tech: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    as_of: str = ""

    @property
    def active(self) -> bool:
        return any((self.narrative, self.chain, self.investor, self.min_tech, self.q))

    def query(self) -> BoardQuery:
        return BoardQuery(
            narrative=self.narrative or None,
            chain=self.chain or None,
            investor=self.investor or None,
            min_tech=float(self.min_tech) if self.min_tech else None,
            text=self.q or None,
            sort=self.sort,
        )


def _text(params: QueryParams, name: str) -> str:
    value = params.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters")
    if CONTROL.search(value):  # a NUL in `q` would otherwise match every project
        raise InvalidInput(f"{name} may not contain control characters")
    return value


def parse_as_of(params: QueryParams) -> date | None:
    raw = _text(params, "as_of")
    if not raw:
        return None
    try:
        if not _ISO_DATE.fullmatch(raw):  # fromisoformat also takes 20240105, 2024-W01-1 …
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"as_of must be a date like 2024-01-05, not {raw!r}") from None


def board_filters(params: QueryParams) -> BoardFilters:
    min_tech = _text(params, "min_tech")
    if min_tech:
        try:
            value = float(min_tech)
        except ValueError:
            value = math.nan
        if not (0 <= value <= 100):
            raise InvalidInput(f"min_tech must be a number from 0 to 100, not {min_tech!r}")
        min_tech = f"{value + 0.0:g}"  # -0 shows as 0
    sort = _text(params, "sort") or DEFAULT_SORT
    parse_sort(sort)  # InvalidInput naming the allowed fields
    parse_as_of(params)
    return BoardFilters(
        narrative=_text(params, "narrative"),
        chain=_text(params, "chain"),
        investor=_text(params, "investor"),
        min_tech=min_tech,
        q=_text(params, "q"),
        sort=sort,
        as_of=_text(params, "as_of"),
    )


def compare_slugs(params: QueryParams) -> list[str]:
    """`slugs=a,b` and/or `slugs=a&slugs=b` (the board's checkboxes), in order, distinct."""
    out: dict[str, None] = {}
    for value in params.getlist("slugs"):
        for raw in value.split(","):
            slug = raw.strip().lower()
            if not slug:
                continue
            if not _SLUG.match(slug):
                raise InvalidInput(f"{raw.strip()[:80]!r} is not a project slug")
            out.setdefault(slug, None)
    if len(out) > 6:
        raise InvalidInput("compare takes at most 6 projects at once")
    return list(out)
