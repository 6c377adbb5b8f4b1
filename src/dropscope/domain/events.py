"""Events an account is notified of, their stable ids, and how they are detected.

An event belongs to one account (the one watching the project) and has an id derived from
what it describes (account, type, project and the evidence id or date that caused it), so
noticing the same thing again yields the same id and storage records it once. Pure: the
callers pass projects, status changes, watchlists and the moment.

Types: `project.status_changed` (old → new, with the evidence and the rule that fired),
`project.evidence_added` (new evidence on a watched project), `watchlist.filter_matched` (a
project newly matching a saved filter), `claim.opened`, `claim.closing_7d` and
`claim.closing_1d` (the claim window ends within 7 days / 1 day), `token.launched`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from dropscope.domain.models import Evidence, EvidenceKind, Project
from dropscope.domain.status import StatusChange
from dropscope.errors import InvalidInput


class EventType(StrEnum):
    STATUS_CHANGED = "project.status_changed"
    EVIDENCE_ADDED = "project.evidence_added"
    FILTER_MATCHED = "watchlist.filter_matched"
    CLAIM_OPENED = "claim.opened"
    CLAIM_CLOSING_7D = "claim.closing_7d"
    CLAIM_CLOSING_1D = "claim.closing_1d"
    TOKEN_LAUNCHED = "token.launched"


PING_TYPE = "webhook.ping"  # test pings: delivered, never recorded as events
REMINDER_DAYS: tuple[tuple[EventType, int], ...] = (
    (EventType.CLAIM_CLOSING_1D, 1),
    (EventType.CLAIM_CLOSING_7D, 7),
)


@dataclass(frozen=True, slots=True)
class Event:
    """One notification. `seq` is its place in the account's feed, given by storage (it is
    the SSE event id and the cursor order); `occurred_at` is when dropscope noticed it."""

    id: str
    account_id: str
    type: EventType
    project_slug: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None

    def payload(self) -> dict[str, Any]:
        """The Standard Webhooks payload shape: type, timestamp, data (with the event id)."""
        return {
            "type": self.type.value,
            "timestamp": self.occurred_at.isoformat(),
            "data": {"event_id": self.id, "project": self.project_slug, **self.data},
        }

    def body(self) -> bytes:
        """The exact bytes delivered (and signed): compact JSON, keys sorted."""
        return encode_body(self.payload())


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_id(account_id: str, type_: EventType, *parts: object) -> str:
    """`evt_` + 26 base32 characters of SHA-256 over the account, the type and `parts`."""
    text = "\x1f".join([account_id, type_.value, *(str(p) for p in parts)])
    digest = hashlib.sha256(text.encode()).digest()
    return "evt_" + base64.b32encode(digest).decode().rstrip("=").lower()[:26]


def _evidence_json(e: Evidence) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "summary": e.summary,
        "occurred_on": e.occurred_on.isoformat(),
        "public_on": e.public_on.isoformat(),
        "official": e.official,
        "window_end": e.window_end.isoformat() if e.window_end else None,
        "source_id": e.citation.source_id,
        "as_of": e.citation.as_of.isoformat(),
    }


def status_changed(account_id: str, change: StatusChange, project: Project, now: datetime) -> Event:
    by_id = {e.id: e for e in project.evidence}
    old = change.old.value if change.old else None
    return Event(
        event_id(
            account_id,
            EventType.STATUS_CHANGED,
            change.project_slug,
            old,
            change.new.value,
            change.effective_on.isoformat(),
            ",".join(change.evidence_ids),
        ),
        account_id,
        EventType.STATUS_CHANGED,
        change.project_slug,
        now,
        {
            "name": project.name,
            "old": old,
            "new": change.new.value,
            "rule": change.rule,
            "effective_on": change.effective_on.isoformat(),
            "evidence": [_evidence_json(by_id[i]) for i in change.evidence_ids if i in by_id],
        },
    )


def evidence_events(
    account_id: str, project: Project, new: Iterable[Evidence], now: datetime
) -> list[Event]:
    """For each new evidence item: `project.evidence_added`, plus `claim.opened` for a claim
    opening and `token.launched` for a launch."""
    out = []
    for e in new:
        data = {"name": project.name, "evidence": _evidence_json(e)}
        out.append(
            Event(
                event_id(account_id, EventType.EVIDENCE_ADDED, project.slug, e.id),
                account_id,
                EventType.EVIDENCE_ADDED,
                project.slug,
                now,
                data,
            )
        )
        special = {
            EvidenceKind.CLAIM_OPEN: EventType.CLAIM_OPENED,
            EvidenceKind.TOKEN_LAUNCHED: EventType.TOKEN_LAUNCHED,
        }.get(e.kind)
        if special is not None:
            out.append(
                Event(
                    event_id(account_id, special, project.slug, e.id),
                    account_id,
                    special,
                    project.slug,
                    now,
                    data,
                )
            )
    return out


def claim_reminders(account_id: str, project: Project, today: date, now: datetime) -> list[Event]:
    """A reminder for each claim window, known on `today`, that ends within 7 days
    (`claim.closing_7d`) or within 1 day (`claim.closing_1d`), unless a later `claim_ended`
    closed it. Only the most urgent threshold crossed fires; each fires once per window."""
    known = [e for e in project.evidence if e.known_on <= today]
    out = []
    for e in known:
        if e.kind is not EvidenceKind.CLAIM_OPEN or e.window_end is None:
            continue
        ended = any(
            x.kind is EvidenceKind.CLAIM_ENDED and x.occurred_on >= e.occurred_on for x in known
        )
        days_left = (e.window_end - today).days
        if ended or days_left < 0:
            continue
        for type_, days in REMINDER_DAYS:
            if days_left <= days:
                data = {
                    "name": project.name,
                    "window_end": e.window_end.isoformat(),
                    "days_left": days_left,
                    "evidence": _evidence_json(e),
                }
                out.append(
                    Event(
                        event_id(account_id, type_, project.slug, e.id, e.window_end.isoformat()),
                        account_id,
                        type_,
                        project.slug,
                        now,
                        data,
                    )
                )
                break
    return out


def filter_matched(
    account_id: str,
    watchlist_id: str,
    watchlist_name: str,
    project: Project,
    status: str,
    today: date,
    now: datetime,
) -> Event:
    """A project newly matching one of a watchlist's saved filters (once per day at most)."""
    return Event(
        event_id(account_id, EventType.FILTER_MATCHED, project.slug, watchlist_id, today),
        account_id,
        EventType.FILTER_MATCHED,
        project.slug,
        now,
        {
            "name": project.name,
            "watchlist_id": watchlist_id,
            "watchlist": watchlist_name,
            "status": status,
        },
    )


def parse_types(values: Sequence[str]) -> tuple[EventType, ...]:
    """Event types by value; `InvalidInput` naming the unknown one."""
    out = []
    for v in values:
        try:
            out.append(EventType(v))
        except ValueError:
            known = ", ".join(t.value for t in EventType)
            raise InvalidInput(f"unknown event type {v!r}; choose from {known}") from None
    return tuple(dict.fromkeys(out))
