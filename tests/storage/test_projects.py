"""ProjectRepository on SQLite and PostgreSQL: round trips, idempotent saves, filters, deletes,
constraint errors and the number of queries a full load takes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropscope.domain.models import Citation, Evidence, EvidenceKind, Project, Token
from dropscope.errors import Conflict
from dropscope.storage.repositories.projects import ProjectRepository
from dropscope.storage.repositories.status_changes import StatusChangeRepository
from dropscope.storage.tables import (
    EvidenceRow,
    FundingRoundInvestorRow,
    FundingRoundRow,
    ProgrammeRow,
    ProjectChainRow,
    ProjectRow,
    ScoreRow,
)
from tests.factories import SAVED_AT, make_evidence, make_project, make_round, make_status_change
from tests.storage.helpers import recorded_sql, row_count, writes

CHILD_TABLES = (
    ProjectChainRow,
    ProgrammeRow,
    FundingRoundRow,
    FundingRoundInvestorRow,
    ScoreRow,
    EvidenceRow,
)


def minimal(**overrides: Any) -> Project:
    """A project with every optional field empty or None."""
    project = Project(
        slug="bare",
        name="Bare",
        summary="",
        sector="defi",
        citation=Citation(source_id="article", as_of=date(2024, 1, 1)),
    )
    return replace(project, **overrides)


def test_full_project_round_trips(references: Session) -> None:
    repo = ProjectRepository(references)
    project = make_project()
    assert repo.save(project, SAVED_AT) == "created"
    stored = repo.get("scroll")
    assert stored == project
    # Decimals keep their exact digits and exponent (repr shows them; == would not)
    assert [(repr(r.amount_usd), repr(r.valuation_usd)) for r in stored.funding_rounds] == [
        (repr(r.amount_usd), repr(r.valuation_usd)) for r in project.funding_rounds
    ]
    assert (
        repo.save(stored, SAVED_AT) == "unchanged"
    )  # a project read back hashes like the one saved


def test_empty_and_none_round_trip_as_given(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(minimal(), SAVED_AT)
    repo.save(
        minimal(slug="empty-strings", website="", aliases=("",), token=Token("", None)), SAVED_AT
    )
    assert repo.get("bare") == minimal()
    assert repo.get("empty-strings") == minimal(
        slug="empty-strings", website="", aliases=("",), token=Token("", None)
    )


def test_list_order_is_kept(references: Session) -> None:
    repo = ProjectRepository(references)
    evidence = tuple(make_evidence(id=f"e{i}") for i in (3, 1, 2, 10))
    project = make_project(
        chains=("zz", "aa", "mm", "aa"),
        narratives=("b", "a"),
        competitors=("z", "a"),
        evidence=evidence,
        funding_rounds=(
            make_round(id="b", lead_investors=("coinbase-ventures", "paradigm")),
            make_round(id="a", other_investors=("a16z", "paradigm", "coinbase-ventures")),
        ),
    )
    repo.save(project, SAVED_AT)
    assert repo.get(project.slug) == project


def test_get_unknown_is_none(session: Session) -> None:
    assert ProjectRepository(session).get("nope") is None
    assert ProjectRepository(session).list_all() == []


def test_saving_the_same_project_again_writes_nothing(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(), SAVED_AT)
    before = references.scalars(select(ProjectRow.updated_at)).one()
    counts = [row_count(references, t) for t in CHILD_TABLES]
    with recorded_sql(references) as statements:
        assert repo.save(make_project(), SAVED_AT) == "unchanged"
    assert writes(statements) == []
    assert len(statements) == 1
    assert references.scalars(select(ProjectRow.updated_at)).one() == before
    assert [row_count(references, t) for t in CHILD_TABLES] == counts


def test_a_changed_field_updates_exactly_that(references: Session) -> None:
    repo = ProjectRepository(references)
    original = make_project()
    repo.save(original, SAVED_AT)
    created_at, updated_at = references.execute(
        select(ProjectRow.created_at, ProjectRow.updated_at)
    ).one()
    changed_round = replace(original.funding_rounds[0], amount_usd=Decimal("30000000"))
    changed = replace(original, funding_rounds=(changed_round, *original.funding_rounds[1:]))
    assert repo.save(changed, SAVED_AT) == "updated"
    assert repo.get("scroll") == changed
    assert repo.get("scroll") != original
    now_created, now_updated = references.execute(
        select(ProjectRow.created_at, ProjectRow.updated_at)
    ).one()
    assert now_created == created_at
    assert now_updated >= updated_at
    assert now_updated.utcoffset() is not None


def test_an_update_replaces_child_rows(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(), SAVED_AT)
    fewer = make_project(
        evidence=(make_evidence(id="only", kind=EvidenceKind.ANNOUNCEMENT),),
        funding_rounds=(),
        testnet=None,
        chains=(),
    )
    assert repo.save(fewer, SAVED_AT) == "updated"
    assert repo.get("scroll") == fewer
    assert row_count(references, EvidenceRow) == 1
    assert row_count(references, FundingRoundRow) == 0
    assert row_count(references, FundingRoundInvestorRow) == 0
    assert row_count(references, ProgrammeRow) == 1


def test_update_keeps_the_status_history(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(), SAVED_AT)
    StatusChangeRepository(references).add(make_status_change())
    repo.save(make_project(summary="new summary"), SAVED_AT)
    assert StatusChangeRepository(references).for_project("scroll") == [make_status_change()]


def test_list_all_returns_complete_projects_by_slug(references: Session) -> None:
    repo = ProjectRepository(references)
    projects = [make_project(slug=s) for s in ("taiko", "aztec", "scroll")] + [minimal()]
    for p in projects:
        repo.save(p, SAVED_AT)
    assert repo.list_all() == sorted(projects, key=lambda p: p.slug)
    assert repo.slugs() == ["aztec", "bare", "scroll", "taiko"]


def test_loading_all_projects_takes_a_fixed_number_of_queries(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(slug="p0"), SAVED_AT)
    with recorded_sql(references) as few:
        repo.list_all()
    for i in range(1, 8):
        repo.save(make_project(slug=f"p{i}"), SAVED_AT)
    with recorded_sql(references) as many:
        assert len(repo.list_all()) == 8
    assert len(many) == len(few) <= 10


def test_slugs_matching_filters_by_narrative_and_chain(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(slug="a", narratives=("zk", "l2"), chains=("ethereum",)), SAVED_AT)
    repo.save(make_project(slug="b", narratives=("zk",), chains=("solana", "solana")), SAVED_AT)
    repo.save(make_project(slug="c", narratives=(), chains=("ethereum",)), SAVED_AT)
    assert repo.slugs_matching() == ["a", "b", "c"]
    assert repo.slugs_matching(narrative="zk") == ["a", "b"]
    assert repo.slugs_matching(chain="ethereum") == ["a", "c"]
    assert repo.slugs_matching(chain="solana") == ["b"]
    assert repo.slugs_matching(narrative="zk", chain="ethereum") == ["a"]
    assert repo.slugs_matching(narrative="ZK") == []
    assert repo.slugs_matching(narrative="l2", chain="solana") == []


def test_delete_removes_the_project_and_everything_under_it(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(), SAVED_AT)
    repo.save(make_project(slug="other"), SAVED_AT)
    StatusChangeRepository(references).add(make_status_change())
    assert repo.delete("scroll") is True
    assert repo.delete("scroll") is False
    assert repo.get("scroll") is None
    assert StatusChangeRepository(references).for_project("scroll") == []
    assert repo.slugs() == ["other"]
    assert row_count(references, EvidenceRow) == len(make_project().evidence)
    assert repo.save(make_project(), SAVED_AT) == "created"


@pytest.mark.parametrize(
    "project",
    [
        pytest.param(
            make_project(citation=Citation("no-such-source", date(2024, 1, 1))), id="project"
        ),
        pytest.param(
            make_project(evidence=(make_evidence(citation=Citation("missing", date(2024, 1, 1))),)),
            id="evidence",
        ),
        pytest.param(
            make_project(funding_rounds=(make_round(lead_investors=("nobody",)),)), id="investor"
        ),
        pytest.param(make_project(evidence=(make_evidence(), make_evidence())), id="duplicate-id"),
    ],
)
def test_a_broken_reference_is_a_conflict_and_rollback_leaves_nothing(
    references: Session, project: Project
) -> None:
    repo = ProjectRepository(references)
    with pytest.raises(Conflict, match="cannot save project 'scroll'"):
        repo.save(project, SAVED_AT)
    references.rollback()
    assert repo.slugs() == []
    assert row_count(references, EvidenceRow) == 0
    assert row_count(references, ProjectChainRow) == 0


def test_a_failed_update_leaves_the_stored_project_after_rollback(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(), SAVED_AT)
    references.commit()  # releases the test's savepoint; the fixture still rolls back
    broken = make_project(summary="changed", evidence=(make_evidence(), make_evidence()))
    with pytest.raises(Conflict):
        repo.save(broken, SAVED_AT)
    references.rollback()
    assert repo.get("scroll") == make_project()


def test_evidence_kinds_and_dates_round_trip(references: Session) -> None:
    repo = ProjectRepository(references)
    evidence = tuple(
        Evidence(
            id=kind.value,
            kind=kind,
            occurred_on=date(2020 + i % 5, 1 + i, 28),
            public_on=date(2021, 12, 31),
            summary=f"{kind.value} ✓",
            citation=Citation("blog", date(2022, 2, 2), quote="«quoted»"),
            official=i % 2 == 0,
            window_end=None if i % 3 else date(2030, 1, 1),
        )
        for i, kind in enumerate(EvidenceKind)
    )
    repo.save(make_project(evidence=evidence), SAVED_AT)
    assert repo.get("scroll") == make_project(evidence=evidence)
