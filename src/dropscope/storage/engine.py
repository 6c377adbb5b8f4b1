"""Engines, sessions and schema migration for SQLite and PostgreSQL.

SQLite (the default, one file) is set up for one writer and many readers: WAL journal,
`busy_timeout` 5000 ms, foreign keys enforced, and SQLAlchemy (not the sqlite3 driver) emits
BEGIN, so savepoints and transactional DDL work. Transactions begin with `BEGIN IMMEDIATE`,
taking the write lock up front: a second writer waits (up to the busy timeout) instead of
failing half-way through when it upgrades a read lock. Sessions from
`make_session_factory(engine, read_only=True)` begin `DEFERRED` instead, so readers never
wait for a writer; they refuse to write (and PostgreSQL marks them READ ONLY too).

PostgreSQL gets a connection pool that pings connections before use.

Failures to reach the database (refused, unknown host, lost connection, SQLite locked for
longer than the busy timeout) surface as `StorageError` with a one-line message naming the
database, never its password.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from dropscope.errors import StorageError

BUSY_TIMEOUT_MS = 5000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Execution option read by the SQLite "begin" hook; values are the keys of _BEGIN.
_SQLITE_BEGIN = "dropscope_sqlite_begin"
_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED"}
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def create_engine_for(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url` (`sqlite:///path.db` or `postgresql+psycopg://user@host/db`).

    Connects lazily; for SQLite, creates the folder the file goes in (0700) and the file
    itself, empty, readable by its owner only (0600: it holds webhook secrets); SQLite gives
    its -wal and -shm files the same mode. An existing file is left as it is.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            "not a valid database URL; expected sqlite:///path/to/file.db "
            "or postgresql+psycopg://user@host:port/database"
        ) from None
    name = _describe(parsed)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        _create_private_file(parsed, name)
    try:
        engine = create_engine(parsed, echo=echo, pool_pre_ping=not is_sqlite)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"cannot use {name}: {_first_line(exc, parsed)}") from None
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    event.listen(engine, "handle_error", _ErrorTranslator(parsed, name))
    return engine


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions bound to `engine` that keep loaded values after commit.

    `read_only=True` is for requests that only read: on SQLite their transactions do not take
    the write lock, on PostgreSQL they are READ ONLY, and any INSERT, UPDATE or DELETE through
    them raises `ReadOnlySessionError` on both.
    """
    if not read_only:
        return sessionmaker(bind=engine, expire_on_commit=False)
    options = {_SQLITE_BEGIN: "DEFERRED", "postgresql_readonly": True}
    factory = sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)
    event.listen(factory, "do_orm_execute", _refuse_writes)
    return factory


class ReadOnlySessionError(RuntimeError):
    """A write was attempted through a read-only session (a bug in the caller)."""


def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError("INSERT, UPDATE or DELETE through a read-only session")


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (creating it in an empty database)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    with engine.execution_options(**{_SQLITE_BEGIN: "DEFERRED"}).connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def _describe(url: URL) -> str:
    """A name for the database in messages, without password or query."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {url.database or ':memory:'}"
    where = f"{url.host or 'localhost'}" + (f":{url.port}" if url.port else "")
    user = f" as {url.username}" if url.username else ""
    return f"{url.get_backend_name()} database {url.database or '(default)'!r} on {where}{user}"


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _create_private_file(url: URL, name: str) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"cannot create the folder for {name}: {exc.strerror}") from None
    try:  # an empty file is an empty database; O_EXCL: never another process's file
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageError(f"cannot create {name}: {exc.strerror}") from None


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Stop the sqlite3 driver from issuing BEGIN itself; _sqlite_on_begin does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_SQLITE_BEGIN, "IMMEDIATE")
    connection.exec_driver_sql(_BEGIN[mode])


class _ErrorTranslator:
    """`handle_error` hook: unreachable / busy database → `StorageError`."""

    def __init__(self, url: URL, name: str) -> None:
        self._url = url
        self._name = name

    def __call__(self, context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, OperationalError):
            return None
        original = context.original_exception
        detail = _first_line(original, self._url)
        if context.connection is None:
            return StorageError(f"cannot connect to {self._name}: {detail}")
        if context.is_disconnect:
            return StorageError(f"lost the connection to {self._name}: {detail}")
        code = getattr(original, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return StorageError(f"{self._name} is busy: another writer holds it ({detail})")
        return None


def _first_line(exc: BaseException, url: URL) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    return text
