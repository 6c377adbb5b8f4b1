"""Recording airdrop status changes as dropscope notices them.

After a write, each affected project's status is derived from its evidence on `now.date()`
and compared with the last status recorded for it. When they differ (or nothing was recorded
yet), a `StatusChange` is appended: `effective_on` is the day the evidence made the new
status true (the last change of the replayed history), `recorded_at` is `now`.

Used by the data load (every project), ingestion (the projects it touched) and the curation
services (one project). Both functions then let `services/events.py` notice what the
write means to the accounts watching these projects (events and outbox rows, in the same
unit of work).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dropscope.domain.classify import Classification, classify, status_history
from dropscope.domain.models import Project
from dropscope.domain.status import StatusChange
from dropscope.services.database import UnitOfWork
from dropscope.services.events import notice


def record_status_changes(
    uow: UnitOfWork, projects: Sequence[Project], now: datetime
) -> tuple[StatusChange, ...]:
    """Record the change of every project in `projects` whose status moved; the changes."""
    latest = uow.status_changes.latest_by_project()
    out = []
    for project in projects:
        _, change = _notice(uow, project, latest.get(project.slug), now)
        if change is not None:
            out.append(change)
    notice(uow, projects, out, now)
    return tuple(out)


def record_status_change(
    uow: UnitOfWork, project: Project, now: datetime
) -> tuple[Classification, StatusChange | None]:
    """The status of `project` on `now.date()`, and the change recorded (None if it did not
    move)."""
    classification, change = _notice(uow, project, uow.status_changes.latest(project.slug), now)
    notice(uow, (project,), () if change is None else (change,), now)
    return classification, change


def _notice(
    uow: UnitOfWork, project: Project, before: StatusChange | None, now: datetime
) -> tuple[Classification, StatusChange | None]:
    today = now.date()
    c = classify(project.evidence, today)
    if before is not None and before.new == c.status:
        return c, None
    history = status_history(project.slug, project.evidence, today)
    change = StatusChange(
        project.slug,
        history[-1].effective_on if history else today,
        before.new if before else None,
        c.status,
        c.rule,
        c.evidence_ids,
        recorded_at=now,
    )
    uow.status_changes.add(change)
    return c, change
