"""Loading the data files next to projects kept only in the database (made through the API),
on SQLite and PostgreSQL: a file's project may not take a name such a project answers to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dropscope.errors import DataFileError
from dropscope.ingest.curated_schema import ProjectFile
from dropscope.services import data as data_service
from dropscope.services.curation import create_project
from dropscope.services.database import Database
from dropscope.services.resolve import resolve
from tests.impostor import NOW, impostor, plant

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def loaded(database: Database) -> Database:
    data_service.load(database, DATA, NOW)
    return database


def test_a_file_may_not_take_the_name_of_a_project_kept_in_the_database(
    loaded: Database, tmp_path: Path
) -> None:
    with loaded.unit_of_work() as uow:
        doc = ProjectFile.model_validate(impostor(slug="fresh", name="Fresh Chain"))
        create_project(uow, doc, NOW)
        version = uow.meta.data_version()
    files = tmp_path / "data"
    shutil.copytree(DATA, files)
    ten = files / "projects" / "ten.yaml"
    doc_ten = yaml.safe_load(ten.read_text())
    doc_ten["summary"] = "Changed."
    doc_ten["aliases"].append("Fresh-Chain")
    ten.write_text(yaml.safe_dump(doc_ten, sort_keys=False, allow_unicode=True))
    with pytest.raises(DataFileError) as info:
        data_service.load(loaded, files, NOW)
    assert info.value.problems == [
        (
            "data/projects/ten.yaml",
            "aliases[2]",
            "'Fresh-Chain' is already the name of project 'fresh'"
            " (in the database, not in the files)",
        )
    ]
    with loaded.unit_of_work() as uow:
        assert uow.meta.data_version() == version  # nothing written
        assert uow.projects.get("ten").summary != "Changed."  # type: ignore[union-attr]
    pruned = data_service.load(loaded, files, NOW, prune=True)
    assert pruned.pruned == ("fresh",)


def test_a_clash_the_database_already_held_does_not_stop_a_load(loaded: Database) -> None:
    plant(loaded)
    report = data_service.load(loaded, DATA, NOW)
    assert report.not_in_files == ("aaa-fake",)


def test_resolve_puts_the_project_a_name_is_the_slug_of_first(loaded: Database) -> None:
    plant(loaded)
    with loaded.unit_of_work(read_only=True) as uow:
        found = resolve(uow, "Scroll", ("project",))
    assert [n.slug for n in found.matches] == ["scroll", "aaa-fake"]
