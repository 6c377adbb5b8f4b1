"""Helpers the repositories share: save results, content hashes, citations, error mapping."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, Literal, TypeVar

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropscope.domain.models import Citation
from dropscope.errors import Conflict
from dropscope.storage.tables import Base

_E = TypeVar("_E", bound=StrEnum)

SaveResult = Literal["created", "updated", "unchanged"]

# Bump when the way a domain object is written changes, so the next load rewrites every row.
_HASH_VERSION = "1"

# Reads refresh any object already in the session: rows are written with Core statements,
# which do not update ORM objects loaded earlier in the same session.
FRESH: Mapping[str, Any] = {"populate_existing": True}
# Writes skip matching ORM objects in the session for the same reason.
NO_SYNC: Mapping[str, Any] = {"synchronize_session": False}


def content_hash(rows: object) -> str:
    """SHA-256 of the column values an object is stored as (JSON; dates and decimals as text).

    Hashing what would be written, not the domain object, makes the hash change exactly when
    the stored content would: `Decimal("1.0")` and `Decimal("1.00")` differ (stored as
    different text), while a project read back from the database hashes like the one saved.
    """
    text = json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{_HASH_VERSION}:{text}".encode()).hexdigest()


def citation_columns(citation: Citation) -> dict[str, Any]:
    return {"source_id": citation.source_id, "as_of": citation.as_of, "quote": citation.quote}


class _Members(dict[str, _E]):
    """An enum's members by value; an unknown value raises `ValueError` as `Enum(value)` does."""

    __slots__ = ("_enum",)

    def __init__(self, enum: type[_E]) -> None:
        super().__init__((m.value, m) for m in enum)
        self._enum = enum

    def __missing__(self, value: str) -> _E:
        return self._enum(value)


def enum_members(enum: type[_E]) -> Mapping[str, _E]:
    """`enum_members(E)[value]` is `E(value)`, as a dict lookup (reads convert many values)."""
    return _Members(enum)


def insert_all(session: Session, table: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT (executemany) for `rows`; nothing when there are none."""
    if rows:
        session.execute(insert(table), list(rows))


def insert_on_conflict(session: Session, table: type[Base]) -> sqlite.Insert | postgresql.Insert:
    """An INSERT into `table` for the session's database that takes `on_conflict_do_update`
    and `on_conflict_do_nothing` (the same `INSERT ... ON CONFLICT` on SQLite and PostgreSQL).

    A conflict handled this way raises no error, so a PostgreSQL transaction stays usable.
    """
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@contextmanager
def conflicts_reported(what: str) -> Iterator[None]:
    """Turn a constraint violation (unknown source or investor, duplicate id) into `Conflict`.

    The session must be rolled back afterwards, as after any failed statement.
    """
    try:
        yield
    except IntegrityError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "?"
        raise Conflict(f"cannot save {what}: {detail}") from exc
