"""A `Project` ⇄ its rows: the project row and one list of rows per child table.

Writing: `child_rows(project)` gives, per child table, the rows to insert, in insertion order
(rounds before their investors). Reading: `ProjectChildren.load` fetches every child table in
one query each (all projects, or one), and `assemble` builds the `Project` back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

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
from dropscope.storage.repositories._common import FRESH, citation_columns, citation_of
from dropscope.storage.tables import (
    Base,
    EvidenceRow,
    FundingRoundInvestorRow,
    FundingRoundRow,
    ProgrammeRow,
    ProjectChainRow,
    ProjectChild,
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


_Child = TypeVar("_Child", bound=ProjectChild)


@dataclass(frozen=True, slots=True)
class ProjectChildren:
    """Child rows grouped by project slug, each list in `position` order."""

    chains: dict[str, list[ProjectChainRow]]
    narratives: dict[str, list[ProjectNarrativeRow]]
    competitors: dict[str, list[ProjectCompetitorRow]]
    programmes: dict[str, dict[str, ProgrammeRow]]
    rounds: dict[str, list[FundingRoundRow]]
    round_investors: dict[tuple[str, str], list[FundingRoundInvestorRow]]
    scores: dict[str, list[ScoreRow]]
    evidence: dict[str, list[EvidenceRow]]

    @classmethod
    def load(cls, session: Session, slug: str | None) -> ProjectChildren:
        """One query per child table: for project `slug`, or for all projects when None."""

        def listed(table: type[_Child]) -> dict[str, list[_Child]]:
            stmt = select(table).order_by(table.project_slug, table.position)
            if slug is not None:
                stmt = stmt.where(table.project_slug == slug)
            grouped: dict[str, list[_Child]] = defaultdict(list)
            for row in session.scalars(stmt, execution_options=FRESH):
                grouped[row.project_slug].append(row)
            return grouped

        programmes: dict[str, dict[str, ProgrammeRow]] = defaultdict(dict)
        stmt = select(ProgrammeRow)
        investors_stmt = select(FundingRoundInvestorRow).order_by(
            FundingRoundInvestorRow.project_slug,
            FundingRoundInvestorRow.round_id,
            FundingRoundInvestorRow.role,
            FundingRoundInvestorRow.position,
        )
        if slug is not None:
            stmt = stmt.where(ProgrammeRow.project_slug == slug)
            investors_stmt = investors_stmt.where(FundingRoundInvestorRow.project_slug == slug)
        for p in session.scalars(stmt, execution_options=FRESH):
            programmes[p.project_slug][p.kind] = p
        round_investors: dict[tuple[str, str], list[FundingRoundInvestorRow]] = defaultdict(list)
        for i in session.scalars(investors_stmt, execution_options=FRESH):
            round_investors[i.project_slug, i.round_id].append(i)
        return cls(
            chains=listed(ProjectChainRow),
            narratives=listed(ProjectNarrativeRow),
            competitors=listed(ProjectCompetitorRow),
            programmes=programmes,
            rounds=listed(FundingRoundRow),
            round_investors=round_investors,
            scores=listed(ScoreRow),
            evidence=listed(EvidenceRow),
        )

    def assemble(self, row: ProjectRow) -> Project:
        slug = row.slug
        programmes = self.programmes.get(slug, {})
        return Project(
            slug=slug,
            name=row.name,
            summary=row.summary,
            sector=row.sector,
            citation=citation_of(row),
            website=row.website,
            official_domains=tuple(row.official_domains),
            chains=tuple(c.chain for c in self.chains.get(slug, ())),
            narratives=tuple(n.narrative for n in self.narratives.get(slug, ())),
            competitors=tuple(c.competitor_slug for c in self.competitors.get(slug, ())),
            aliases=tuple(row.aliases),
            token=Token(symbol=row.token_symbol, coingecko_id=row.token_coingecko_id),
            testnet=_programme(programmes.get(TESTNET)),
            points_program=_programme(programmes.get(POINTS_PROGRAM)),
            funding_rounds=tuple(self._round(r) for r in self.rounds.get(slug, ())),
            scores=tuple(_score(s) for s in self.scores.get(slug, ())),
            evidence=tuple(_evidence(e) for e in self.evidence.get(slug, ())),
        )

    def _round(self, r: FundingRoundRow) -> FundingRound:
        investors = self.round_investors.get((r.project_slug, r.id), ())
        return FundingRound(
            id=r.id,
            round=r.round,
            citation=citation_of(r),
            announced_on=r.announced_on,
            amount_usd=r.amount_usd,
            amount_qualifier=r.amount_qualifier,
            valuation_usd=r.valuation_usd,
            lead_investors=tuple(i.investor_slug for i in investors if i.role == LEAD),
            other_investors=tuple(i.investor_slug for i in investors if i.role == OTHER),
            note=r.note,
        )


def _programme(row: ProgrammeRow | None) -> Programme | None:
    return None if row is None else Programme(row.name, citation_of(row), row.url)


def _score(s: ScoreRow) -> Score:
    citation = (
        None
        if s.source_id is None or s.as_of is None
        else Citation(source_id=s.source_id, as_of=s.as_of, quote=s.quote)
    )
    return Score(
        kind=ScoreKind(s.kind),
        value=s.value,
        method=ScoreMethod(s.method),
        label=s.label,
        citation=citation,
        breakdown=tuple(
            SubScore(name=b["name"], value=b["value"], weight=b["weight"], detail=b["detail"])
            for b in s.breakdown
        ),
    )


def _evidence(e: EvidenceRow) -> Evidence:
    return Evidence(
        id=e.id,
        kind=EvidenceKind(e.kind),
        occurred_on=e.occurred_on,
        public_on=e.public_on,
        summary=e.summary,
        citation=citation_of(e),
        official=e.official,
        window_end=e.window_end,
    )
