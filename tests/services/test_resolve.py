"""services/resolve.py: names to slugs over the curated data; a miss suggests, never fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dropscope.errors import InvalidInput
from dropscope.services import data as data_service
from dropscope.services.database import Database
from dropscope.services.resolve import resolve
from tests.services.conftest import fresh_database

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with fresh_database("sqlite", tmp_path_factory.mktemp("resolve")) as database:
        data_service.load(database, DATA, datetime(2026, 11, 27, tzinfo=UTC))
        yield database


def matches(db: Database, query: str, **kw: object) -> list[tuple[str, str]]:
    with db.unit_of_work(read_only=True) as uow:
        r = resolve(uow, query, **kw)  # type: ignore[arg-type]
    return [(n.kind, n.slug) for n in r.matches]


def suggestions(db: Database, query: str) -> list[str]:
    with db.unit_of_work(read_only=True) as uow:
        r = resolve(uow, query)
    assert not r.found
    return [n.slug for n in r.suggestions]


def test_exact_slug_name_and_alias_ignoring_case_and_punctuation(db: Database) -> None:
    assert matches(db, "starknet") == [("project", "starknet")]
    assert matches(db, "  STAR-KNET ") == [("project", "starknet")]
    assert matches(db, "Paradigm") == [("investor", "paradigm")]
    assert ("past_airdrop", "arbitrum") in matches(db, "arb")


def test_kinds_narrow_the_search(db: Database) -> None:
    assert matches(db, "zksync", kinds=("past_airdrop",)) == [("past_airdrop", "zksync")]
    assert matches(db, "zksync", kinds=("project",)) == [("project", "zksync")]


def test_a_miss_suggests_close_names(db: Database) -> None:
    assert suggestions(db, "Starkwere")[0] == "starknet"
    assert "movement" in suggestions(db, "movment")
    assert "layerzero" in suggestions(db, "layer zero labs")  # the name inside the query
    assert suggestions(db, "qqqqqqqqq") == []
    assert len(suggestions(db, "ab")) <= 5  # short fragments only by spelling
    assert matches(db, "ZK") == [("past_airdrop", "zksync")]  # the token symbol


def test_an_empty_or_huge_name_is_invalid(db: Database) -> None:
    with db.unit_of_work(read_only=True) as uow, pytest.raises(InvalidInput):
        resolve(uow, "   ")
    with db.unit_of_work(read_only=True) as uow, pytest.raises(InvalidInput):
        resolve(uow, "x" * 201)
