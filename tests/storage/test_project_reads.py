"""How projects and past airdrops are read: plain rows grouped per project, on SQLite and
PostgreSQL. Reads build domain objects straight from column values, create no ORM objects,
and always see what was last written in the session."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from dropscope.domain.models import EvidenceKind, Project, Token
from dropscope.storage.repositories._common import enum_members
from dropscope.storage.repositories.past_airdrops import PastAirdropRepository
from dropscope.storage.repositories.projects import ProjectRepository
from dropscope.storage.tables import EvidenceRow
from tests.factories import SAVED_AT, make_evidence, make_past_airdrop, make_project, make_round


def distinct(slug: str, n: int) -> Project:
    """A project whose child rows differ from every other project's."""
    return make_project(
        slug=slug,
        name=f"Project {n}",
        chains=tuple(f"{slug}-chain-{i}" for i in range(n)),
        narratives=(f"{slug}-narrative",),
        competitors=() if n % 2 else (f"{slug}-rival",),
        token=Token(symbol=f"T{n}", coingecko_id=None),
        testnet=None if n % 2 else make_project().testnet,
        points_program=make_project().points_program if n % 2 else None,
        funding_rounds=tuple(
            make_round(
                id=f"r{i}",
                lead_investors=("paradigm",) if i % 2 else (),
                other_investors=("a16z", "coinbase-ventures")[: i + 1],
            )
            for i in range(n)
        ),
        evidence=tuple(make_evidence(id=f"{slug}-e{i}") for i in range(n)),
        scores=make_project().scores[: n % 3],
    )


def test_each_project_gets_exactly_its_own_child_rows(references: Session) -> None:
    repo = ProjectRepository(references)
    projects = [distinct(s, n) for n, s in enumerate(("m", "b", "z", "a", "k"))]
    for p in projects:
        repo.save(p, SAVED_AT)
    assert repo.list_all() == sorted(projects, key=lambda p: p.slug)
    for p in projects:
        assert repo.get(p.slug) == p


def test_reads_load_no_orm_objects(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(), SAVED_AT)
    airdrops = PastAirdropRepository(references)
    airdrops.save(make_past_airdrop(), SAVED_AT)
    loaded: list[object] = []

    def record(session: Session, instance: object) -> None:
        loaded.append(instance)

    event.listen(references, "loaded_as_persistent", record)
    try:
        assert repo.list_all() == [make_project()]
        assert repo.get("scroll") == make_project()
        assert airdrops.list_all() == [make_past_airdrop()]
        assert airdrops.get(make_past_airdrop().slug) == make_past_airdrop()
    finally:
        event.remove(references, "loaded_as_persistent", record)
    assert loaded == []


def test_reads_see_later_writes_in_the_same_session(references: Session) -> None:
    repo = ProjectRepository(references)
    repo.save(make_project(), SAVED_AT)
    assert repo.list_all() == [make_project()]
    changed = make_project(summary="changed", chains=("ethereum",))
    repo.save(changed, SAVED_AT)
    assert repo.list_all() == [changed]
    references.execute(update(EvidenceRow).values(summary="rewritten"))
    stored = repo.get("scroll")
    assert stored is not None
    assert {e.summary for e in stored.evidence} == {"rewritten"}
    assert stored == replace(
        changed, evidence=tuple(replace(e, summary="rewritten") for e in changed.evidence)
    )


def test_enum_members_is_the_enum_call() -> None:
    members = enum_members(EvidenceKind)
    assert all(members[k.value] is EvidenceKind(k.value) for k in EvidenceKind)
    with pytest.raises(ValueError, match="not a valid EvidenceKind"):
        members["no-such-kind"]
