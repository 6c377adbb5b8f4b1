"""Sources: the publications every citation points at."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from dropscope.domain.models import Source
from dropscope.storage.repositories._common import FRESH, NO_SYNC, SaveResult, conflicts_reported
from dropscope.storage.tables import SourceRow


class SourceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def list_all(self) -> list[Source]:
        """Every source, by id."""
        rows = self._session.scalars(
            select(SourceRow).order_by(SourceRow.id), execution_options=FRESH
        )
        return [_to_domain(row) for row in rows]

    def get(self, id: str) -> Source | None:
        row = self._session.get(SourceRow, id, populate_existing=True)
        return None if row is None else _to_domain(row)

    def save(self, source: Source) -> SaveResult:
        """Insert or update `source`; write nothing when it is stored as given."""
        current = self.get(source.id)
        if current == source:
            return "unchanged"
        values = _columns(source)
        with conflicts_reported(f"source {source.id!r}"):
            if current is None:
                self._session.execute(insert(SourceRow).values(id=source.id, **values))
                return "created"
            self._session.execute(
                update(SourceRow).where(SourceRow.id == source.id).values(**values),
                execution_options=NO_SYNC,
            )
        return "updated"


def _columns(source: Source) -> dict[str, Any]:
    return {
        "title": source.title,
        "publisher": source.publisher,
        "url": source.url,
        "published_on": source.published_on,
        "note": source.note,
    }


def _to_domain(row: SourceRow) -> Source:
    return Source(
        id=row.id,
        title=row.title,
        publisher=row.publisher,
        url=row.url,
        published_on=row.published_on,
        note=row.note,
    )
