"""Engine set-up: SQLite pragmas and locking, read-only sessions, and the errors an
unreachable or misnamed database gives."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dropscope.errors import StorageError
from dropscope.storage.engine import (
    ReadOnlySessionError,
    create_engine_for,
    make_session_factory,
    migrate,
    schema_is_current,
)
from dropscope.storage.repositories.sources import SourceRepository
from tests.factories import make_source

PASSWORD = "s3cret-Pa55"


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'nested' / 'folder' / 'dropscope.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds webhook secrets: the file is created 0600 (SQLite gives its -wal and -shm
    files the same mode), the folder dropscope makes for it 0700, under a umask that would
    let anyone read them."""
    folder = tmp_path / "made-here"
    path = folder / "dropscope.db"
    umask = os.umask(0o022)
    try:
        engine = create_engine_for(f"sqlite:///{path}")
        try:
            migrate(engine)
            with engine.connect() as connection:  # WAL: -wal and -shm live while it is open
                connection.exec_driver_sql("SELECT count(*) FROM sources").scalar()
                for made in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
        finally:
            engine.dispose()
    finally:
        os.umask(umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_sqlite_file_folder_is_created_and_pragmas_set(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    assert (tmp_path / "nested" / "folder" / "dropscope.db").is_file()
    with sqlite_engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 5000


def test_sqlite_transactions_take_the_write_lock_at_begin(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as holder, sqlite_engine.connect() as other:
        other.exec_driver_sql("PRAGMA busy_timeout = 50")  # fail fast for this test
        other.commit()
        holder.begin()  # no statement yet: BEGIN IMMEDIATE alone holds the lock
        with pytest.raises(StorageError, match=r"^SQLite database .*dropscope\.db is busy"):
            other.begin()
        holder.rollback()
        other.rollback()
        other.begin()  # free again
        other.rollback()
        other.exec_driver_sql("PRAGMA busy_timeout = 5000")
        other.commit()


def test_a_concurrent_sqlite_writer_waits_and_both_writes_land(sqlite_engine: Engine) -> None:
    sessions = make_session_factory(sqlite_engine)
    errors: list[BaseException] = []
    waited: list[float] = []

    def second_writer() -> None:
        start = time.monotonic()
        try:
            with sessions() as session, session.begin():
                SourceRepository(session).save(make_source(id="second"))
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)
        waited.append(time.monotonic() - start)

    with sessions() as first, first.begin():
        SourceRepository(first).save(make_source(id="first"))
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()  # blocked on the lock, not failed
    thread.join(timeout=10)
    assert errors == []
    assert waited[0] >= 0.25
    with sessions() as session:
        assert [s.id for s in SourceRepository(session).list_all()] == ["first", "second"]
        assert session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_read_only_sessions_do_not_wait_for_a_writer(sqlite_engine: Engine) -> None:
    writer = make_session_factory(sqlite_engine)
    reader = make_session_factory(sqlite_engine, read_only=True)
    with writer() as w, w.begin():
        SourceRepository(w).save(make_source(id="uncommitted"))
        start = time.monotonic()
        with reader() as r:
            assert SourceRepository(r).list_all() == []
        assert time.monotonic() - start < 1


def test_read_only_sessions_refuse_writes(engine: Engine) -> None:
    with make_session_factory(engine, read_only=True)() as session:
        assert SourceRepository(session).get("article") is None
        with pytest.raises(ReadOnlySessionError):
            SourceRepository(session).save(make_source())


def test_unreachable_postgres_is_a_storage_error_without_the_password() -> None:
    engine = create_engine_for(f"postgresql+psycopg://dropscope:{PASSWORD}@127.0.0.1:1/research")
    for attempt in (engine.connect, lambda: migrate(engine), lambda: schema_is_current(engine)):
        with pytest.raises(StorageError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith("cannot connect to postgresql database 'research' on 127.0.0.1:1")
        assert "\n" not in message
        assert PASSWORD not in message
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        f"nosuchdb://user:{PASSWORD}@host/db",
        f"postgresql+nodriver://u:{PASSWORD}@h/db",
    ],
)
def test_an_unusable_url_is_a_storage_error_without_the_password(url: str) -> None:
    with pytest.raises(StorageError) as caught:
        create_engine_for(url)
    assert PASSWORD not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_sqlite_file_that_cannot_be_opened_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(StorageError, match="cannot create the folder"):
        create_engine_for(f"sqlite:///{tmp_path / 'a-file' / 'db.sqlite'}")
    engine = create_engine_for(f"sqlite:///{tmp_path}")  # a folder, not a file
    with pytest.raises(
        StorageError, match=r"^cannot connect to SQLite database .*: unable to open"
    ):
        engine.connect()
    engine.dispose()


def test_other_database_errors_are_not_storage_errors(session: Session) -> None:
    with pytest.raises(sa.exc.DBAPIError):  # a missing table is a bug, not an outage
        session.execute(sa.text("SELECT * FROM no_such_table"))
