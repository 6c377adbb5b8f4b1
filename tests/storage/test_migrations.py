"""The Alembic migrations: they build the schema on an empty database (SQLite and
PostgreSQL), agree with `storage/tables.py`, and run from any working directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from dropscope.storage.engine import MIGRATIONS_DIR, create_engine_for, migrate, schema_is_current
from dropscope.storage.tables import metadata


def test_migrate_builds_the_schema_on_an_empty_database(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing depends on the working directory
    engine = create_engine_for(empty_database_url)
    try:
        assert schema_is_current(engine) is False
        migrate(engine)
        assert schema_is_current(engine) is True
        migrate(engine)  # already at head: nothing to do
        assert schema_is_current(engine) is True
        tables = set(sa.inspect(engine).get_table_names())
        assert tables == set(metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_the_migrations_agree_with_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_nothing_and_back(empty_database_url: str) -> None:
    engine = create_engine_for(empty_database_url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.set_main_option("path_separator", "os")
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
        assert schema_is_current(engine) is False
        migrate(engine)
        assert schema_is_current(engine) is True
    finally:
        engine.dispose()


def _alembic(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def _idempotency_keys(*extra: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table(
        "idempotency_keys",
        sa.column("key", sa.String()),
        sa.column("method", sa.String()),
        sa.column("path", sa.Text()),
        sa.column("request_hash", sa.String()),
        sa.column("status_code", sa.Integer()),
        sa.column("response_body", sa.LargeBinary()),
        sa.column("content_type", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        *extra,
    )


_IDEMPOTENCY = _idempotency_keys()  # as 0002 made it
_OWNED = _idempotency_keys(sa.column("api_key_id", sa.String()))  # as 0006 makes it
_STORED = {
    "key": "k-1",
    "method": "POST",
    "path": "/v1/projects",
    "request_hash": "h",
    "status_code": 201,
    "response_body": b"{}",
    "content_type": "application/json",
    "created_at": datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
}


def test_0006_upgrades_a_database_holding_stored_responses(empty_database_url: str) -> None:
    """Responses stored before 0006 have no owner: the upgrade forgets them; afterwards the
    same (key, method, path) may be stored once per API key. The downgrade works with rows."""
    engine = create_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic(connection), "0005")
        with engine.begin() as connection:
            connection.execute(sa.insert(_IDEMPOTENCY), [_STORED, {**_STORED, "key": "k-2"}])
        migrate(engine)
        assert schema_is_current(engine) is True
        with engine.begin() as connection:
            count = sa.select(sa.func.count()).select_from(_IDEMPOTENCY)
            assert connection.scalar(count) == 0
            rows = [{**_STORED, "api_key_id": "key_a"}, {**_STORED, "api_key_id": "key_b"}]
            connection.execute(sa.insert(_OWNED), rows)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.insert(_OWNED), [{**_STORED, "api_key_id": "key_a"}])
        with engine.begin() as connection:
            command.downgrade(_alembic(connection), "0005")
        with engine.begin() as connection:
            assert connection.scalar(count) == 0
            connection.execute(sa.insert(_IDEMPOTENCY), [_STORED])
        migrate(engine)
        assert schema_is_current(engine) is True
    finally:
        engine.dispose()


def test_the_migration_files_are_package_data() -> None:
    """pyproject ships storage/migrations/*.ini, *.mako and versions/*.py; env.py ships as a
    module of the `dropscope.storage.migrations` package."""
    assert (MIGRATIONS_DIR / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")) == [
        "0001_initial.py",
        "0002_meta_and_idempotency.py",
        "0003_api_keys.py",
        "0004_ingestion.py",
        "0005_webhooks.py",
        "0006_idempotency_per_key.py",
    ]
