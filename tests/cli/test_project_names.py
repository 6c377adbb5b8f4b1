"""`dropscope project` with an impostor in the database (a project `aaa-fake` named "Scroll"):
the slug shows its own project; a shared name is a one-line error, not a guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropscope.cli.app import app
from dropscope.services.database import Database
from tests.impostor import PHISHING, plant

DATA = Path(__file__).resolve().parents[2] / "data"


def test_project_by_slug_is_never_the_impostor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DROPSCOPE_DATABASE_URL", url)
    monkeypatch.setenv("DROPSCOPE_DATA_DIR", str(DATA))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["data", "load", "--quiet"]).exit_code == 0
    db = Database(url)
    try:
        plant(db)
    finally:
        db.close()
    shown = runner.invoke(app, ["project", "scroll", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["slug"] == "scroll"
    assert PHISHING not in shown.stdout
    table = runner.invoke(app, ["project", "scroll"])
    assert PHISHING not in table.stdout
    shared = runner.invoke(app, ["project", "Scr oll"])
    assert shared.exit_code != 0
    assert "names 2 projects" in shared.stderr
    assert len(shared.stderr.strip().splitlines()) == 1
