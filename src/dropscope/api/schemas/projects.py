"""Project resources: the board entry (summary) and the full profile (detail)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from dropscope.api.schemas.common import CitationOut, Out, SourceOut, usd
from dropscope.domain.assess import Assessment
from dropscope.domain.classify import Classification
from dropscope.domain.models import Evidence, FundingRound, Programme, Score
from dropscope.domain.status import StatusChange
from dropscope.services.research import Profile


class ScoresOut(Out):
    tech: float | None = Field(description="Tech score 0–100", examples=[92])
    fundamentals: float | None = Field(description="Fundamentals score 0–100", examples=[95.8])
    fundamentals_method: str | None = Field(examples=["computed"])
    potential: float = Field(description="Airdrop potential 0–100", examples=[81.2])


class StatusOut(Out):
    status: str = Field(examples=["confirmed"])
    rule: str = Field(description="The classification rule that fired", examples=["announced"])
    explanation: str = Field(examples=["an airdrop has been announced"])
    headline: str = Field(examples=["announced 2023-12-15"])
    evidence_ids: list[str] = Field(examples=[["tm-article-listing"]])
    token_state: str = Field(examples=["none"])
    as_of: date

    @classmethod
    def of(cls, c: Classification) -> StatusOut:
        return cls(
            status=c.status.value,
            rule=c.rule,
            explanation=c.explanation,
            headline=c.headline,
            evidence_ids=list(c.evidence_ids),
            token_state=c.token_state.value,
            as_of=c.at,
        )


class ProjectSummary(Out):
    """A project as it appears on the board."""

    slug: str = Field(examples=["starknet"])
    name: str = Field(examples=["Starknet"])
    sector: str = Field(examples=["layer-2"])
    chains: list[str] = Field(examples=[["ethereum"]])
    narratives: list[str] = Field(examples=[["zk-rollups", "layer-2"]])
    status: StatusOut
    scores: ScoresOut
    raised_usd: float | None = Field(examples=[100000000])
    valuation_usd: float | None = Field(examples=[8000000000])
    investors: list[str] = Field(description="Investor slugs", examples=[["paradigm"]])
    listed: bool = Field(description="Whether the inclusion policy lists it")
    inclusion_reason: str = Field(examples=["tech score 92 ≥ 80"])

    @classmethod
    def of(cls, a: Assessment) -> ProjectSummary:
        p, c = a.project, a.classification
        return cls(
            slug=p.slug,
            name=p.name,
            sector=p.sector,
            chains=list(p.chains),
            narratives=list(p.narratives),
            status=StatusOut.of(c),
            scores=ScoresOut(
                tech=a.tech.value if a.tech else None,
                fundamentals=a.fundamentals.value if a.fundamentals else None,
                fundamentals_method=a.fundamentals.method.value if a.fundamentals else None,
                potential=a.potential.value,
            ),
            raised_usd=usd(a.raised_usd),
            valuation_usd=usd(a.valuation_usd),
            investors=list(p.investor_slugs),
            listed=a.inclusion.listed,
            inclusion_reason=a.inclusion.reason,
        )


class SubScoreOut(Out):
    name: str
    value: float | None
    weight: float
    detail: str


class ScoreOut(Out):
    kind: str = Field(examples=["tech"])
    value: float = Field(examples=[92])
    method: str = Field(examples=["curated"])
    label: str = Field(examples=["tech score"])
    citation: CitationOut | None
    breakdown: list[SubScoreOut]

    @classmethod
    def of(cls, s: Score) -> ScoreOut:
        return cls(
            kind=s.kind.value,
            value=s.value,
            method=s.method.value,
            label=s.label,
            citation=CitationOut.of(s.citation) if s.citation else None,
            breakdown=[
                SubScoreOut(name=b.name, value=b.value, weight=b.weight, detail=b.detail)
                for b in s.breakdown
            ],
        )


class FactorOut(Out):
    factor: str = Field(examples=["tech"])
    value: float | None = Field(description="0–100; null when unknown (counted as 50)")
    weight: float = Field(examples=[0.25])
    contribution: float = Field(examples=[23.0])
    detail: str


class EvidenceOut(Out):
    id: str = Field(examples=["provisions-claim-open"])
    kind: str = Field(examples=["claim_open"])
    occurred_on: date
    public_on: date
    official: bool
    window_end: date | None
    summary: str
    citation: CitationOut

    @classmethod
    def of(cls, e: Evidence) -> EvidenceOut:
        return cls(
            id=e.id,
            kind=e.kind.value,
            occurred_on=e.occurred_on,
            public_on=e.public_on,
            official=e.official,
            window_end=e.window_end,
            summary=e.summary,
            citation=CitationOut.of(e.citation),
        )


class StatusChangeOut(Out):
    effective_on: date = Field(description="When the evidence made it true")
    old: str | None = Field(examples=["confirmed"])
    new: str = Field(examples=["snapshot_taken"])
    rule: str
    evidence_ids: list[str]
    recorded_at: datetime | None = Field(
        description="When dropscope noticed it (null for changes replayed from evidence)"
    )

    @classmethod
    def of(cls, s: StatusChange) -> StatusChangeOut:
        return cls(
            effective_on=s.effective_on,
            old=s.old.value if s.old else None,
            new=s.new.value,
            rule=s.rule,
            evidence_ids=list(s.evidence_ids),
            recorded_at=s.recorded_at,
        )


class InvestorRef(Out):
    slug: str
    name: str


class FundingRoundOut(Out):
    id: str
    round: str = Field(examples=["series-a"])
    announced_on: date | None
    amount_usd: float | None
    amount_qualifier: str | None = Field(examples=["over"])
    valuation_usd: float | None
    lead_investors: list[InvestorRef]
    other_investors: list[InvestorRef]
    note: str | None
    citation: CitationOut

    @classmethod
    def of(cls, r: FundingRound, names: dict[str, str]) -> FundingRoundOut:
        return cls(
            id=r.id,
            round=r.round,
            announced_on=r.announced_on,
            amount_usd=usd(r.amount_usd),
            amount_qualifier=r.amount_qualifier,
            valuation_usd=usd(r.valuation_usd),
            lead_investors=[InvestorRef(slug=s, name=names.get(s, s)) for s in r.lead_investors],
            other_investors=[InvestorRef(slug=s, name=names.get(s, s)) for s in r.other_investors],
            note=r.note,
            citation=CitationOut.of(r.citation),
        )


class ProgrammeOut(Out):
    name: str
    url: str | None
    citation: CitationOut

    @classmethod
    def of(cls, p: Programme | None) -> ProgrammeOut | None:
        return (
            None if p is None else cls(name=p.name, url=p.url, citation=CitationOut.of(p.citation))
        )


class CompetitorOut(Out):
    slug: str
    name: str
    researched: bool = Field(description="True when dropscope has a profile for it")


class TokenOut(Out):
    symbol: str | None = Field(examples=["STRK"])
    coingecko_id: str | None = Field(examples=["starknet"])


class ProjectDetail(ProjectSummary):
    """A project's full profile, every fact with its citation."""

    summary: str
    website: str | None
    official_domains: list[str]
    aliases: list[str]
    token: TokenOut
    testnet: ProgrammeOut | None
    points_program: ProgrammeOut | None
    score_details: list[ScoreOut]
    potential_breakdown: list[FactorOut]
    evidence: list[EvidenceOut]
    status_history: list[StatusChangeOut]
    funding_rounds: list[FundingRoundOut]
    competitors: list[CompetitorOut]
    citation: CitationOut
    sources: dict[str, SourceOut] = Field(description="Every source the profile cites, by id")

    @classmethod
    def of_profile(cls, pr: Profile) -> ProjectDetail:
        a, p = pr.assessment, pr.assessment.project
        names = {s: i.name for s, i in pr.investors.items()}
        cited = {e.citation.source_id for e in p.evidence} | {p.citation.source_id}
        cited |= {r.citation.source_id for r in p.funding_rounds}
        cited |= {s.citation.source_id for s in p.scores if s.citation}
        cited |= {g.citation.source_id for g in (p.testnet, p.points_program) if g}
        return cls(
            **ProjectSummary.of(a).model_dump(),
            summary=p.summary,
            website=p.website,
            official_domains=list(p.official_domains),
            aliases=list(p.aliases),
            token=TokenOut(symbol=p.token.symbol, coingecko_id=p.token.coingecko_id),
            testnet=ProgrammeOut.of(p.testnet),
            points_program=ProgrammeOut.of(p.points_program),
            score_details=[ScoreOut.of(s) for s in (a.tech, a.fundamentals) if s is not None],
            potential_breakdown=[
                FactorOut(
                    factor=f.name,
                    value=f.value,
                    weight=f.weight,
                    contribution=f.contribution,
                    detail=f.detail,
                )
                for f in a.potential.factors
            ],
            evidence=[
                EvidenceOut.of(e) for e in sorted(p.evidence, key=lambda e: (e.known_on, e.id))
            ],
            status_history=[StatusChangeOut.of(h) for h in pr.history],
            funding_rounds=[FundingRoundOut.of(r, names) for r in p.funding_rounds],
            competitors=[
                CompetitorOut(slug=c.slug, name=c.name, researched=c.researched)
                for c in pr.competitors
            ],
            citation=CitationOut.of(p.citation),
            sources={s: SourceOut.of(pr.sources[s]) for s in sorted(cited) if s in pr.sources},
        )
