"""Named counters in the `meta` table; one of them is the data version.

The data version goes up by one in every unit of work that writes research data (projects,
sources, investors, peers, past airdrops, status changes). Response caches in any number of
worker processes read this one row to learn whether anything changed since they cached.

`bump_data_version` is one statement, `INSERT ... ON CONFLICT (key) DO UPDATE SET value =
value + 1 RETURNING value`: concurrent writers never lose an increment. On PostgreSQL the
second writer waits for the first one's row lock (or its uncommitted insert) and then adds
to the committed value; on SQLite writers are serialised by `BEGIN IMMEDIATE`. The row
stays locked until the unit of work ends, so bump last, just before commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropscope.storage.repositories._common import insert_on_conflict
from dropscope.storage.tables import MetaRow

DATA_VERSION = "data_version"


class MetaRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def data_version(self) -> int:
        """The current data version; 0 before the first write."""
        value = self._session.scalar(select(MetaRow.value).where(MetaRow.key == DATA_VERSION))
        return value or 0

    def bump_data_version(self) -> int:
        """Add one to the data version (creating it at 1) and return the new value."""
        stmt = insert_on_conflict(self._session, MetaRow).values(key=DATA_VERSION, value=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[MetaRow.key], set_={"value": MetaRow.value + 1}
        )
        value = self._session.scalar(stmt.returning(MetaRow.value))
        assert value is not None  # an upsert with RETURNING always returns its row
        return int(value)
