"""Any valid project or past airdrop saved and read back is equal to what was saved, and
saving what was read back writes nothing (Hypothesis, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from dropscope.domain.models import (
    Citation,
    Evidence,
    EvidenceKind,
    Figure,
    FigureMetric,
    FundingRound,
    PastAirdrop,
    Programme,
    Project,
    Score,
    ScoreKind,
    ScoreMethod,
    SubScore,
    Token,
)
from dropscope.storage.repositories.past_airdrops import PastAirdropRepository
from dropscope.storage.repositories.projects import ProjectRepository
from tests.factories import REFERENCE_INVESTORS, REFERENCE_SOURCES, SAVED_AT

# PostgreSQL text cannot hold NUL; lone surrogates are not valid UTF-8.
text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
optional_text = st.none() | text
slug = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
day = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
decimal = st.decimals(allow_nan=False, allow_infinity=False)
citation = st.builds(
    Citation,
    source_id=st.sampled_from([s.id for s in REFERENCE_SOURCES]),
    as_of=day,
    quote=optional_text,
)
investor = st.sampled_from([i.slug for i in REFERENCE_INVESTORS])


def tuples(element: st.SearchStrategy, **kwargs: object) -> st.SearchStrategy:
    return st.lists(element, max_size=3, **kwargs).map(tuple)  # type: ignore[arg-type]


sub_score = st.builds(
    SubScore,
    name=text,
    value=st.none() | st.floats(0, 100),
    weight=st.floats(0, 1),
    detail=text,
)
score = st.builds(
    Score,
    kind=st.sampled_from(ScoreKind),
    value=st.floats(0, 100),
    method=st.sampled_from(ScoreMethod),
    label=text,
    citation=st.none() | citation,
    breakdown=tuples(sub_score),
)
funding_round = st.builds(
    FundingRound,
    id=slug,
    round=text,
    citation=citation,
    announced_on=st.none() | day,
    amount_usd=st.none() | decimal,
    amount_qualifier=optional_text,
    valuation_usd=st.none() | decimal,
    lead_investors=tuples(investor),
    other_investors=tuples(investor),
    note=optional_text,
)
evidence = st.builds(
    Evidence,
    id=slug,
    kind=st.sampled_from(EvidenceKind),
    occurred_on=day,
    public_on=day,
    summary=text,
    citation=citation,
    official=st.booleans(),
    window_end=st.none() | day,
)
programme = st.none() | st.builds(Programme, name=text, citation=citation, url=optional_text)
projects = st.builds(
    Project,
    slug=slug,
    name=text,
    summary=text,
    sector=text,
    citation=citation,
    website=optional_text,
    official_domains=tuples(text),
    chains=tuples(text),
    narratives=tuples(text),
    competitors=tuples(slug),
    aliases=tuples(text),
    token=st.builds(Token, symbol=optional_text, coingecko_id=optional_text),
    testnet=programme,
    points_program=programme,
    funding_rounds=tuples(funding_round, unique_by=lambda r: r.id),
    scores=tuples(score),
    evidence=tuples(evidence, unique_by=lambda e: e.id),
)
figure = st.builds(
    Figure,
    metric=st.sampled_from(FigureMetric),
    value=decimal,
    citation=citation,
    qualifier=optional_text,
    derived=st.booleans(),
    formula=optional_text,
    note=optional_text,
)
past_airdrops = st.builds(
    PastAirdrop,
    slug=slug,
    name=text,
    token_symbol=text,
    citation=citation,
    project_slug=st.none() | slug,
    snapshot_on=st.none() | day,
    claim_start=st.none() | day,
    claim_end=st.none() | day,
    figures=tuples(figure),
    notes=tuples(text),
)

EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EXAMPLES
@given(project=projects)
def test_any_project_round_trips(references: Session, project: Project) -> None:
    repo = ProjectRepository(references)
    savepoint = references.begin_nested()
    try:
        assert repo.save(project, SAVED_AT) == "created"
        stored = repo.get(project.slug)
        assert stored == project
        assert repo.save(stored, SAVED_AT) == "unchanged"
    finally:
        savepoint.rollback()


@EXAMPLES
@given(airdrop=past_airdrops)
def test_any_past_airdrop_round_trips(references: Session, airdrop: PastAirdrop) -> None:
    repo = PastAirdropRepository(references)
    savepoint = references.begin_nested()
    try:
        assert repo.save(airdrop, SAVED_AT) == "created"
        stored = repo.get(airdrop.slug)
        assert stored == airdrop
        assert stored is not None
        assert [repr(f.value) for f in stored.figures] == [repr(f.value) for f in airdrop.figures]
        assert repo.save(stored, SAVED_AT) == "unchanged"
    finally:
        savepoint.rollback()
