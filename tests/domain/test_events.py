"""Event ids, detection of new evidence, and claim-window reminders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from dropscope.domain.events import (
    EventType,
    claim_reminders,
    event_id,
    evidence_events,
    status_changed,
)
from dropscope.domain.models import Citation, Evidence, EvidenceKind, Project
from dropscope.domain.status import AirdropStatus, StatusChange

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
CITE = Citation("src", date(2026, 11, 1))


def _project(*evidence: Evidence) -> Project:
    return Project("zk", "ZK", "summary", "l2", CITE, evidence=evidence)


def _claim(window_end: date, opened: date = date(2026, 11, 1)) -> Evidence:
    return Evidence(
        "claim", EvidenceKind.CLAIM_OPEN, opened, opened, "open", CITE, window_end=window_end
    )


def test_event_ids_are_stable_and_distinct() -> None:
    a = event_id("acc_1", EventType.EVIDENCE_ADDED, "zk", "e1")
    assert a == event_id("acc_1", EventType.EVIDENCE_ADDED, "zk", "e1")
    assert a.startswith("evt_")
    assert len(a) == 30
    assert a != event_id("acc_2", EventType.EVIDENCE_ADDED, "zk", "e1")
    assert a != event_id("acc_1", EventType.TOKEN_LAUNCHED, "zk", "e1")


def test_reminders_fire_at_seven_and_one_day() -> None:
    p = _project(_claim(date(2026, 12, 10)))
    assert claim_reminders("a", p, date(2026, 12, 2), NOW) == []  # 8 days left
    (seven,) = claim_reminders("a", p, date(2026, 12, 3), NOW)
    assert seven.type is EventType.CLAIM_CLOSING_7D
    assert seven.data["days_left"] == 7
    assert claim_reminders("a", p, date(2026, 12, 5), NOW)[0].id == seven.id  # same window
    (one,) = claim_reminders("a", p, date(2026, 12, 9), NOW)
    assert one.type is EventType.CLAIM_CLOSING_1D
    assert one.data["days_left"] == 1
    assert claim_reminders("a", p, date(2026, 12, 10), NOW)[0].type is EventType.CLAIM_CLOSING_1D
    assert claim_reminders("a", p, date(2026, 12, 11), NOW) == []  # over


def test_no_reminder_after_claim_ended() -> None:
    ended = Evidence(
        "end", EvidenceKind.CLAIM_ENDED, date(2026, 12, 4), date(2026, 12, 4), "closed early", CITE
    )
    p = _project(_claim(date(2026, 12, 10)), ended)
    assert claim_reminders("a", p, date(2026, 12, 5), NOW) == []


def test_evidence_events_include_claim_and_launch() -> None:
    launch = Evidence(
        "tge", EvidenceKind.TOKEN_LAUNCHED, date(2026, 11, 2), date(2026, 11, 2), "launched", CITE
    )
    claim = _claim(date(2026, 12, 10))
    types = [e.type for e in evidence_events("a", _project(claim, launch), [claim, launch], NOW)]
    assert types == [
        EventType.EVIDENCE_ADDED,
        EventType.CLAIM_OPENED,
        EventType.EVIDENCE_ADDED,
        EventType.TOKEN_LAUNCHED,
    ]


def test_status_event_carries_the_evidence() -> None:
    claim = _claim(date(2026, 12, 10))
    change = StatusChange(
        "zk",
        date(2026, 11, 1),
        AirdropStatus.CONFIRMED,
        AirdropStatus.CLAIMABLE,
        "claim-open",
        ("claim",),
        NOW,
    )
    e = status_changed("a", change, _project(claim), NOW)
    assert e.data["old"] == "confirmed"
    assert e.data["new"] == "claimable"
    assert e.data["evidence"][0]["id"] == "claim"
    assert e.id == status_changed("a", replace(change, recorded_at=None), _project(claim), NOW).id
    body = e.body()
    assert body.startswith(b'{"data":')
    assert b'"type":"project.status_changed"' in body
