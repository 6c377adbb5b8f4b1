"""API tests: the app on a fresh, loaded database (SQLite and PostgreSQL), driven through
httpx's ASGITransport (with the app's lifespan run around it), with "today" fixed.

Clients carry an API key of the operator account (`Authorization: Bearer`), by default with
the read and write scopes; `make_key` creates others."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from dropscope.api.app import create_app
from dropscope.config import Settings
from dropscope.domain.access import Scope
from dropscope.services import data as data_service
from dropscope.services.database import Database
from dropscope.services.keys import Actor, CreatedKey, KeySpec, keys_service
from tests.services.conftest import database, fresh_database  # noqa: F401 (fixture)

DATA = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PEPPER = "test-pepper-0123456789abcdef"
READ_WRITE = ("read", "write")


def settings_for(db: Database, **settings: object) -> Settings:
    return Settings(database_url=db.url, data_dir=DATA, key_pepper=PEPPER, **settings)  # type: ignore[arg-type]


def make_key(
    db: Database,
    scopes: tuple[str, ...] = READ_WRITE,
    *,
    actor: Actor | None = None,
    now: datetime = NOW,
    **spec: object,
) -> CreatedKey:
    """A key on the top plan, of the operator's account unless `actor` or `account_id` say
    otherwise."""
    service = keys_service(settings_for(db), db)
    values: dict[str, object] = {"name": "test", "plan": "platinum", **spec}
    chosen = frozenset(Scope(s) for s in scopes)
    return service.create(actor or Actor.local(), KeySpec(scopes=chosen, **values), now)  # type: ignore[arg-type]


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
async def client_for(
    db: Database,
    *,
    scopes: tuple[str, ...] | None = READ_WRITE,
    clock: Callable[[], datetime] = lambda: NOW,
    **settings: object,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app on `db`; with `scopes`, carrying a new key that has them."""
    app = create_app(settings_for(db, **settings), database=db, clock=clock)
    headers = {}
    if scopes is not None:
        headers["authorization"] = f"Bearer {make_key(db, scopes).secret}"
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c,
    ):
        yield c


@pytest.fixture
async def client(shared_loaded: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the shared, read-only database."""
    async with client_for(shared_loaded) as c:
        yield c
