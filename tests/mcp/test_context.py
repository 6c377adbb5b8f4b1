"""The tools' context: the assistant shared per database, and built ahead when warmed."""

from __future__ import annotations

from pathlib import Path

from dropscope.mcp.context import ToolContext
from dropscope.services import data as data_service
from dropscope.services.assistant import assistant_for
from tests.mcp.conftest import DATA, NOW, settings_for
from tests.services.conftest import fresh_database


def test_warming_builds_the_assistant_index_in_the_background(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as db:
        data_service.load(db, DATA, NOW)
        ctx = ToolContext(settings_for(db, tmp_path), db, lambda: NOW)
        ctx.warm().join(120)
        assistant = ctx.assistant()
        assert assistant is assistant_for(db)  # the one /v1/ask uses too
        assert assistant.last_update is not None
        assert assistant.last_update.documents > 30
        assert assistant.refresh() is None  # already current: nothing left to build
