"""A `Project` ⇄ its rows: the project row and one list of rows per child table.

Writing: `child_rows(project)` gives, per child table, the rows to insert, in insertion order
(rounds before their investors). Reading: `load_projects` fetches the projects and then every
child table in one query each (all projects, or one) and builds the `Project`s back.

Reads select plain columns (Core), not ORM entities: creating an ORM object per row, with its
instance state and identity-map entry, costs far more than building the domain object, and
the domain objects are all a reader wants. Rows come back ordered by project slug, so each
table's rows are grouped per project in one pass and every value is built once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from itertools import groupby, starmap
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropscope.domain.models import (
    Citation,
    Evidence,
    EvidenceKind,
    FundingRound,
    Programme,
    Project,
    Score,
    ScoreKind,
    ScoreMethod,
    SubScore,
    Token,
)
from dropscope.storage.repositories._common import citation_columns, enum_members
from dropscope.storage.tables import (
    Base,
    EvidenceRow,
    FundingRoundInvestorRow,
    FundingRoundRow,
    ProgrammeRow,
    ProjectChainRow,
    ProjectCompetitorRow,
    ProjectNarrativeRow,
    ProjectRow,
    ScoreRow,
)

LEAD, OTHER = "lead", "other"
TESTNET, POINTS_PROGRAM = "testnet", "points_program"


def project_columns(project: Project) -> dict[str, Any]:
    """The `projects` row, without key, hash and timestamps."""
    return {
        "name": project.name,
        "summary": project.summary,
        "sector": project.sector,
        "website": project.website,
        "official_domains": list(project.official_domains),
        "aliases": list(project.aliases),
        "token_symbol": project.token.symbol,
        "token_coingecko_id": project.token.coingecko_id,
        **citation_columns(project.citation),
    }


def child_rows(project: Project) -> dict[type[Base], list[dict[str, Any]]]:
    """Rows to insert for `project`, for every child table (parents before children)."""
    slug = project.slug

    def listed(values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"project_slug": slug, "position": i, **v} for i, v in enumerate(values)]

    programmes = [(TESTNET, project.testnet), (POINTS_PROGRAM, project.points_program)]
    return {
        ProjectChainRow: listed({"chain": c} for c in project.chains),
        ProjectNarrativeRow: listed({"narrative": n} for n in project.narratives),
        ProjectCompetitorRow: listed({"competitor_slug": c} for c in project.competitors),
        ProgrammeRow: [
            {"project_slug": slug, "kind": kind, "name": p.name, "url": p.url}
            | citation_columns(p.citation)
            for kind, p in programmes
            if p is not None
        ],
        FundingRoundRow: listed(_round_columns(r) for r in project.funding_rounds),
        FundingRoundInvestorRow: [
            {
                "project_slug": slug,
                "round_id": r.id,
                "role": role,
                "position": i,
                "investor_slug": s,
            }
            for r in project.funding_rounds
            for role, slugs in ((LEAD, r.lead_investors), (OTHER, r.other_investors))
            for i, s in enumerate(slugs)
        ],
        ScoreRow: listed(_score_columns(s) for s in project.scores),
        EvidenceRow: listed(_evidence_columns(e) for e in project.evidence),
    }


def _round_columns(r: FundingRound) -> dict[str, Any]:
    return {
        "id": r.id,
        "round": r.round,
        "announced_on": r.announced_on,
        "amount_usd": r.amount_usd,
        "amount_qualifier": r.amount_qualifier,
        "valuation_usd": r.valuation_usd,
        "note": r.note,
        **citation_columns(r.citation),
    }


def _score_columns(s: Score) -> dict[str, Any]:
    cited = (
        citation_columns(s.citation)
        if s.citation
        else dict.fromkeys(("source_id", "as_of", "quote"))
    )
    return {
        "kind": s.kind.value,
        "value": float(s.value),
        "method": s.method.value,
        "label": s.label,
        "breakdown": [
            {
                "name": b.name,
                "value": None if b.value is None else float(b.value),
                "weight": float(b.weight),
                "detail": b.detail,
            }
            for b in s.breakdown
        ],
        **cited,
    }


def _evidence_columns(e: Evidence) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "occurred_on": e.occurred_on,
        "public_on": e.public_on,
        "summary": e.summary,
        "official": e.official,
        "window_end": e.window_end,
        **citation_columns(e.citation),
    }


_EVIDENCE_KINDS = enum_members(EvidenceKind)
_SCORE_KINDS = enum_members(ScoreKind)
_SCORE_METHODS = enum_members(ScoreMethod)

_PROJECT = ProjectRow.__table__.c
_PROJECT_COLUMNS = (
    _PROJECT.slug,
    _PROJECT.name,
    _PROJECT.summary,
    _PROJECT.sector,
    _PROJECT.website,
    _PROJECT.official_domains,
    _PROJECT.aliases,
    _PROJECT.token_symbol,
    _PROJECT.token_coingecko_id,
    _PROJECT.source_id,
    _PROJECT.as_of,
    _PROJECT.quote,
)
_CITED = ("source_id", "as_of", "quote")
_ROUND = (
    "id",
    "round",
    "announced_on",
    "amount_usd",
    "amount_qualifier",
    "valuation_usd",
    "note",
    *_CITED,
)
_SCORE = ("kind", "value", "method", "label", "breakdown", *_CITED)
_EVIDENCE = (
    "id",
    "kind",
    "occurred_on",
    "public_on",
    "summary",
    "official",
    "window_end",
    *_CITED,
)
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_FIRST_TWO = itemgetter(0, 1)
_NO_INVESTORS: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def load_projects(session: Session, slug: str | None) -> list[Project]:
    """Project `slug`, or every project when None, by slug, complete.

    One query for the projects, then (when there are any) one per child table.
    """
    stmt = select(*_PROJECT_COLUMNS).order_by(_PROJECT.slug)
    if slug is not None:
        stmt = stmt.where(_PROJECT.slug == slug)
    projects = session.execute(stmt).all()
    if not projects:
        return []
    read = _Reader(session, slug)
    testnets, points_programs = read.programmes()
    chains = read.values(ProjectChainRow, "chain")
    narratives = read.values(ProjectNarrativeRow, "narrative")
    competitors = read.values(ProjectCompetitorRow, "competitor_slug")
    rounds = read.rounds()
    scores = read.grouped(ScoreRow, _SCORE, read.score)
    evidence = read.grouped(EvidenceRow, _EVIDENCE, read.evidence)
    cite = read.citation
    return [
        Project(
            slug=s,
            name=name,
            summary=summary,
            sector=sector,
            citation=cite(source_id, as_of, quote),
            website=website,
            official_domains=tuple(official_domains),
            chains=chains.get(s, ()),
            narratives=narratives.get(s, ()),
            competitors=competitors.get(s, ()),
            aliases=tuple(aliases),
            token=Token(symbol=token_symbol, coingecko_id=token_coingecko_id),
            testnet=testnets.get(s),
            points_program=points_programs.get(s),
            funding_rounds=rounds.get(s, ()),
            scores=scores.get(s, ()),
            evidence=evidence.get(s, ()),
        )
        for (
            s,
            name,
            summary,
            sector,
            website,
            official_domains,
            aliases,
            token_symbol,
            token_coingecko_id,
            source_id,
            as_of,
            quote,
        ) in projects
    ]


class _Reader:
    """Reads the child tables of project `slug` (of every project when None), one query each,
    as plain rows ordered by project slug, and builds their domain values.

    Rows are consumed as they are fetched and grouped per project in one pass (`groupby` on
    the slug). Equal citations are built once per load and shared (they are immutable).
    """

    def __init__(self, session: Session, slug: str | None) -> None:
        self._session = session
        self._slug = slug
        self._citations: dict[tuple[str | None, date | None, str | None], Citation] = {}
        self._investors: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def rows(
        self, table: type[Base], columns: Sequence[str], order: Sequence[str] = ("position",)
    ) -> Iterable[Sequence[Any]]:
        """(`project_slug`, *`columns`) of `table`'s rows, by project slug, then `order`."""
        c = table.__table__.c
        key = c.project_slug
        stmt = select(key, *(c[n] for n in columns)).order_by(key, *(c[n] for n in order))
        if self._slug is not None:
            stmt = stmt.where(key == self._slug)
        return self._session.execute(stmt)

    def values(self, table: type[Base], column: str) -> dict[str, tuple[Any, ...]]:
        """Per project slug, the values of `column`, in list order."""
        return {
            s: tuple(map(_SECOND, group))
            for s, group in groupby(self.rows(table, (column,)), _FIRST)
        }

    def grouped(
        self, table: type[Base], columns: Sequence[str], build: Callable[..., Any]
    ) -> dict[str, tuple[Any, ...]]:
        """Per project slug, `build(project_slug, *columns)` for each row, in list order."""
        return {
            s: tuple(starmap(build, group))
            for s, group in groupby(self.rows(table, columns), _FIRST)
        }

    def citation(self, source_id: str, as_of: date, quote: str | None) -> Citation:
        key = (source_id, as_of, quote)
        found = self._citations.get(key)
        if found is None:
            found = self._citations[key] = Citation(source_id=source_id, as_of=as_of, quote=quote)
        return found

    def programmes(self) -> tuple[dict[str, Programme], dict[str, Programme]]:
        """Testnets and points programmes, by project slug."""
        testnets: dict[str, Programme] = {}
        points_programs: dict[str, Programme] = {}
        by_kind = {TESTNET: testnets, POINTS_PROGRAM: points_programs}
        for s, kind, name, url, source_id, as_of, quote in self.rows(
            ProgrammeRow, ("kind", "name", "url", *_CITED), ()
        ):
            programmes = by_kind.get(kind)
            if programmes is not None:
                programmes[s] = Programme(
                    name=name, citation=self.citation(source_id, as_of, quote), url=url
                )
        return testnets, points_programs

    def rounds(self) -> dict[str, tuple[FundingRound, ...]]:
        """Funding rounds with their investors, by project slug."""
        investors = self._investors
        rows = self.rows(
            FundingRoundInvestorRow,
            ("round_id", "role", "investor_slug"),
            ("round_id", "role", "position"),
        )
        for key, group in groupby(rows, _FIRST_TWO):
            lead: list[str] = []
            other: list[str] = []
            for _, _, role, investor in group:
                if role == LEAD:
                    lead.append(investor)
                elif role == OTHER:
                    other.append(investor)
            investors[key] = (tuple(lead), tuple(other))
        return self.grouped(FundingRoundRow, _ROUND, self.funding_round)

    def funding_round(
        self,
        project_slug: str,
        id: str,
        round: str,
        announced_on: date | None,
        amount_usd: Decimal | None,
        amount_qualifier: str | None,
        valuation_usd: Decimal | None,
        note: str | None,
        source_id: str,
        as_of: date,
        quote: str | None,
    ) -> FundingRound:
        lead, other = self._investors.get((project_slug, id), _NO_INVESTORS)
        return FundingRound(
            id=id,
            round=round,
            citation=self.citation(source_id, as_of, quote),
            announced_on=announced_on,
            amount_usd=amount_usd,
            amount_qualifier=amount_qualifier,
            valuation_usd=valuation_usd,
            lead_investors=lead,
            other_investors=other,
            note=note,
        )

    def score(
        self,
        project_slug: str,
        kind: str,
        value: float,
        method: str,
        label: str,
        breakdown: list[dict[str, Any]],
        source_id: str | None,
        as_of: date | None,
        quote: str | None,
    ) -> Score:
        return Score(
            kind=_SCORE_KINDS[kind],
            value=value,
            method=_SCORE_METHODS[method],
            label=label,
            citation=(
                None
                if source_id is None or as_of is None
                else self.citation(source_id, as_of, quote)
            ),
            breakdown=tuple(
                SubScore(name=b["name"], value=b["value"], weight=b["weight"], detail=b["detail"])
                for b in breakdown
            ),
        )

    def evidence(
        self,
        project_slug: str,
        id: str,
        kind: str,
        occurred_on: date,
        public_on: date,
        summary: str,
        official: bool,
        window_end: date | None,
        source_id: str,
        as_of: date,
        quote: str | None,
    ) -> Evidence:
        return Evidence(
            id=id,
            kind=_EVIDENCE_KINDS[kind],
            occurred_on=occurred_on,
            public_on=public_on,
            summary=summary,
            citation=self.citation(source_id, as_of, quote),
            official=official,
            window_end=window_end,
        )
