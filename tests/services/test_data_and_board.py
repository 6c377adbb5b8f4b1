"""Loading the curated data and reading the board, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from dropscope.domain.status import AirdropStatus
from dropscope.errors import DataFileError, InvalidInput, NotFound
from dropscope.services import data as data_service
from dropscope.services.board import BoardQuery, board
from dropscope.services.database import Database
from dropscope.services.research import compare, investors, past_airdrops, profile

DATA = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
S = AirdropStatus

ARTICLE = {
    S.CONFIRMED: {"starknet", "peaq", "dymension", "movement", "layerzero"},
    S.LIKELY: {"scroll", "linea", "ten", "avail", "parcl"},
    S.POSSIBLE: {"eclipse", "taiko", "aztec", "zksync", "zetachain", "astria"},
}


@pytest.fixture
def loaded(database: Database) -> Database:
    data_service.load(database, DATA, NOW)
    return database


def sections(db: Database, at: date, **query: object) -> dict[AirdropStatus, set[str]]:
    with db.unit_of_work() as uow:
        b = board(uow, at, BoardQuery(**query))  # type: ignore[arg-type]
    return {status: {a.project.slug for a in items} for status, items in b.grouped()}


def test_board_as_of_2024_01_05_reproduces_the_article(loaded: Database) -> None:
    assert sections(loaded, date(2024, 1, 5)) == ARTICLE


def test_later_public_facts_move_projects_on_today(loaded: Database) -> None:
    today = sections(loaded, NOW.date())
    assert {"starknet", "zksync", "layerzero"} <= today[S.DISTRIBUTED]
    listed = set().union(*today.values())
    assert listed == set().union(*ARTICLE.values())


def test_board_filters_and_sort(loaded: Database) -> None:
    at = date(2024, 1, 5)
    zk = sections(loaded, at, narrative="zk-rollups")
    assert set().union(*zk.values()) >= {"starknet", "scroll", "taiko", "zksync"}
    assert "peaq" not in set().union(*zk.values())
    assert sections(loaded, at, statuses=(S.LIKELY,)) == {S.LIKELY: ARTICLE[S.LIKELY]}
    high = set().union(*sections(loaded, at, min_tech=90).values())
    assert high == {"starknet", "linea", "eclipse", "taiko"}
    with loaded.unit_of_work() as uow:
        by_name = board(uow, at, BoardQuery(sort="name"))
        by_potential = board(uow, at, BoardQuery())
        limited = board(uow, at, BoardQuery(limit=3))
        with pytest.raises(InvalidInput, match="cannot sort by 'height'"):
            board(uow, at, BoardQuery(sort="height"))
    names = [a.project.name.lower() for a in by_name.entries]
    assert names == sorted(names)
    pots = [a.potential.value for a in by_potential.entries]
    assert pots == sorted(pots, reverse=True)
    assert len(limited.entries) == 3


def test_load_is_idempotent(loaded: Database) -> None:
    report = data_service.load(loaded, DATA, NOW)
    assert not report.anything_changed
    assert all(c["created"] == c["updated"] == 0 for c in report.counts.values())


def test_changing_a_file_updates_exactly_that_and_records_the_status(
    loaded: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    path = folder / "projects" / "astria.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["evidence"].append(
        {
            "id": "test-announcement",
            "kind": "announcement",
            "occurred_on": "2026-11-01",
            "public_on": "2026-11-01",
            "summary": "A test announcement.",
            "cite": {"source": "tm-upcoming-airdrops", "as_of": "2026-11-01"},
        }
    )
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    report = data_service.load(loaded, folder, NOW)
    assert report.changed == {"projects": ["astria"]}
    assert [(c.project_slug, c.new) for c in report.status_changes] == [("astria", S.CONFIRMED)]
    with loaded.unit_of_work() as uow:
        recorded = uow.status_changes.for_project("astria")
    assert (recorded[-1].old, recorded[-1].new) == (recorded[-2].new, S.CONFIRMED)
    assert recorded[-1].recorded_at == NOW


def test_a_bad_file_loads_nothing(loaded: Database, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    good = folder / "projects" / "aztec.yaml"
    doc = yaml.safe_load(good.read_text())
    doc["summary"] = "Changed summary that must not be saved."
    good.write_text(yaml.safe_dump(doc, sort_keys=False))
    (folder / "projects" / "zetachain.yaml").write_text("slug: zetachain\nname: 5\nbogus: 1\n")
    with loaded.unit_of_work() as uow:
        before = uow.projects.list_all()
    with pytest.raises(DataFileError) as info:
        data_service.load(loaded, folder, NOW)
    assert any(f.endswith("zetachain.yaml") for f, _, _ in info.value.problems)
    with loaded.unit_of_work() as uow:
        assert uow.projects.list_all() == before


def test_profile_compare_investors_history(loaded: Database) -> None:
    at = NOW.date()
    with loaded.unit_of_work() as uow:
        p = profile(uow, "Starknet", at)
        assert p.assessment.status is S.DISTRIBUTED
        assert [h.new for h in p.history][:2] == [S.CONFIRMED, S.SNAPSHOT_TAKEN]
        assert {c.slug for c in p.competitors} >= {"scroll", "polygon-zkevm"}
        assert p.recorded
        with pytest.raises(NotFound) as info:
            profile(uow, "starknt", at)
        assert info.value.suggestions == ("starknet",)
        both = compare(uow, ["scroll", "linea"], at)
        assert [x.assessment.project.slug for x in both] == ["scroll", "linea"]
        with pytest.raises(InvalidInput):
            compare(uow, ["scroll"], at)
        (gsr,) = investors(uow, at, "GSR")
        assert {b.project_slug for b in gsr.portfolio} >= {"taiko", "zetachain"}
        airdrops, sources = past_airdrops(uow)
    assert {a.slug for a in airdrops} >= {"uniswap", "arbitrum", "starknet-1", "layerzero"}
    for a in airdrops:
        for f in a.figures:
            assert f.citation.source_id in sources
