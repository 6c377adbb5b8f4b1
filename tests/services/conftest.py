"""Databases for service tests: services commit, so each test gets its own fresh database
(a temp SQLite file, or a new PostgreSQL schema dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from dropscope.services.database import Database

PG_URL = os.environ.get("DROPSCOPE_TEST_POSTGRES_URL", "")


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file in `folder`, or a new PostgreSQL schema
    (dropped afterwards)."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{folder / 'dropscope.db'}")
        try:
            db.ensure_schema()
            yield db
        finally:
            db.close()
        return
    if not PG_URL:
        pytest.skip("DROPSCOPE_TEST_POSTGRES_URL is not set")
    schema = f"svc_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    db = Database(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        db.ensure_schema()
        yield db
    finally:
        db.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path) as db:
        yield db
