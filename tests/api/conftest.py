"""API tests: the app on a fresh, loaded database (SQLite and PostgreSQL), driven through
httpx's ASGITransport, with "today" fixed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from dropscope.api.app import create_app
from dropscope.config import Settings
from dropscope.services import data as data_service
from dropscope.services.database import Database
from tests.services.conftest import database, fresh_database  # noqa: F401 (fixture)

DATA = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One loaded database per module and engine, for tests that only read."""
    with fresh_database(request.param, tmp_path_factory.mktemp("api")) as db:
        data_service.load(db, DATA, NOW)
        yield db


@pytest.fixture
def loaded(database: Database) -> Database:  # noqa: F811
    """A loaded database of the test's own, for tests that write."""
    data_service.load(database, DATA, NOW)
    return database


@asynccontextmanager
async def client_for(db: Database, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Settings(database_url=db.url, data_dir=DATA, **settings),  # type: ignore[arg-type]
        database=db,
        clock=lambda: NOW,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def client(shared_loaded: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the shared, read-only database."""
    async with client_for(shared_loaded) as c:
        yield c
