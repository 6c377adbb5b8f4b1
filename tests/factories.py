"""Typed factories for domain objects in tests.

Each `make_*` returns a complete, valid object (every optional field filled, so a round trip
exercises every column) and takes keyword overrides for any field. They build domain objects
only; saving them is the test's business. The references they cite by default are
`REFERENCE_SOURCES` and `REFERENCE_INVESTORS`.

`make_project_document`, `make_project_file` and `make_evidence_in` build the curated
document form instead (what a data file or an API request body holds); those cite only the
reference sources and investors and the peer of `make_peer()`, and pass every check on DAY.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dropscope.domain.models import (
    Citation,
    Evidence,
    EvidenceKind,
    Figure,
    FigureMetric,
    FundingRound,
    Investor,
    PastAirdrop,
    Peer,
    Programme,
    Project,
    Score,
    ScoreKind,
    ScoreMethod,
    Source,
    SubScore,
    Token,
)
from dropscope.domain.status import AirdropStatus, StatusChange
from dropscope.ingest.curated_schema import EvidenceIn, ProjectFile

DAY = date(2024, 1, 5)
SAVED_AT = datetime(2024, 1, 5, 12, 0, tzinfo=UTC)  # when repositories stamp a saved record


def make_source(**overrides: Any) -> Source:
    source = Source(
        id="article",
        title="Top airdrops to watch",
        publisher="Example Research",
        url="https://example.org/airdrops",
        published_on=DAY,
        note="the list this project started from",
    )
    return replace(source, **overrides)


def make_citation(**overrides: Any) -> Citation:
    return replace(
        Citation(source_id="article", as_of=DAY, quote="“an airdrop is coming”"), **overrides
    )


def make_investor(**overrides: Any) -> Investor:
    investor = Investor(
        slug="paradigm",
        name="Paradigm",
        aliases=("Paradigm Capital",),
        website="https://paradigm.xyz",
    )
    return replace(investor, **overrides)


def make_peer(**overrides: Any) -> Peer:
    peer = Peer(
        slug="arbitrum", name="Arbitrum", aliases=("Arbitrum One",), website="https://arbitrum.io"
    )
    return replace(peer, **overrides)


REFERENCE_SOURCES = (make_source(), make_source(id="blog", title="Team blog", publisher="Team"))
REFERENCE_INVESTORS = (
    make_investor(),
    make_investor(slug="a16z", name="a16z crypto", aliases=(), website=None),
    make_investor(slug="coinbase-ventures", name="Coinbase Ventures", aliases=("CBV",)),
)


def make_evidence(**overrides: Any) -> Evidence:
    evidence = Evidence(
        id="points",
        kind=EvidenceKind.POINTS_PROGRAM,
        occurred_on=date(2023, 11, 1),
        public_on=date(2023, 11, 2),
        summary="Points programme launched",
        citation=make_citation(source_id="blog"),
        official=True,
        window_end=date(2024, 6, 30),
    )
    return replace(evidence, **overrides)


def make_round(**overrides: Any) -> FundingRound:
    funding = FundingRound(
        id="series-a",
        round="series-a",
        citation=make_citation(),
        announced_on=date(2022, 5, 10),
        amount_usd=Decimal("25000000.00"),
        amount_qualifier="over",
        valuation_usd=Decimal("1.5E+9"),
        lead_investors=("paradigm",),
        other_investors=("coinbase-ventures", "a16z"),
        note="with angels",
    )
    return replace(funding, **overrides)


def make_score(**overrides: Any) -> Score:
    score = Score(
        kind=ScoreKind.TECH,
        value=87.5,
        method=ScoreMethod.COMPUTED,
        label="87.5 / 100",
        citation=make_citation(quote=None),
        breakdown=(
            SubScore("activity", 90.0, 0.4, "commits in the last 90 days"),
            SubScore("security", None, 0.6),
        ),
    )
    return replace(score, **overrides)


def make_project(**overrides: Any) -> Project:
    project = Project(
        slug="scroll",
        name="Scroll",
        summary="A zkEVM rollup on Ethereum.",
        sector="layer-2",
        citation=make_citation(),
        website="https://scroll.io",
        official_domains=("scroll.io", "scroll.cat"),
        chains=("ethereum", "scroll"),
        narratives=("zk-rollups", "layer-2"),
        competitors=("arbitrum", "linea"),
        aliases=("Scroll zkEVM",),
        token=Token(symbol="SCR", coingecko_id="scroll"),
        testnet=Programme(
            "Sepolia testnet", make_citation(source_id="blog"), "https://scroll.io/t"
        ),
        points_program=Programme("Scroll Marks", make_citation(), None),
        funding_rounds=(
            make_round(),
            make_round(
                id="seed",
                round="seed",
                amount_usd=None,
                amount_qualifier=None,
                valuation_usd=None,
                lead_investors=(),
                other_investors=("a16z",),
                note=None,
                announced_on=None,
            ),
        ),
        scores=(
            make_score(),
            make_score(
                kind=ScoreKind.FUNDAMENTALS, value=80, method=ScoreMethod.CURATED, breakdown=()
            ),
        ),
        evidence=(
            make_evidence(),
            make_evidence(
                id="rumour",
                kind=EvidenceKind.RUMOUR,
                official=False,
                window_end=None,
                citation=make_citation(quote=None),
            ),
        ),
    )
    return replace(project, **overrides)


def make_figure(**overrides: Any) -> Figure:
    figure = Figure(
        metric=FigureMetric.RECIPIENTS,
        value=Decimal("1300000"),
        citation=make_citation(),
        qualifier="about",
        derived=False,
        formula=None,
        note="after sybil filtering",
    )
    return replace(figure, **overrides)


def make_past_airdrop(**overrides: Any) -> PastAirdrop:
    airdrop = PastAirdrop(
        slug="starknet-strk",
        name="Starknet Provisions",
        token_symbol="STRK",
        citation=make_citation(),
        project_slug="starknet",
        snapshot_on=date(2023, 11, 15),
        claim_start=date(2024, 2, 20),
        claim_end=date(2024, 6, 20),
        figures=(
            make_figure(),
            make_figure(
                metric=FigureMetric.VALUE_PER_RECIPIENT_USD,
                value=Decimal("1234.5600"),
                qualifier=None,
                derived=True,
                formula="value_at_launch_usd / recipients",
                note=None,
            ),
        ),
        notes=("claim via the provisions portal", ""),
    )
    return replace(airdrop, **overrides)


def make_status_change(**overrides: Any) -> StatusChange:
    change = StatusChange(
        project_slug="scroll",
        effective_on=date(2023, 11, 2),
        old=None,
        new=AirdropStatus.LIKELY,
        rule="points_program",
        evidence_ids=("points",),
        recorded_at=datetime(2024, 1, 5, 12, 30, 15, 123456, tzinfo=UTC),
    )
    return replace(change, **overrides)


def make_cite_document(**overrides: Any) -> dict[str, Any]:
    return {"source": "article", "as_of": DAY, "quote": None} | overrides


def make_evidence_document(**overrides: Any) -> dict[str, Any]:
    """A `points_program` item (status likely), official, cited to the team blog."""
    return {
        "id": "points",
        "kind": "points_program",
        "occurred_on": date(2023, 11, 1),
        "public_on": date(2023, 11, 2),
        "official": True,
        "window_end": None,
        "summary": "Points programme launched.",
        "cite": make_cite_document(source="blog", as_of=date(2023, 11, 2)),
    } | overrides


def make_evidence_in(**overrides: Any) -> EvidenceIn:
    return EvidenceIn.model_validate(make_evidence_document(**overrides))


def make_project_document(**overrides: Any) -> dict[str, Any]:
    """Project "nova" as a data file holds it (a fresh dict each call; nested values too)."""
    doc: dict[str, Any] = {
        "slug": "nova",
        "name": "Nova",
        "aliases": ["Nova Chain"],
        "summary": "A test rollup.",
        "sector": "layer-2",
        "website": "https://nova.example",
        "official_domains": ["nova.example"],
        "chains": ["ethereum"],
        "narratives": ["zk-rollups"],
        "competitors": ["arbitrum"],
        "profile_cite": make_cite_document(quote="Nova is a rollup."),
        "token": {"symbol": None, "coingecko_id": None},
        "testnet": {"name": "Nova testnet", "url": None, "cite": make_cite_document(source="blog")},
        "points_program": None,
        "scores": [
            {"kind": "tech", "value": 85.0, "label": "rating", "cite": make_cite_document()}
        ],
        "funding": [
            {
                "id": "seed",
                "round": "seed",
                "announced_on": date(2023, 6, 1),
                "amount_usd": Decimal("10000000"),
                "amount_qualifier": "over",
                "valuation_usd": None,
                "lead_investors": ["paradigm"],
                "other_investors": ["a16z"],
                "note": None,
                "cite": make_cite_document(),
            }
        ],
        "evidence": [make_evidence_document()],
    }
    return doc | overrides


def make_project_file(**overrides: Any) -> ProjectFile:
    return ProjectFile.model_validate(make_project_document(**overrides))
