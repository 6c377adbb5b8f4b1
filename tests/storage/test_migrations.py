"""The Alembic migrations: they build the schema on an empty database (SQLite and
PostgreSQL), agree with `storage/tables.py`, and run from any working directory."""

from __future__ import annotations

from pathlib import Path

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
    ]
