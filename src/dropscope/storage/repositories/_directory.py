"""Investors and peers: named organisations with aliases, stored the same way."""

from __future__ import annotations

from typing import Generic, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from dropscope.domain.models import Investor, Peer
from dropscope.storage.repositories._common import FRESH, NO_SYNC, SaveResult, conflicts_reported
from dropscope.storage.tables import DirectoryRow

_Entry = TypeVar("_Entry", Investor, Peer)


class DirectoryRepository(Generic[_Entry]):
    """Reads and writes one directory table (`row`) as domain objects of type `entry`."""

    def __init__(
        self, session: Session, row: type[DirectoryRow], entry: type[_Entry], noun: str
    ) -> None:
        self._session = session
        self._row = row
        self._entry: type[_Entry] = entry
        self._noun = noun

    def list_all(self) -> list[_Entry]:
        """Every entry, by slug."""
        stmt = select(self._row).order_by(self._row.slug)
        return [
            self._to_domain(row) for row in self._session.scalars(stmt, execution_options=FRESH)
        ]

    def get(self, slug: str) -> _Entry | None:
        row = self._session.get(self._row, slug, populate_existing=True)
        return None if row is None else self._to_domain(row)

    def save(self, entry: _Entry) -> SaveResult:
        """Insert or update `entry`; write nothing when it is stored as given."""
        current = self.get(entry.slug)
        if current == entry:
            return "unchanged"
        values = {"name": entry.name, "aliases": list(entry.aliases), "website": entry.website}
        with conflicts_reported(f"{self._noun} {entry.slug!r}"):
            if current is None:
                self._session.execute(insert(self._row).values(slug=entry.slug, **values))
                return "created"
            self._session.execute(
                update(self._row).where(self._row.slug == entry.slug).values(**values),
                execution_options=NO_SYNC,
            )
        return "updated"

    def _to_domain(self, row: DirectoryRow) -> _Entry:
        return self._entry(
            slug=row.slug, name=row.name, aliases=tuple(row.aliases), website=row.website
        )
