"""Named counters in the `meta` table: the data version and the keys version.

The data version goes up by one in every unit of work that writes research data (projects,
sources, investors, peers, past airdrops, status changes). Response caches in any number of
worker processes read this one row to learn whether anything changed since they cached.

`bump_data_version` is one statement, `INSERT ... ON CONFLICT (key) DO UPDATE SET value =
value + 1 RETURNING value`: concurrent writers never lose an increment. On PostgreSQL the
second writer waits for the first one's row lock (or its uncommitted insert) and then adds
to the committed value; on SQLite writers are serialised by `BEGIN IMMEDIATE`. The row
stays locked until the unit of work ends, so bump last, just before commit.

The keys version goes up in every unit of work that changes an API key or account, the same
way; each API worker compares it with the version its verified-key cache was filled at, on
every request, through `CounterProbe` (one indexed read on a connection of its own).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dropscope.storage.repositories._common import insert_on_conflict
from dropscope.storage.tables import MetaRow

DATA_VERSION = "data_version"
KEYS_VERSION = "keys_version"


class MetaRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.keys_changed = False  # bump_keys_version was called (the unit of work signals it)

    def data_version(self) -> int:
        """The current data version; 0 before the first write."""
        return self.counter(DATA_VERSION)

    def bump_data_version(self) -> int:
        """Add one to the data version (creating it at 1) and return the new value."""
        return self.bump(DATA_VERSION)

    def keys_version(self) -> int:
        return self.counter(KEYS_VERSION)

    def bump_keys_version(self) -> int:
        self.keys_changed = True
        return self.bump(KEYS_VERSION)

    def counter(self, name: str) -> int:
        """A counter's value; 0 before its first bump."""
        value = self._session.scalar(select(MetaRow.value).where(MetaRow.key == name))
        return value or 0

    def bump(self, name: str) -> int:
        """Add one to counter `name` (creating it at 1) and return the new value."""
        stmt = insert_on_conflict(self._session, MetaRow).values(key=name, value=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[MetaRow.key], set_={"value": MetaRow.value + 1}
        )
        value = self._session.scalar(stmt.returning(MetaRow.value))
        assert value is not None  # an upsert with RETURNING always returns its row
        return int(value)


class CounterProbe:
    """Reads one counter on a DB-API connection of its own (detached from the pool, in
    autocommit), kept open: about 5 µs on SQLite (WAL, so it never waits for a writer), one
    round trip on PostgreSQL. Thread-safe (a lock around the connection); reconnects once
    when the connection was lost. After `close()` a late read (a request still in flight
    at shutdown) uses a connection of its own and closes it, so nothing is left open."""

    _SQL = "SELECT value FROM meta WHERE key = "

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._name = name
        self._lock = threading.Lock()
        self._conn: Any = None
        self._closed = False
        param = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._sql = self._SQL + param
        self.is_sqlite = engine.dialect.name == "sqlite"

    def read(self) -> int:
        with self._lock:
            try:
                return self._read()
            except Exception:  # a dropped connection: one fresh attempt, then let it raise
                self._close()
                return self._read()

    def _read(self) -> int:
        if self._closed:
            conn = self._connect()
            try:
                return self._select(conn)
            finally:
                conn.close()
        if self._conn is None:
            self._conn = self._connect()
        return self._select(self._conn)

    def _connect(self) -> Any:
        fairy = self._engine.raw_connection()
        fairy.detach()  # ours until closed; the pool neither reuses nor resets it
        conn = fairy.dbapi_connection
        if not self.is_sqlite:
            conn.autocommit = True  # type: ignore[union-attr]
        return conn

    def _select(self, conn: Any) -> int:
        cursor = conn.cursor()
        try:
            cursor.execute(self._sql, (self._name,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return int(row[0]) if row else 0

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken: dropping it is enough
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
