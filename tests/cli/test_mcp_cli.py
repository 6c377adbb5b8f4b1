"""`dropscope mcp` as a command: a database it cannot use is one line and exit code 4, before
anything is written to stdout (where the client expects only the protocol). The protocol
itself is tested over stdio in tests/mcp/test_stdio.py."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dropscope.cli.app import app


def test_an_unreachable_database_is_one_line_and_exit_4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPSCOPE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    r = CliRunner().invoke(app, ["mcp"], catch_exceptions=False)
    assert r.exit_code == 4
    assert r.stdout == ""
    assert r.stderr.startswith("error: cannot connect to postgresql database")
    assert len(r.stderr.strip().splitlines()) == 1
