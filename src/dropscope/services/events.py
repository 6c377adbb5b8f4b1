"""Noticing events and putting them in the outbox, inside the writer's unit of work.

`notice` runs at the end of every write that records status changes (curation, the data
load, ingestion: `services/status_log.py` calls it) and in `scan` (deadline reminders at a
given moment; the dispatcher runs it periodically, `dropscope webhooks scan` on demand). For
every account watching a project (by slug, or through a saved filter that matches it) it
derives the events (`domain/events.py`), records each once by its stable id, and for each
newly recorded one adds an outbox row per enabled webhook endpoint of the account that
wants the type, all in the caller's transaction: the event exists if and only if the change
that caused it was committed.

With no watchlist at all it costs one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dropscope.domain.assess import Assessment, AssessParams, assess_all
from dropscope.domain.events import (
    Event,
    claim_reminders,
    evidence_events,
    filter_matched,
    status_changed,
)
from dropscope.domain.models import Project
from dropscope.domain.status import StatusChange
from dropscope.domain.watchlists import Watchlist, filter_matches
from dropscope.domain.webhooks import Endpoint
from dropscope.services.database import Database, UnitOfWork


def notice(
    uow: UnitOfWork,
    projects: Sequence[Project],
    changes: Sequence[StatusChange],
    now: datetime,
    params: AssessParams | None = None,
) -> list[Event]:
    """Record the events `projects` (just written, or scanned) and `changes` give rise to,
    with their outbox rows; the events newly recorded."""
    if not uow.watchlists.any():
        return []
    today = now.date()
    watchlists = uow.watchlists.all()
    found: list[Event] = []
    by_slug = {p.slug: p for p in projects}
    # Saved filters: which projects match now, and which did not before.
    via_filter: dict[str, set[str]] = {}
    if any(w.filters for w in watchlists):
        everything = uow.projects.list_all()
        assessed = assess_all(everything, today, params)
        before = uow.watchlists.matches()
        for w in (w for w in watchlists if w.filters):
            matched = {a.project.slug for a in assessed if _any_match(w, a)}
            via_filter.setdefault(w.account_id, set()).update(matched)
            prior = before.get(w.id, set())
            for a in assessed:
                if a.project.slug in matched and a.project.slug not in prior:
                    found.append(
                        filter_matched(
                            w.account_id, w.id, w.name, a.project, a.status.value, today, now
                        )
                    )
            if matched != prior:
                uow.watchlists.set_matches(w.id, matched)
    by_slug_watched: dict[str, set[str]] = {}
    for w in watchlists:
        by_slug_watched.setdefault(w.account_id, set()).update(w.slugs)
    seen = uow.watchlists.seen()
    for account_id in sorted(set(by_slug_watched) | set(via_filter)):
        named = by_slug_watched.get(account_id, set())
        watched = named | via_filter.get(account_id, set())
        for slug in sorted(watched & set(by_slug)):
            project = by_slug[slug]
            ids = [e.id for e in project.evidence]
            known = seen.get((account_id, slug))
            if known is None and slug not in named:
                known = set(ids)  # only matched through a filter: start from now, silently
            new = [e for e in project.evidence if e.id not in (known or set())]
            if new:
                found.extend(evidence_events(account_id, project, new, now))
            if known is None or new:
                uow.watchlists.set_seen(account_id, slug, ids)
            for change in changes:
                if change.project_slug == slug:
                    found.append(status_changed(account_id, change, project, now))
            found.extend(claim_reminders(account_id, project, today, now))
    return _record(uow, found, now)


def _any_match(w: Watchlist, a: Assessment) -> bool:
    return any(filter_matches(f, a) for f in w.filters)


def _record(uow: UnitOfWork, events: list[Event], now: datetime) -> list[Event]:
    endpoints: dict[str, list[Endpoint]] = {}
    recorded = []
    for event in events:
        if not uow.events.record(event):
            continue
        recorded.append(event)
        mine = endpoints.get(event.account_id)
        if mine is None:
            mine = endpoints[event.account_id] = uow.webhooks.endpoints(
                event.account_id, enabled_only=True
            )
        body = None
        for endpoint in mine:
            if endpoint.wants(event.type.value):
                body = body or event.body()
                uow.webhooks.enqueue(endpoint, event.id, event.type.value, body, now)
    return recorded


def baseline(uow: UnitOfWork, w: Watchlist, now: datetime) -> None:
    """Take the baseline of a saved watchlist: the evidence of its watched projects counts as
    seen, and its filters' current matches as matched (no events for what already was)."""
    seen = uow.watchlists.seen()
    for slug in w.slugs:
        project = uow.projects.get(slug)
        if project is not None and (w.account_id, slug) not in seen:
            uow.watchlists.set_seen(w.account_id, slug, [e.id for e in project.evidence])
    if w.filters:
        assessed = assess_all(uow.projects.list_all(), now.date())
        uow.watchlists.set_matches(w.id, {a.project.slug for a in assessed if _any_match(w, a)})
    else:
        uow.watchlists.set_matches(w.id, ())


def scan(db: Database, now: datetime, params: AssessParams | None = None) -> list[Event]:
    """Deadline reminders (and anything else due) for every project at `now`, in one
    transaction; the events newly recorded."""
    with db.unit_of_work() as uow:
        if not uow.watchlists.any():
            return []
        return notice(uow, uow.projects.list_all(), (), now, params)
