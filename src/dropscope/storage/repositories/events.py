"""The per-account event feed: events recorded once by their stable id, read in `seq`
order (the cursor and the SSE `Last-Event-ID`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dropscope.domain.events import Event, EventType
from dropscope.storage.repositories._common import insert_on_conflict
from dropscope.storage.tables import EventRow


class EventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, event: Event) -> bool:
        """Insert `event` unless its id is already recorded; True when it was new."""
        stmt = insert_on_conflict(self._session, EventRow).values(
            id=event.id,
            account_id=event.account_id,
            type=event.type.value,
            project_slug=event.project_slug,
            occurred_at=event.occurred_at,
            data=event.data,
        )
        added = stmt.on_conflict_do_nothing(index_elements=["id"]).returning(EventRow.seq)
        return self._session.execute(added).first() is not None

    def list(
        self,
        account_id: str,
        *,
        after: int | None = None,
        types: Sequence[str] = (),
        project: str | None = None,
        limit: int = 50,
    ) -> list[Event]:
        """The account's events with `seq` > `after`, oldest first, at most `limit`."""
        stmt = select(EventRow).where(EventRow.account_id == account_id)
        if after is not None:
            stmt = stmt.where(EventRow.seq > after)
        if types:
            stmt = stmt.where(EventRow.type.in_(list(types)))
        if project:
            stmt = stmt.where(EventRow.project_slug == project)
        rows = self._session.scalars(stmt.order_by(EventRow.seq).limit(limit))
        return [_to_domain(r) for r in rows]

    def prune(self, before: datetime) -> int:
        """Delete events noticed before `before` (their ids may then be noticed again only
        if their cause is written again); how many."""
        result = self._session.execute(delete(EventRow).where(EventRow.occurred_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    def last_seq(self, account_id: str) -> int:
        """The account's newest `seq` (0 when it has no event)."""
        stmt = select(func.max(EventRow.seq)).where(EventRow.account_id == account_id)
        return int(self._session.scalar(stmt) or 0)

    def get(self, account_id: str, event_id: str) -> Event | None:
        stmt = select(EventRow).where(EventRow.id == event_id, EventRow.account_id == account_id)
        row = self._session.scalars(stmt).first()
        return None if row is None else _to_domain(row)


def _to_domain(row: EventRow) -> Event:
    return Event(
        id=row.id,
        account_id=row.account_id,
        type=EventType(row.type),
        project_slug=row.project_slug,
        occurred_at=row.occurred_at,
        data=dict(row.data),
        seq=row.seq,
    )
