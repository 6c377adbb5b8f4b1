"""The pure parts of ingestion: precedence and merging, matching, the tech formula, sanity
checks and timestamps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dropscope.domain.ingested import (
    AbsurdValue,
    Provenance,
    RepoMetrics,
    SourceName,
    check_amount,
    check_day,
    epoch_to_datetime,
)
from dropscope.domain.matching import InvestorIndex, ProjectIndex, on_domain, url_host
from dropscope.domain.merge import (
    IngestedFacts,
    ProfileClaim,
    ingested_part,
    merge_project,
    prefer_ingested,
)
from dropscope.domain.models import Citation, EvidenceKind, ScoreKind, ScoreMethod, Token
from dropscope.domain.tech import (
    activity_subscore,
    collaboration_subscore,
    computed_tech,
    repository_subscore,
)
from tests.factories import make_evidence, make_investor, make_project, make_round, make_score

DAY = date(2026, 11, 27)
AIRDROPS = SourceName.DEFILLAMA_AIRDROPS.value


def ingested_claim(**overrides: object):  # type: ignore[no-untyped-def]
    e = make_evidence(
        id="defillama-airdrop-scroll",
        kind=EvidenceKind.CLAIM_OPEN,
        occurred_on=date(2024, 10, 22),
        public_on=date(2024, 10, 22),
        citation=Citation(AIRDROPS, DAY),
        official=True,
        window_end=date(2025, 1, 20),
    )
    return replace(e, **overrides)


def curated_claim(**overrides: object):  # type: ignore[no-untyped-def]
    e = make_evidence(
        id="claim",
        kind=EvidenceKind.CLAIM_OPEN,
        occurred_on=date(2024, 10, 22),
        window_end=None,
        citation=Citation("blog", date(2024, 10, 21)),
    )
    return replace(e, **overrides)


def test_the_precedence_rule() -> None:
    assert prefer_ingested(date(2024, 1, 1), date(2024, 1, 2), official=True)
    assert not prefer_ingested(date(2024, 1, 1), date(2024, 1, 2), official=False)
    assert not prefer_ingested(date(2024, 1, 2), date(2024, 1, 2), official=True)


def test_a_claim_window_end_completes_a_curated_claim() -> None:
    p = make_project(evidence=(curated_claim(),))
    merged = merge_project(p, IngestedFacts(evidence=(ingested_claim(),)))
    assert [e.id for e in merged.project.evidence] == ["claim", "defillama-airdrop-scroll"]
    assert merged.conflicts == ()


def test_a_different_window_end_is_a_conflict_won_by_official_newer_values() -> None:
    p = make_project(evidence=(curated_claim(window_end=date(2025, 1, 3)),))
    urls = {"evidence:defillama-airdrop-scroll": "https://claim.scroll.io"}
    won = merge_project(p, IngestedFacts(evidence=(ingested_claim(),), urls=urls))
    (c,) = won.conflicts
    assert (c.field, c.curated, c.ingested, c.resolution) == (
        "claim window end",
        "2025-01-03",
        "2025-01-20",
        "ingested",
    )
    assert c.source_url == "https://claim.scroll.io"
    assert [e.id for e in won.project.evidence] == ["defillama-airdrop-scroll"]
    lost = merge_project(p, IngestedFacts(evidence=(ingested_claim(official=False),)))
    assert lost.conflicts[0].resolution == "curated"
    assert [e.id for e in lost.project.evidence] == ["claim"]


def test_ingested_dates_never_move_later() -> None:
    p = make_project(evidence=(ingested_claim(public_on=date(2024, 10, 20)),))
    later = ingested_claim(
        public_on=date(2024, 10, 25), citation=Citation(AIRDROPS, DAY + timedelta(3))
    )
    (e,) = merge_project(p, IngestedFacts(evidence=(later,))).project.evidence
    assert e.public_on == date(2024, 10, 20)
    assert e.citation.as_of == DAY


def test_rounds_matching_curated_ones_are_not_added_and_disagreements_kept() -> None:
    curated = make_round(id="a", round="series-a", announced_on=date(2022, 5, 10))
    p = make_project(funding_rounds=(curated,))
    same = make_round(
        id="defillama-2022-05-20-series-a",
        announced_on=date(2022, 5, 20),
        amount_usd=Decimal(30_000_000),
        citation=Citation("defillama-raises", date(2022, 5, 20)),
    )
    other = replace(
        same, id="defillama-2023-01-01-seed", round="seed", announced_on=date(2023, 1, 1)
    )
    merged = merge_project(p, IngestedFacts(funding_rounds=(same, other)))
    assert [r.id for r in merged.project.funding_rounds] == ["a", "defillama-2023-01-01-seed"]
    (c,) = merged.conflicts
    assert (c.field, c.curated, c.ingested) == (
        "funding series-a amount",
        "25000000.00",
        "30000000",
    )
    # an undated curated round of the same amount is the same round, whatever its name
    undated = make_round(
        id="u", round="unspecified", announced_on=None, amount_usd=Decimal("120e6")
    )
    q = make_project(funding_rounds=(undated,))
    series_b = replace(same, round="series-b", amount_usd=Decimal("120000000"))
    assert merge_project(q, IngestedFacts(funding_rounds=(series_b,))).project == q


def test_a_computed_tech_score_never_replaces_a_published_one() -> None:
    computed = make_score(citation=Citation("github", DAY))
    published = make_score(method=ScoreMethod.CURATED, value=92, breakdown=())
    p = make_project(scores=(published,))
    assert merge_project(p, IngestedFacts(tech=computed)).project.scores == (published,)
    q = make_project(scores=())
    assert merge_project(q, IngestedFacts(tech=computed)).project.score(ScoreKind.TECH) == computed


def test_profile_fields_fill_gaps_and_conflicts_are_kept() -> None:
    p = make_project(website=None, chains=(), token=Token("SCR", None))
    claims = tuple(
        ProfileClaim(field, value, "defillama-protocols", "https://api.llama.fi/protocols", DAY)
        for field, value in (
            ("website", "https://scroll.io"),
            ("chains", ("Ethereum", "Scroll")),
            ("token_symbol", "SCROLL"),
            ("token_coingecko_id", "scroll"),
        )
    )
    merged = merge_project(p, IngestedFacts(profile=claims))
    assert merged.project.website == "https://scroll.io"
    assert merged.project.chains == ("ethereum", "scroll")
    assert merged.project.token == Token("SCR", "scroll")
    assert [(c.field, c.resolution) for c in merged.conflicts] == [("token symbol", "curated")]


@given(
    window=st.none() | st.dates(date(2024, 1, 1), date(2026, 1, 1)),
    official=st.booleans(),
    curated_end=st.none() | st.dates(date(2024, 1, 1), date(2026, 1, 1)),
)
def test_merging_is_idempotent(window, official, curated_end) -> None:  # type: ignore[no-untyped-def]
    p = make_project(evidence=(curated_claim(window_end=curated_end),))
    facts = IngestedFacts(evidence=(ingested_claim(window_end=window, official=official),))
    once = merge_project(p, facts).project
    assert merge_project(once, facts).project == once
    # and merging the ingested part back into the curated project gives the same result
    assert merge_project(p, ingested_part(once)).project == once


def test_matching_projects_by_id_slug_website_and_name() -> None:
    scroll = make_project()
    taiko = make_project(
        slug="taiko",
        name="Taiko",
        aliases=("Tyco",),
        website="https://taiko.xyz",
        official_domains=("taiko.xyz",),
        token=Token("TAIKO", None),
    )
    index = ProjectIndex([scroll, taiko])
    assert index.match(coingecko_id="scroll").how == "coingecko-id"  # type: ignore[union-attr]
    assert index.match(slugs=("taiko",)).how == "slug"  # type: ignore[union-attr]
    assert index.match(url="https://www.taiko.xyz/").slug == "taiko"  # type: ignore[union-attr]
    assert index.match(names=("TYCO",)).slug == "taiko"  # type: ignore[union-attr]
    assert index.match(url="https://claim.taiko.xyz") is None  # subdomains: no listing match
    assert index.match(names=("Scroll Inu",)) is None
    assert url_host("HTTPS://WWW.Scroll.io/x") == "scroll.io"
    assert on_domain("https://claim.taiko.xyz/a", ["taiko.xyz"])
    assert not on_domain("https://taiko.xyz.evil.io", ["taiko.xyz"])


def test_investor_names_resolve_through_aliases_and_create_the_unknown() -> None:
    index = InvestorIndex(
        [make_investor(), make_investor(slug="a16z", name="a16z crypto", aliases=("A16Z Crypto",))]
    )
    assert index.resolve_all(
        ["Paradigm Capital", "paradigm ", "A16Z crypto", "New Fund", "new-fund"]
    ) == (
        "paradigm",
        "a16z",
        "new-fund",
    )
    assert index.created["new-fund"].name == "New Fund"
    assert index.resolve_all(["Paradigm", "Other"], exclude=("paradigm",)) == ("other",)


def _repo(**overrides: object) -> RepoMetrics:
    m = RepoMetrics(
        repo="o/r",
        provenance=Provenance(
            SourceName.GITHUB,
            "https://api.github.com/repos/o/r",
            datetime(2026, 11, 27, tzinfo=UTC),
        ),
        stars=1000,
        forks=250,
        open_issues=10,
        pushed_at=datetime(2026, 11, 20, tzinfo=UTC),
        weekly_commits=(2,) * 50,
        contributors=30,
    )
    return replace(m, **overrides)  # type: ignore[arg-type]


def test_the_tech_formula() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    assert activity_subscore(1000, now, now) == 100.0
    assert activity_subscore(100, now, now) == 66.8  # log10(101) / log10(1001)
    assert activity_subscore(100, now - timedelta(days=197.5), now) == 33.4  # half-way stale
    assert activity_subscore(100, now - timedelta(days=400), now) == 0.0
    assert repository_subscore(19998, 1) == 100.0
    assert repository_subscore(10_000, 0, archived=True) == 0.0
    assert collaboration_subscore(10) == 50.0
    assert collaboration_subscore(30) == 87.5
    score = computed_tech(_repo(), now)
    assert score is not None
    assert [s.name for s in score.breakdown] == ["activity", "repository", "collaboration"]
    assert [s.value for s in score.breakdown] == [66.8, 73.9, 87.5]
    assert score.value == round(0.4 * 66.8 + 0.3 * 73.9 + 0.3 * 87.5, 1)
    assert score.citation == Citation("github", date(2026, 11, 27))
    unknown = computed_tech(_repo(weekly_commits=None, contributors=None), now)
    assert unknown is None  # only one sub-score known


def test_sanity_checks_and_timestamps() -> None:
    assert check_amount("amount", Decimal(5)) == Decimal(5)
    with pytest.raises(AbsurdValue, match="amount: -1 is not a valid amount"):
        check_amount("amount", Decimal(-1))
    with pytest.raises(AbsurdValue, match="implausibly large"):
        check_amount("amount", Decimal("1e14"))
    with pytest.raises(AbsurdValue, match="2099-01-01 is in the future"):
        check_day("date", date(2099, 1, 1), DAY)
    with pytest.raises(AbsurdValue, match="before 2009"):
        check_day("date", date(1999, 1, 1), DAY)
    seconds = epoch_to_datetime("t", 1717545600)
    millis = epoch_to_datetime("t", 1717545600000)
    assert seconds == millis == datetime(2024, 6, 5, tzinfo=UTC)
    with pytest.raises(AbsurdValue):
        epoch_to_datetime("t", -5)
