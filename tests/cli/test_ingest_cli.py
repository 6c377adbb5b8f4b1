"""`dropscope ingest` end to end: the CLI against a local fixture server on 127.0.0.1, and a
real subprocess killed with SIGKILL in the middle of a run, then re-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dropscope.cli.app import app
from tests.conftest import ENGINES, empty_database
from tests.ingest.fixture_http import Answer, FixtureServer

DATA = Path(__file__).resolve().parents[2] / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer().running() as s:
        yield s


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FixtureServer):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DROPSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DROPSCOPE_DATA_DIR", str(DATA))
    monkeypatch.setenv("DROPSCOPE_INGEST_MAX_RETRIES", "1")
    monkeypatch.setenv("COLUMNS", "200")
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_ingest_prints_progress_and_a_summary_table(run) -> None:  # type: ignore[no-untyped-def]
    r = run("ingest")
    assert r.exit_code == 0, r.output
    out = r.stdout
    for header in ("Source", "New", "Updated", "Unchanged", "Conflicts", "Errors"):
        assert header in out
    assert "defillama-airdrops" in out
    assert "status taiko: confirmed → distributed" in out
    assert "defillama-protocols" in r.stderr  # the progress bars
    taiko = json.loads(run("project", "taiko", "--format", "json").stdout)
    assert taiko["status"] == "distributed"
    assert {v["part"] for v in taiko["last_verified"]} == {
        "profile",
        "funding",
        "airdrop",
        "token",
        "tech",
    }
    assert taiko["repository"]["repo"] == "taikoxyz/taiko-mono"
    again = run("ingest", "--format", "json")
    doc = json.loads(again.stdout)
    assert [s["state"] for s in doc["sources"]] == ["ok"] * 5
    assert all(s["new"] == 0 and s["updated"] == 0 for s in doc["sources"])


def test_dry_run_and_source_selection(run) -> None:  # type: ignore[no-untyped-def]
    r = run("ingest", "--dry-run", "--source", "defillama", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["dry_run"] is True
    assert doc["run_id"] is None
    assert [s["source"] for s in doc["sources"]] == [
        "defillama-protocols",
        "defillama-raises",
        "defillama-airdrops",
    ]
    changes = [c for s in doc["sources"] for c in s["status_changes"]]
    assert {c["project"] for c in changes} == {"taiko", "scroll"}
    board = run("project", "taiko", "--format", "json")
    assert json.loads(board.stdout)["status"] == "confirmed"  # nothing was written
    bad = run("ingest", "--source", "coingeko")
    assert bad.exit_code == 2
    assert "unknown source 'coingeko' (did you mean coingecko?)" in bad.stderr


def test_a_failing_source_gives_an_error_row_and_exit_code_1(run, server) -> None:  # type: ignore[no-untyped-def]
    server.router.override("coingecko/coins_markets.json", Answer(500, "<html>oops</html>"))
    r = run("ingest", "--source", "coingecko,github")
    assert r.exit_code == 1
    assert "error coingecko:" in r.stdout
    assert "HTTP 500" in r.stdout


def test_watch_runs_again_and_record_writes_fixtures(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "recorded"
    r = run(
        "ingest",
        "-s",
        "defillama-airdrops",
        "--watch",
        "--every",
        "0s",
        "--runs",
        "2",
        "--record",
        str(folder),
        "-f",
        "json",
    )
    assert r.exit_code == 0, r.output
    docs = [json.loads(part) for part in r.stdout.replace("}\n{", "}\x00{").split("\x00")]
    assert len(docs) == 2
    assert docs[1]["sources"][0]["not_modified"] is True  # Last-Modified sent back → 304
    recorded = folder / "defillama-airdrops" / "config.json"
    assert json.loads(recorded.read_text())["taiko"]["page"] == "https://claim.taiko.xyz"
    assert run("ingest", "--every", "soon").exit_code == 2


# --- kill -9 in the middle of a run, then re-run ----------------------------------------

_KEYS = {
    "evidence": ("project_slug", "id"),
    "funding_rounds": ("project_slug", "id"),
    "funding_round_investors": ("project_slug", "round_id", "role", "position"),
    "investors": ("slug",),
    "ingest_listings": ("source", "key"),
    "token_markets": ("coingecko_id", "observed_on"),
    "repo_metrics": ("project_slug",),
    "ingest_conflicts": ("project_slug", "field", "source_id", "ingested"),
    "status_changes": ("project_slug", "old", "new", "rule", "effective_on"),
}


def _ingest(url: str, server: FixtureServer, **popen: Any) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DROPSCOPE_DATABASE_URL": url,
        "DROPSCOPE_DATA_DIR": str(DATA),
        "PYTHONPATH": str(ROOT / "src"),
        **server.env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dropscope", "ingest", "--format", "json"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def _keys(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: sorted(
                    conn.execute(sa.text(f"select {', '.join(cols)} from {table}")).all(),
                    key=repr,
                )
                for table, cols in _KEYS.items()
            }
    finally:
        engine.dispose()


def _runs(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(sa.text("select state from ingest_runs order by id")).scalars()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ENGINES)
def test_kill_9_mid_run_then_rerun_is_consistent(kind: str, tmp_path: Path, server) -> None:  # type: ignore[no-untyped-def]
    hit = threading.Event()

    def slow(url: str) -> Answer:
        hit.set()
        return Answer(200, b"[]", {"Content-Type": "application/json"}, delay=30)

    with (
        empty_database(kind, tmp_path / "killed") as url,
        empty_database(kind, tmp_path / "clean") as clean_url,
    ):
        server.router.override("coingecko/coins_markets.json", slow)
        proc = _ingest(url, server)
        try:
            assert hit.wait(120), "the run never reached the slow endpoint"
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert _runs(url) == ["running"]  # the process died mid-run
        partial = _keys(url)
        assert partial["ingest_listings"]  # earlier sources committed …
        assert partial["token_markets"] == []  # … the one being fetched wrote nothing

        del server.router.overrides["coingecko/coins_markets.json"]
        rerun = _ingest(url, server)
        out, err = rerun.communicate(timeout=240)
        assert rerun.returncode == 0, err.decode()
        assert [s["state"] for s in json.loads(out)["sources"]] == ["ok"] * 5
        assert _runs(url) == ["abandoned", "finished"]

        clean = _ingest(clean_url, server)
        _, err = clean.communicate(timeout=240)
        assert clean.returncode == 0, err.decode()
        after, reference = _keys(url), _keys(clean_url)
        for table in _KEYS:
            assert after[table] == reference[table], table  # same rows, no duplicates
            assert len(set(after[table])) == len(after[table]), table
