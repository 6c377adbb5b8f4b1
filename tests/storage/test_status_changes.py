"""StatusChangeRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from dropscope.domain.status import AirdropStatus
from dropscope.errors import Conflict, InvalidInput
from dropscope.storage.repositories.projects import ProjectRepository
from dropscope.storage.repositories.status_changes import StatusChangeRepository
from tests.factories import SAVED_AT, make_project, make_status_change

S = AirdropStatus


@pytest.fixture
def repo(references: Session) -> StatusChangeRepository:
    for slug in ("scroll", "taiko"):
        ProjectRepository(references).save(make_project(slug=slug), SAVED_AT)
    return StatusChangeRepository(references)


def test_history_round_trips_in_the_order_added(repo: StatusChangeRepository) -> None:
    first = make_status_change()
    second = make_status_change(
        effective_on=date(2024, 2, 1),
        old=S.LIKELY,
        new=S.CONFIRMED,
        rule="announcement",
        evidence_ids=("points", "announce"),
        recorded_at=None,
    )
    # a correction noticed later, effective earlier: still the latest
    third = make_status_change(effective_on=date(2024, 1, 15), old=S.CONFIRMED, new=S.LIKELY)
    for change in (first, second, third):
        repo.add(change)
    assert repo.for_project("scroll") == [first, second, third]
    assert repo.for_project("taiko") == []
    assert repo.latest_by_project() == {"scroll": third}
    assert repo.latest("scroll") == third
    assert repo.latest("taiko") is None


def test_latest_by_project(repo: StatusChangeRepository) -> None:
    assert repo.latest_by_project() == {}
    repo.add(make_status_change(project_slug="taiko", new=S.POSSIBLE, evidence_ids=()))
    repo.add(make_status_change())
    repo.add(make_status_change(project_slug="taiko", old=S.POSSIBLE, new=S.RULED_OUT))
    latest = repo.latest_by_project()
    assert latest == {
        "scroll": make_status_change(),
        "taiko": make_status_change(project_slug="taiko", old=S.POSSIBLE, new=S.RULED_OUT),
    }


def test_recorded_at_comes_back_as_the_same_instant_in_utc(repo: StatusChangeRepository) -> None:
    paris = datetime(2024, 7, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2)))
    repo.add(make_status_change(recorded_at=paris))
    (stored,) = repo.for_project("scroll")
    assert stored.recorded_at == paris
    assert stored.recorded_at is not None
    assert stored.recorded_at.tzinfo == UTC
    assert stored.recorded_at.hour == 21


def test_naive_recorded_at_is_refused(repo: StatusChangeRepository) -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        repo.add(make_status_change(recorded_at=datetime(2024, 1, 1, 12)))


def test_unknown_project_is_a_conflict(repo: StatusChangeRepository, references: Session) -> None:
    with pytest.raises(Conflict, match="'nope'"):
        repo.add(make_status_change(project_slug="nope"))
    references.rollback()
    assert repo.latest_by_project() == {}
