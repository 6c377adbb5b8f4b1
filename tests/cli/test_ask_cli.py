"""`dropscope ask`: streamed answers with sources, JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropscope.assistant.generate import NOT_ADVICE
from dropscope.cli.app import app
from tests.assistant.support import embedding_cache

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DROPSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DROPSCOPE_DATA_DIR", str(DATA))
    monkeypatch.setenv("DROPSCOPE_ASSISTANT_CACHE_DIR", str(embedding_cache(request.config)))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("DROPSCOPE_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_the_issue_question_on_a_fresh_database(run) -> None:  # type: ignore[no-untyped-def]
    r = run("ask", "Which confirmed airdrops have the highest tech score? as of 2026-11-27")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.startswith("As of 2026-11-27, among confirmed airdrops, the highest tech score")
    assert "Taiko (tech 90, confirmed) [1]" in out
    assert NOT_ADVICE in out
    assert "[1] Taiko — project card — project://taiko" in out


def test_retrieval_answer_and_json(run) -> None:  # type: ignore[no-untyped-def]
    r = run("ask", "When did PRCL claims open?", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["generator"] == "extractive"
    assert doc["mode"] == "retrieval"
    assert "2024-04-16" in doc["answer"]
    assert {c["id"].split("#")[0] for c in doc["citations"]} <= {"note://parcl", "project://parcl"}
    assert doc["answer"].endswith(NOT_ADVICE)


def test_bad_questions_are_one_line_errors(run) -> None:  # type: ignore[no-untyped-def]
    r = run("ask", "  ")
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: the question is empty"
    r = run("ask", "What is the boiling point of liquid nitrogen?")
    assert r.exit_code == 0
    assert r.stdout.startswith("I don't know from the data")


def test_claude_mode_needs_a_key(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DROPSCOPE_ASSISTANT_GENERATOR", "claude")
    r = run("ask", "Who invested in Movement?")
    assert r.exit_code == 2
    assert "ANTHROPIC_API_KEY is not set" in r.stderr
