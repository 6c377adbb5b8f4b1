"""`project_to_document` is the exact inverse of reading a project file, for every shipped
project file, also after a trip through JSON (the API's document form)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dropscope.domain.models import ScoreKind
from dropscope.ingest.curated import project_from_file, project_to_document
from dropscope.ingest.curated_schema import ProjectFile
from tests.factories import make_project, make_score

PROJECT_FILES = sorted((Path(__file__).resolve().parents[2] / "data" / "projects").glob("*.yaml"))


def read(document: object) -> ProjectFile:
    return ProjectFile.model_validate(document)


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: p.stem)
def test_reading_the_document_of_a_project_gives_it_back(path: Path) -> None:
    file = read(yaml.safe_load(path.read_text(encoding="utf-8")))
    project = project_from_file(file)
    document = project_to_document(project)
    assert list(document) == list(ProjectFile.model_fields)
    assert read(document) == file
    assert project_from_file(read(document)) == project
    through_json = json.loads(json.dumps(document, default=str))
    assert project_from_file(read(through_json)) == project


def test_there_are_project_files() -> None:
    assert len(PROJECT_FILES) >= 16


def test_a_computed_score_has_no_document_form() -> None:
    project = make_project(scores=(make_score(kind=ScoreKind.TECH),))
    with pytest.raises(ValueError, match="tech score is computed"):
        project_to_document(project)
