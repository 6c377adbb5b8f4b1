"""The board page's content: sections of cards, and the choices its filter form offers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dropscope.domain.assess import Assessment, AssessParams
from dropscope.domain.models import ScoreMethod
from dropscope.domain.status import AirdropStatus
from dropscope.services.board import Board, BoardQuery, board
from dropscope.services.database import UnitOfWork
from dropscope.web.fmt import usd
from dropscope.web.query import SORTS, BoardFilters

S = AirdropStatus
MAIN = (S.CONFIRMED, S.LIKELY, S.POSSIBLE)  # always shown, as in the article
TITLES = {
    S.CONFIRMED: "Confirmed",
    S.LIKELY: "Likely",
    S.POSSIBLE: "Possible",
    S.SNAPSHOT_TAKEN: "Snapshot taken",
    S.CLAIMABLE: "Claimable now",
    S.DISTRIBUTED: "Recently distributed",
    S.RULED_OUT: "Ruled out",
}
BLURBS = {
    S.CONFIRMED: "The team has announced an airdrop.",
    S.LIKELY: "A points programme or incentivised testnet is running.",
    S.POSSIBLE: "No token yet, or only speculation.",
    S.SNAPSHOT_TAKEN: "Eligibility snapshot taken; claims not open yet.",
    S.CLAIMABLE: "Claiming is open.",
    S.DISTRIBUTED: "Claims have closed, most recent first.",
    S.RULED_OUT: "The team says there will be no airdrop.",
}
KEY_INVESTORS = 3
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Card:
    slug: str
    name: str
    sector: str
    chains: tuple[str, ...]
    narratives: tuple[str, ...]
    status: AirdropStatus
    reason: str  # the rule's explanation, with the date of the evidence it rests on
    latest: str  # what that evidence says
    tech: float | None
    fundamentals: float | None
    fundamentals_computed: bool
    potential: float
    raised: str
    investors: tuple[tuple[str, str], ...]  # (slug, name), leads first
    more_investors: int


@dataclass(frozen=True, slots=True)
class Section:
    status: AirdropStatus
    title: str
    blurb: str
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class BoardPage:
    at: date
    filters: BoardFilters
    sections: tuple[Section, ...]
    shown: int
    total: int
    excluded: tuple[tuple[str, str, str], ...]  # (slug, name, why not listed)
    narratives: tuple[str, ...]
    chains: tuple[str, ...]
    investors: tuple[tuple[str, str], ...]
    sorts: tuple[tuple[str, str], ...]


def card(a: Assessment, names: dict[str, str]) -> Card:
    p = a.project
    leads = [s for r in p.funding_rounds for s in r.lead_investors]
    ordered = list(dict.fromkeys([*leads, *p.investor_slugs]))
    qualifier = next((r.amount_qualifier for r in p.funding_rounds if r.amount_usd), None)
    raised = usd(a.raised_usd) + ("+" if qualifier in ("over", "at least") else "")
    return Card(
        slug=p.slug,
        name=p.name,
        sector=p.sector,
        chains=p.chains,
        narratives=p.narratives,
        status=a.status,
        reason=_reason(a),
        latest=a.classification.rests_on[-1].summary if a.classification.rests_on else "",
        tech=a.tech.value if a.tech else None,
        fundamentals=a.fundamentals.value if a.fundamentals else None,
        fundamentals_computed=bool(
            a.fundamentals and a.fundamentals.method is ScoreMethod.COMPUTED
        ),
        potential=a.potential.value,
        raised=raised,
        investors=tuple((s, names.get(s, s)) for s in ordered[:KEY_INVESTORS]),
        more_investors=max(0, len(ordered) - KEY_INVESTORS),
    )


def _reason(a: Assessment) -> str:
    c = a.classification
    text = c.explanation[:1].upper() + c.explanation[1:]
    if c.rests_on and not _DATE.search(text):  # the explanation may carry its own date
        text += f" ({c.rests_on[-1].occurred_on.isoformat()})"
    return text


def _last_event(a: Assessment) -> date:
    return max((e.known_on for e in a.classification.rests_on), default=date.min)


def sections(result: Board, names: dict[str, str]) -> tuple[Section, ...]:
    grouped = dict(result.grouped())
    out = []
    for status in TITLES:
        items = grouped.get(status, [])
        if status is S.DISTRIBUTED:  # most recently distributed first
            items = sorted(items, key=_last_event, reverse=True)
        if items or status in MAIN:
            cards = tuple(card(a, names) for a in items)
            out.append(Section(status, TITLES[status], BLURBS[status], cards))
    return tuple(out)


def board_page(uow: UnitOfWork, at: date, filters: BoardFilters, params: AssessParams) -> BoardPage:
    """The board on `at` with `filters`; the form's choices come from the whole board."""
    full = board(uow, at, BoardQuery(sort=filters.sort), params)
    shown = board(uow, at, filters.query(), params) if filters.active else full
    names = {i.slug: i.name for i in uow.investors.list_all()}
    backers = {s for a in full.entries for s in a.project.investor_slugs}
    return BoardPage(
        at=at,
        filters=filters,
        sections=sections(shown, names),
        shown=len(shown.entries),
        total=len(full.entries),
        excluded=tuple((a.project.slug, a.project.name, a.inclusion.reason) for a in full.excluded),
        narratives=tuple(sorted({n for a in full.entries for n in a.project.narratives})),
        chains=tuple(sorted({c for a in full.entries for c in a.project.chains})),
        investors=tuple(sorted(((s, names.get(s, s)) for s in backers), key=lambda x: x[1])),
        sorts=SORTS
        if any(v == filters.sort for v, _ in SORTS)
        else (*SORTS, (filters.sort, f"Custom: {filters.sort}")),
    )
