"""`dropscope serve --workers N` (N > 1) without Redis refuses to start: per-process
counters would let each worker admit the whole limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropscope.cli.app import app


def test_several_workers_without_redis_refuse_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DROPSCOPE_REDIS_URL", raising=False)
    monkeypatch.setenv("DROPSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    r = CliRunner().invoke(app, ["serve", "--workers", "2"], catch_exceptions=False)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--workers 2 needs shared rate-limit counters: set DROPSCOPE_REDIS_URL" in lines[0]
    assert not (tmp_path / "serve.db").exists()  # refused before touching anything
