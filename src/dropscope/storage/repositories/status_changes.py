"""The recorded history of airdrop statuses: an append-only log, per project.

"Latest" means last added (highest id), which is the status dropscope last recorded; a
correction appended later wins even when its `effective_on` is earlier.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dropscope.domain.status import AirdropStatus, StatusChange
from dropscope.errors import InvalidInput
from dropscope.storage.repositories._common import FRESH, conflicts_reported
from dropscope.storage.tables import StatusChangeRow


class StatusChangeRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, change: StatusChange) -> None:
        """Append `change`. Raises `Conflict` for an unknown project, `InvalidInput` for a
        `recorded_at` without timezone."""
        recorded_at = change.recorded_at
        if recorded_at is not None and recorded_at.utcoffset() is None:
            raise InvalidInput(f"recorded_at {recorded_at.isoformat()} has no timezone")
        with conflicts_reported(f"status change of {change.project_slug!r}"):
            self._session.execute(
                insert(StatusChangeRow).values(
                    project_slug=change.project_slug,
                    effective_on=change.effective_on,
                    old=None if change.old is None else change.old.value,
                    new=change.new.value,
                    rule=change.rule,
                    evidence_ids=list(change.evidence_ids),
                    recorded_at=recorded_at,
                )
            )

    def latest_by_project(self) -> dict[str, StatusChange]:
        """The last change added for each project that has any."""
        last_ids = select(func.max(StatusChangeRow.id)).group_by(StatusChangeRow.project_slug)
        stmt = select(StatusChangeRow).where(StatusChangeRow.id.in_(last_ids))
        rows = self._session.scalars(stmt, execution_options=FRESH)
        return {row.project_slug: _to_domain(row) for row in rows}

    def latest(self, slug: str) -> StatusChange | None:
        """The last change added for project `slug`, if any."""
        stmt = (
            select(StatusChangeRow)
            .where(StatusChangeRow.project_slug == slug)
            .order_by(StatusChangeRow.id.desc())
            .limit(1)
        )
        row = self._session.scalars(stmt, execution_options=FRESH).first()
        return None if row is None else _to_domain(row)

    def for_project(self, slug: str) -> list[StatusChange]:
        """The project's changes in the order they were added (oldest first)."""
        stmt = (
            select(StatusChangeRow)
            .where(StatusChangeRow.project_slug == slug)
            .order_by(StatusChangeRow.id)
        )
        return [_to_domain(row) for row in self._session.scalars(stmt, execution_options=FRESH)]


def _to_domain(row: StatusChangeRow) -> StatusChange:
    return StatusChange(
        project_slug=row.project_slug,
        effective_on=row.effective_on,
        old=None if row.old is None else AirdropStatus(row.old),
        new=AirdropStatus(row.new),
        rule=row.rule,
        evidence_ids=tuple(row.evidence_ids),
        recorded_at=row.recorded_at,
    )
