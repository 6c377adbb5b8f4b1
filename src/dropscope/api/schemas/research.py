"""Past airdrops, investors and narratives."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from dropscope.api.schemas.common import CitationOut, Out
from dropscope.domain.models import Figure, PastAirdrop
from dropscope.services.research import InvestorView


class FigureOut(Out):
    metric: str = Field(examples=["recipients"])
    value: float = Field(examples=[625143])
    qualifier: str | None = Field(examples=["about"])
    derived: bool = Field(description="Computed by dropscope from other figures, not published")
    formula: str | None = Field(examples=["tokens_distributed ÷ recipients"])
    note: str | None
    citation: CitationOut

    @classmethod
    def of(cls, f: Figure) -> FigureOut:
        return cls(
            metric=f.metric.value,
            value=float(f.value),
            qualifier=f.qualifier,
            derived=f.derived,
            formula=f.formula,
            note=f.note,
            citation=CitationOut.of(f.citation),
        )


class PastAirdropOut(Out):
    slug: str = Field(examples=["arbitrum"])
    name: str = Field(examples=["Arbitrum airdrop"])
    token_symbol: str = Field(examples=["ARB"])
    project: str | None = Field(description="Slug of the researched project, if any")
    snapshot_on: date | None
    claim_start: date | None
    claim_end: date | None
    figures: list[FigureOut]
    notes: list[str]
    citation: CitationOut

    @classmethod
    def of(cls, a: PastAirdrop) -> PastAirdropOut:
        return cls(
            slug=a.slug,
            name=a.name,
            token_symbol=a.token_symbol,
            project=a.project_slug,
            snapshot_on=a.snapshot_on,
            claim_start=a.claim_start,
            claim_end=a.claim_end,
            figures=[FigureOut.of(f) for f in a.figures],
            notes=list(a.notes),
            citation=CitationOut.of(a.citation),
        )


class BackingOut(Out):
    project: str = Field(examples=["taiko"])
    name: str = Field(examples=["Taiko"])
    status: str = Field(examples=["confirmed"])
    lead: bool
    rounds: list[str] = Field(examples=[["total"]])


class InvestorOut(Out):
    slug: str = Field(examples=["paradigm"])
    name: str = Field(examples=["Paradigm"])
    aliases: list[str]
    website: str | None
    project_count: int
    airdropped: int = Field(description="Backed projects whose airdrop reached confirmed or later")
    portfolio: list[BackingOut]

    @classmethod
    def of(cls, v: InvestorView) -> InvestorOut:
        return cls(
            slug=v.investor.slug,
            name=v.investor.name,
            aliases=list(v.investor.aliases),
            website=v.investor.website,
            project_count=len(v.portfolio),
            airdropped=v.airdropped,
            portfolio=[
                BackingOut(
                    project=b.project_slug,
                    name=b.project_name,
                    status=b.status.value,
                    lead=b.lead,
                    rounds=list(b.rounds),
                )
                for b in v.portfolio
            ],
        )


class NarrativeOut(Out):
    slug: str = Field(examples=["zk-rollups"])
    project_count: int = Field(examples=[6])
    heat: float = Field(description="Share of projects relative to the most shared narrative")
    projects: list[str] = Field(examples=[["starknet", "scroll"]])
    statuses: dict[str, int] = Field(examples=[{"confirmed": 1, "distributed": 3}])
