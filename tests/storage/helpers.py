"""Helpers for storage tests: record the SQL a block of code sends (to check what a
repository writes, or that it writes nothing) and count rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dropscope.storage.tables import Base


@contextmanager
def recorded_sql(session: Session) -> Iterator[list[str]]:
    """The statements sent to the database inside the block, upper-cased."""
    connection = session.connection()
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.strip().upper())

    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)


def writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]


def row_count(session: Session, table: type[Base]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
