"""PastAirdropRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropscope.domain.models import Citation
from dropscope.errors import Conflict
from dropscope.storage.repositories.past_airdrops import PastAirdropRepository
from dropscope.storage.tables import FigureRow, PastAirdropRow
from tests.factories import SAVED_AT, make_figure, make_past_airdrop
from tests.storage.helpers import recorded_sql, row_count, writes


def test_round_trip(references: Session) -> None:
    repo = PastAirdropRepository(references)
    airdrop = make_past_airdrop()
    bare = make_past_airdrop(
        slug="bare",
        project_slug=None,
        snapshot_on=None,
        claim_start=None,
        claim_end=None,
        figures=(),
        notes=(),
    )
    assert repo.save(airdrop, SAVED_AT) == "created"
    assert repo.save(bare, SAVED_AT) == "created"
    assert repo.get(airdrop.slug) == airdrop
    assert repo.get("bare") == bare
    assert repo.get("missing") is None
    stored = repo.get(airdrop.slug)
    assert stored is not None
    assert [repr(f.value) for f in stored.figures] == [repr(f.value) for f in airdrop.figures]


def test_list_is_ordered_by_snapshot_date_undated_last(references: Session) -> None:
    repo = PastAirdropRepository(references)
    for slug, snapshot in (
        ("c", None),
        ("b", date(2024, 3, 1)),
        ("a", date(2022, 1, 1)),
        ("d", date(2024, 3, 1)),
    ):
        repo.save(make_past_airdrop(slug=slug, snapshot_on=snapshot), SAVED_AT)
    assert [a.slug for a in repo.list_all()] == ["a", "b", "d", "c"]


def test_save_again_writes_nothing_and_a_change_is_an_update(references: Session) -> None:
    repo = PastAirdropRepository(references)
    repo.save(make_past_airdrop(), SAVED_AT)
    updated_at = references.scalars(select(PastAirdropRow.updated_at)).one()
    with recorded_sql(references) as statements:
        assert repo.save(make_past_airdrop(), SAVED_AT) == "unchanged"
    assert writes(statements) == []
    assert references.scalars(select(PastAirdropRow.updated_at)).one() == updated_at

    # 1300000 and 1.3E+6 are equal numbers but different published text: an update
    changed = make_past_airdrop(figures=(make_figure(value=Decimal("1.3E+6")),))
    assert repo.save(changed, SAVED_AT) == "updated"
    assert repo.get(changed.slug) == changed
    assert repr(repo.get(changed.slug).figures[0].value) == "Decimal('1.3E+6')"  # type: ignore[union-attr]
    assert row_count(references, FigureRow) == 1


def test_delete(references: Session) -> None:
    repo = PastAirdropRepository(references)
    repo.save(make_past_airdrop(), SAVED_AT)
    assert repo.delete("starknet-strk") is True
    assert repo.delete("starknet-strk") is False
    assert repo.list_all() == []
    assert row_count(references, FigureRow) == 0


def test_unknown_source_is_a_conflict(references: Session) -> None:
    repo = PastAirdropRepository(references)
    broken = make_past_airdrop(
        figures=(make_figure(citation=Citation("nowhere", date(2024, 1, 1))),)
    )
    with pytest.raises(Conflict, match="past airdrop 'starknet-strk'"):
        repo.save(broken, SAVED_AT)
    references.rollback()
    assert repo.list_all() == []


def test_a_change_of_notes_only_is_seen(references: Session) -> None:
    repo = PastAirdropRepository(references)
    airdrop = make_past_airdrop()
    repo.save(airdrop, SAVED_AT)
    changed = replace(airdrop, notes=(*airdrop.notes, "one more"))
    assert repo.save(changed, SAVED_AT) == "updated"
    assert repo.get(airdrop.slug) == changed
