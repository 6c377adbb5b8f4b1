"""MCP tests: the server over a database loaded from the curated files (SQLite and
PostgreSQL), reached through real MCP client sessions (in memory, stdio, HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mcp.server.mcpserver import MCPServer

from dropscope.config import Settings
from dropscope.mcp.context import ToolContext
from dropscope.mcp.server import build_server
from dropscope.services import data as data_service
from dropscope.services.database import Database
from tests.services.conftest import fresh_database

DATA = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PEPPER = "test-pepper-0123456789abcdef"


def settings_for(db: Database, tmp: Path, **extra: object) -> Settings:
    """Offline, deterministic settings: the extractive generator and BM25 retrieval (the
    dense half is the assistant's own tests' business; here it would only cost minutes of
    embedding), a cache folder of the test's own."""
    values: dict[str, object] = {
        "database_url": db.url,
        "data_dir": DATA,
        "key_pepper": PEPPER,
        "assistant_generator": "extractive",
        "assistant_dense": False,
        "assistant_cache_dir": tmp / "assistant-cache",
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One database per module and engine, loaded from the curated files; tests only read."""
    with fresh_database(request.param, tmp_path_factory.mktemp("mcp")) as db:
        data_service.load(db, DATA, NOW)
        yield db


@pytest.fixture(scope="module")
def server(loaded_db: Database, tmp_path_factory: pytest.TempPathFactory) -> MCPServer:
    ctx = ToolContext(
        settings_for(loaded_db, tmp_path_factory.mktemp("ctx")), loaded_db, lambda: NOW
    )
    return build_server(ctx)
