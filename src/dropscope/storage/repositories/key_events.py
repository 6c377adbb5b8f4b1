"""The audit log of API keys: append-only events, newest first when read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, insert, select
from sqlalchemy.orm import Session

from dropscope.domain.keys import KeyEvent, KeyEventKind
from dropscope.storage.tables import KeyEventRow

_T = cast(Table, KeyEventRow.__table__)


class KeyEventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_all(self, events: Sequence[KeyEvent]) -> None:
        if not events:
            return
        rows = [
            {
                "account_id": e.account_id,
                "key_id": e.key_id,
                "kind": e.kind.value,
                "detail": dict(e.detail),
                "ip": e.ip,
                "at": e.at,
            }
            for e in events
        ]
        self._session.execute(insert(_T), rows)

    def page(
        self,
        *,
        account_id: str | None = None,
        key_id: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[KeyEvent]:
        """Newest first; `account_id` None means every account (and events of no account)."""
        stmt = select(_T).order_by(_T.c.id.desc()).limit(limit)
        if account_id is not None:
            stmt = stmt.where(_T.c.account_id == account_id)
        if key_id is not None:
            stmt = stmt.where(_T.c.key_id == key_id)
        if before_id is not None:
            stmt = stmt.where(_T.c.id < before_id)
        return [_to_domain(row) for row in self._session.execute(stmt)]

    def since(self, kind: KeyEventKind, since: datetime, limit: int) -> list[KeyEvent]:
        """Events of `kind` at or after `since`, newest first, at most `limit`."""
        stmt = (
            select(_T)
            .where(_T.c.kind == kind.value, _T.c.at >= since)
            .order_by(_T.c.id.desc())
            .limit(limit)
        )
        return [_to_domain(row) for row in self._session.execute(stmt)]


def _to_domain(row: Row[Any]) -> KeyEvent:
    return KeyEvent(
        id=row.id,
        kind=KeyEventKind(row.kind),
        at=row.at,
        account_id=row.account_id,
        key_id=row.key_id,
        detail=row.detail,
        ip=row.ip,
    )
