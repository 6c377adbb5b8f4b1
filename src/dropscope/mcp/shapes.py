"""What the research tools return: compact, typed shapes built from the services' results.

Each becomes the tool's output schema (structured content) and its JSON text. Facts keep
their source id and as-of date; `sources` maps each cited id to its title and URL, so an agent
can cite. Money is in US dollars, scores are 0–100.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from dropscope.domain.assess import Assessment
from dropscope.domain.models import Citation, PastAirdrop, Source
from dropscope.services.research import Profile


class Shape(BaseModel):
    model_config = ConfigDict(frozen=True)


class Cite(Shape):
    source: str = Field(description="Source id (see `sources`)")
    as_of: date = Field(description="The date the fact describes")

    @classmethod
    def of(cls, c: Citation) -> Cite:
        return cls(source=c.source_id, as_of=c.as_of)


class SourceRef(Shape):
    title: str
    publisher: str
    url: str | None = None


def _usd(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def sources_for(ids: set[str], known: dict[str, Source]) -> dict[str, SourceRef]:
    return {
        i: SourceRef(title=known[i].title, publisher=known[i].publisher, url=known[i].url)
        for i in sorted(ids)
        if i in known
    }


class ProjectBrief(Shape):
    """A project as the board shows it."""

    slug: str
    name: str
    uri: str = Field(description="project://<slug>: read it as an MCP resource")
    sector: str
    chains: list[str]
    narratives: list[str]
    status: str = Field(
        description="possible, likely, confirmed, snapshot_taken, claimable, distributed "
        "or ruled_out"
    )
    status_headline: str = Field(description="What happened and when, e.g. 'snapshot 2024-03-24'")
    status_rule: str = Field(description="The classification rule that fired")
    tech_score: float | None
    fundamentals_score: float | None
    potential: float = Field(description="Airdrop potential 0–100 (dropscope's weighting)")
    raised_usd: float | None
    valuation_usd: float | None
    investors: list[str] = Field(description="Investor slugs")
    listed: bool = Field(description="Whether the inclusion policy lists it on the board")
    inclusion_reason: str

    @classmethod
    def of(cls, a: Assessment) -> ProjectBrief:
        p, c = a.project, a.classification
        return cls(
            slug=p.slug,
            name=p.name,
            uri=f"project://{p.slug}",
            sector=p.sector,
            chains=list(p.chains),
            narratives=list(p.narratives),
            status=c.status.value,
            status_headline=c.headline,
            status_rule=c.rule,
            tech_score=a.tech.value if a.tech else None,
            fundamentals_score=a.fundamentals.value if a.fundamentals else None,
            potential=a.potential.value,
            raised_usd=_usd(a.raised_usd),
            valuation_usd=_usd(a.valuation_usd),
            investors=list(p.investor_slugs),
            listed=a.inclusion.listed,
            inclusion_reason=a.inclusion.reason,
        )


class ProjectList(Shape):
    as_of: date = Field(description="The date the statuses and scores describe")
    count: int
    projects: list[ProjectBrief]


class EvidenceItem(Shape):
    id: str
    kind: str = Field(description="e.g. official_announcement, snapshot, claim_open, rumour")
    occurred_on: date
    summary: str
    official: bool
    cite: Cite


class Round(Shape):
    round: str
    announced_on: date | None
    amount_usd: float | None
    valuation_usd: float | None
    lead_investors: list[str]
    other_investors: list[str]
    cite: Cite


class ScoreDetail(Shape):
    kind: str = Field(description="tech or fundamentals")
    value: float
    method: str = Field(description="curated (from a source) or computed (from the breakdown)")
    breakdown: dict[str, float | None] = Field(description="Sub-scores by name, when computed")
    cite: Cite | None


class StatusStep(Shape):
    effective_on: date
    old: str | None
    new: str
    rule: str


class ProjectProfile(ProjectBrief):
    """Everything dropscope holds about one project on a date."""

    as_of: date
    summary: str
    website: str | None
    aliases: list[str]
    token_symbol: str | None
    testnet: str | None
    points_program: str | None
    status_explanation: str
    scores: list[ScoreDetail]
    potential_factors: dict[str, float] = Field(description="Contribution of each factor")
    evidence: list[EvidenceItem] = Field(description="Dated, sourced observations, oldest first")
    status_history: list[StatusStep] = Field(description="Replayed from the evidence")
    funding_rounds: list[Round]
    investor_names: dict[str, str] = Field(description="Investor slug → name")
    competitors: list[str]
    cite: Cite
    sources: dict[str, SourceRef] = Field(description="Every source cited above, by id")

    @classmethod
    def of_profile(cls, pr: Profile) -> ProjectProfile:
        a, p = pr.assessment, pr.assessment.project
        cites = [p.citation, *(e.citation for e in p.evidence)]
        cites += [r.citation for r in p.funding_rounds]
        cites += [s.citation for s in (a.tech, a.fundamentals) if s and s.citation]
        cites += [g.citation for g in (p.testnet, p.points_program) if g]
        return cls(
            **ProjectBrief.of(a).model_dump(),
            as_of=a.at,
            summary=p.summary,
            website=p.website,
            aliases=list(p.aliases),
            token_symbol=p.token.symbol,
            testnet=p.testnet.name if p.testnet else None,
            points_program=p.points_program.name if p.points_program else None,
            status_explanation=a.classification.explanation,
            scores=[
                ScoreDetail(
                    kind=s.kind.value,
                    value=s.value,
                    method=s.method.value,
                    breakdown={b.name: b.value for b in s.breakdown},
                    cite=Cite.of(s.citation) if s.citation else None,
                )
                for s in (a.tech, a.fundamentals)
                if s is not None
            ],
            potential_factors={f.name: f.contribution for f in a.potential.factors},
            evidence=[
                EvidenceItem(
                    id=e.id,
                    kind=e.kind.value,
                    occurred_on=e.occurred_on,
                    summary=e.summary,
                    official=e.official,
                    cite=Cite.of(e.citation),
                )
                for e in sorted(p.evidence, key=lambda e: (e.occurred_on, e.id))
            ],
            status_history=[
                StatusStep(
                    effective_on=h.effective_on,
                    old=h.old.value if h.old else None,
                    new=h.new.value,
                    rule=h.rule,
                )
                for h in pr.history
            ],
            funding_rounds=[
                Round(
                    round=r.round,
                    announced_on=r.announced_on,
                    amount_usd=_usd(r.amount_usd),
                    valuation_usd=_usd(r.valuation_usd),
                    lead_investors=list(r.lead_investors),
                    other_investors=list(r.other_investors),
                    cite=Cite.of(r.citation),
                )
                for r in p.funding_rounds
            ],
            investor_names={s: i.name for s, i in pr.investors.items()},
            competitors=[c.name for c in pr.competitors],
            cite=Cite.of(p.citation),
            sources=sources_for({c.source_id for c in cites}, pr.sources),
        )


class Comparison(Shape):
    as_of: date
    projects: list[ProjectProfile]


class FigureItem(Shape):
    metric: str = Field(description="e.g. recipients, tokens_distributed, value_at_launch_usd")
    value: float
    qualifier: str | None
    derived: bool = Field(description="Computed by dropscope from other figures, not published")
    note: str | None
    cite: Cite


class PastDrop(Shape):
    slug: str
    name: str
    token_symbol: str
    project: str | None = Field(description="Slug of the researched project, if any")
    snapshot_on: date | None
    claim_start: date | None
    claim_end: date | None
    figures: list[FigureItem]
    notes: list[str]
    cite: Cite

    @classmethod
    def of(cls, a: PastAirdrop) -> PastDrop:
        return cls(
            slug=a.slug,
            name=a.name,
            token_symbol=a.token_symbol,
            project=a.project_slug,
            snapshot_on=a.snapshot_on,
            claim_start=a.claim_start,
            claim_end=a.claim_end,
            figures=[
                FigureItem(
                    metric=f.metric.value,
                    value=float(f.value),
                    qualifier=f.qualifier,
                    derived=f.derived,
                    note=f.note,
                    cite=Cite.of(f.citation),
                )
                for f in a.figures
            ],
            notes=list(a.notes),
            cite=Cite.of(a.citation),
        )


class PastList(Shape):
    count: int
    airdrops: list[PastDrop] = Field(description="Oldest snapshot first")
    sources: dict[str, SourceRef]


class NamedRef(Shape):
    kind: str = Field(description="project, investor or past_airdrop")
    slug: str
    name: str
    uri: str | None = Field(description="project://<slug> for projects")


class Resolved(Shape):
    query: str
    found: bool = Field(description="True when `matches` is not empty")
    matches: list[NamedRef] = Field(description="Exact matches by slug, name or alias")
    suggestions: list[NamedRef] = Field(description="When nothing matched: closest names")
