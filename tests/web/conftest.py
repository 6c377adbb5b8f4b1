"""Dashboard tests: the pages through httpx's ASGITransport on a loaded database (SQLite and
PostgreSQL), with no API key (the pages are public), and, in test_browser.py, a live
`dropscope serve` driven by Playwright in Debian's Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dropscope.services.database import Database
from tests.api.conftest import (  # noqa: F401 (fixtures)
    anyio_backend,
    client_for,
    database,
    loaded,
    shared_loaded,
)


@pytest.fixture
async def web(shared_loaded: Database) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    """A client without any API key on the shared, read-only database."""
    async with client_for(shared_loaded, scopes=None) as c:
        yield c
