"""The `dropscope` CLI through Typer's runner, on a fresh SQLite database per test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropscope.cli.app import app

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DROPSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DROPSCOPE_DATA_DIR", str(DATA))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("data", "load", "--quiet").exit_code == 0
    return run


def test_board_table_groups_by_status(run) -> None:  # type: ignore[no-untyped-def]
    r = run("airdrops", "--as-of", "2024-01-05")
    assert r.exit_code == 0, r.output
    assert "loading the curated data first" in r.stderr  # a fresh database seeds itself
    out = r.stdout
    assert out.index("CONFIRMED (5)") < out.index("LIKELY (5)") < out.index("POSSIBLE (6)")
    assert "Starknet" in out
    assert "not financial advice" in out


def test_board_json_lists_slug_name_status_scores(run) -> None:  # type: ignore[no-untyped-def]
    r = run("airdrops", "--as-of", "2024-01-05", "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["count"] == 16
    by_slug = {p["slug"]: p for p in doc["projects"]}
    assert by_slug["starknet"]["status"] == "confirmed"
    assert by_slug["starknet"]["scores"]["tech"] == 92
    assert by_slug["parcl"]["status"] == "likely"
    assert by_slug["parcl"]["scores"]["fundamentals"] == 77
    assert all({"slug", "name", "status", "scores"} <= p.keys() for p in doc["projects"])


def test_board_filters_and_csv(run) -> None:  # type: ignore[no-untyped-def]
    r = run(
        "airdrops",
        "--status",
        "likely,possible",
        "--min-tech",
        "90",
        "--format",
        "csv",
        "--as-of",
        "2024-01-05",
    )
    assert r.exit_code == 0
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("slug,name,status,tech")
    assert {line.split(",")[0] for line in lines[1:]} == {"linea", "eclipse", "taiko"}


def test_today_moves_distributed_projects_on(run) -> None:  # type: ignore[no-untyped-def]
    r = run("airdrops", "--status", "distributed", "--format", "json")
    slugs = {p["slug"] for p in json.loads(r.stdout)["projects"]}
    assert {"starknet", "zksync", "layerzero"} <= slugs


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["airdrops", "--as-of", "2024-13-01"], 2, "--as-of takes a date as YYYY-MM-DD"),
        (["airdrops", "--status", "maybe"], 2, "unknown status 'maybe'"),
        (["airdrops", "--sort", "height"], 2, "cannot sort by 'height'"),
        (["project", "starknt"], 3, "no project 'starknt' (did you mean starknet?)"),
        (["compare", "scroll"], 2, "compare needs at least two projects"),
        (["investors", "nobody"], 3, "no investor 'nobody'"),
    ],
)
def test_errors_are_one_line_with_exit_code(loaded, args, code, message) -> None:  # type: ignore[no-untyped-def]
    r = loaded(*args)
    assert r.exit_code == code
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.output


def test_a_bad_setting_is_one_line_naming_the_variable(
    run, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DROPSCOPE_SIGNUP", "maybe")
    r = run("airdrops")
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: DROPSCOPE_SIGNUP: Input should be 'closed' or 'open'"
    assert "Traceback" not in r.output


def test_project_profile_shows_rule_evidence_and_history(run) -> None:  # type: ignore[no-untyped-def]
    r = run("project", "starknet")
    assert r.exit_code == 0
    for text in (
        "Starknet",
        "DISTRIBUTED",
        "claim_ended",
        "Evidence (timeline)",
        "Status history",
        "Airdrop potential",
        "Paradigm",
        "Polygon zkEVM",
    ):
        assert text in r.stdout, text
    doc = json.loads(run("project", "starknet", "--as-of", "2024-01-05", "-f", "json").stdout)
    assert doc["status"] == "confirmed"
    assert doc["status_rule"] == "announced"
    assert doc["evidence"]
    assert doc["status_history"][-1]["new"] == "confirmed"


def test_compare_history_investors(run) -> None:  # type: ignore[no-untyped-def]
    r = run("compare", "scroll", "linea", "taiko")
    assert r.exit_code == 0
    assert "Scroll" in r.stdout
    assert "Linea" in r.stdout
    h = run("history")
    assert h.exit_code == 0
    assert "Arbitrum" in h.stdout
    assert "Sources" in h.stdout
    assert "derived" in h.stdout
    i = run("investors")
    assert i.exit_code == 0
    assert "Paradigm" in i.stdout
    j = json.loads(run("investors", "gsr", "-f", "json").stdout)
    assert {p["project_slug"] for p in j["investors"][0]["projects"]} >= {"taiko"}


def test_data_validate_and_load(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = run("data", "validate")
    assert ok.exit_code == 0
    assert "OK: 16 projects" in ok.stdout
    first = run("data", "load")
    assert first.exit_code == 0
    assert "projects" in first.stdout
    again = run("data", "load")
    assert "0 record(s) created or updated, 0 status change(s)" in again.stdout
    bad = tmp_path / "bad"
    shutil.copytree(DATA, bad)
    (bad / "projects" / "ten.yaml").write_text("slug: ten\nname: Ten\nsurprise: true\n")
    r = run("data", "validate", "--dir", str(bad))
    assert r.exit_code == 2
    assert "bad/projects/ten.yaml: surprise: Extra inputs are not permitted" in r.stderr
    assert run("data", "load", "--dir", str(bad)).exit_code == 2
