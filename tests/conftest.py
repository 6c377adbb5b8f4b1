"""Database fixtures shared by the whole suite.

- `engine` (session scope), parametrised over SQLite (a temp file) and PostgreSQL (a schema
  of its own, `dropscope_test_<pid>_<random>`, dropped at the end, so reruns start clean and
  concurrent runs do not collide). The schema is built by the Alembic migrations.
- `session`: a `Session` inside a transaction that is rolled back after the test; the code
  under test may commit, which only releases a savepoint.
- `empty_database_url`: the URL of a new, empty database (not migrated), per test.

PostgreSQL runs when DROPSCOPE_TEST_POSTGRES_URL is set (the Makefile sets it); otherwise
those tests are skipped, with that reason.

Garbage is collected after every test (the young generations: a few ms) and after every
module (all of it: about 0.15 s with the assistant's index in memory, too slow for each of
1,200 tests), so a connection, client or file that a test (or the code it runs) left open
fails that test, or at the latest the last test of its module (pyproject's `filterwarnings`
makes the ResourceWarning an error), not a test of another module that the collector would
otherwise interrupt.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dropscope.storage.engine import create_engine_for, make_session_factory, migrate

POSTGRES_URL_VAR = "DROPSCOPE_TEST_POSTGRES_URL"
ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_url() -> str:
    """The test server's URL; skips the test when it is not configured."""
    url = os.environ.get(POSTGRES_URL_VAR, "").strip()
    if not url:
        pytest.skip(f"{POSTGRES_URL_VAR} is not set: PostgreSQL tests are skipped")
    return url


@contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file in `folder`, or a new PostgreSQL
    schema (selected through `search_path`) that is dropped on exit."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'dropscope.db'}"
        return
    server = sa.make_url(postgres_url())
    schema = f"dropscope_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server)
    quoted = admin.dialect.identifier_preparer.quote_identifier(schema)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {quoted}")
    try:
        url = server.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
        admin.dispose()


@pytest.fixture(scope="session", params=ENGINES)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        built = create_engine_for(url)
        try:
            migrate(built)
            yield built
        finally:
            built.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as connection:
        transaction = connection.begin()
        factory = make_session_factory(engine)
        db_session = factory(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield db_session
        finally:
            db_session.close()
            transaction.rollback()


@pytest.fixture(params=ENGINES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(autouse=True)
def _leaks_fail_where_they_happen() -> Iterator[None]:
    yield
    gc.collect(1)


@pytest.fixture(scope="module", autouse=True)
def _leaks_fail_in_their_module() -> Iterator[None]:
    yield
    gc.collect()
