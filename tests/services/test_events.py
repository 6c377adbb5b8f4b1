"""Events noticed in the writer's transaction (curation here; the data load and ingestion go
through the same `status_log`), recorded once, with outbox rows; deadline reminders at an
injected clock; saved filters; tenant isolation; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dropscope.domain.events import EventType
from dropscope.domain.keys import Account
from dropscope.domain.watchlists import SavedFilter
from dropscope.services import watchlists as watch
from dropscope.services import webhooks as hooks
from dropscope.services.curation import add_evidence, create_project, patch_project
from dropscope.services.database import Database
from dropscope.services.events import scan
from dropscope.services.keys import operator_account
from tests.factories import (
    REFERENCE_INVESTORS,
    REFERENCE_SOURCES,
    make_evidence_in,
    make_peer,
    make_project_file,
)
from tests.services.webhook_helpers import fast_settings

NOW = datetime(2024, 1, 5, 12, 0, tzinfo=UTC)
T = EventType


@pytest.fixture
def nova(database: Database) -> Database:
    """Project "nova" (status likely) and two accounts: the operator's and "other"."""
    with database.unit_of_work() as uow:
        for source in REFERENCE_SOURCES:
            uow.sources.save(source)
        for investor in REFERENCE_INVESTORS:
            uow.investors.save(investor)
        uow.peers.save(make_peer())
        create_project(uow, make_project_file(), NOW)
        operator_account(uow, NOW)
        uow.accounts.add(Account("acct_other", "other", False, NOW))
    return database


def op_id(db: Database) -> str:
    with db.unit_of_work() as uow:
        return operator_account(uow, NOW).id


def events(db: Database, account: str) -> list[tuple[EventType, str]]:
    with db.unit_of_work(read_only=True) as uow:
        return [(e.type, e.project_slug) for e in uow.events.list(account, limit=100)]


def outbox(db: Database) -> dict[str, int]:
    with db.unit_of_work(read_only=True) as uow:
        return uow.webhooks.counts()


def announce(db: Database, when: datetime = NOW) -> None:
    item = make_evidence_in(
        id="announced",
        kind="announcement",
        official=True,
        occurred_on=date(2024, 1, 2),
        public_on=date(2024, 1, 2),
    )
    with db.unit_of_work() as uow:
        add_evidence(uow, "nova", item, when)


def test_status_change_and_new_evidence_become_events_and_outbox_rows(nova: Database) -> None:
    me = op_id(nova)
    settings = fast_settings(nova)
    with nova.unit_of_work() as uow:
        watch.create(uow, me, "mine", ["nova"], (), NOW)
        hooks.create(uow, settings, me, "https://hooks.example.com/in", NOW)
    assert events(nova, me) == []  # the baseline: existing evidence is not news
    announce(nova)
    assert set(events(nova, me)) == {(T.STATUS_CHANGED, "nova"), (T.EVIDENCE_ADDED, "nova")}
    assert outbox(nova) == {"pending": 2}
    with nova.unit_of_work(read_only=True) as uow:
        (status,) = uow.events.list(me, types=[T.STATUS_CHANGED.value])
    assert (status.data["old"], status.data["new"]) == ("likely", "confirmed")
    assert status.data["evidence"][0]["id"] == "announced"
    # Writing again (a patch that changes nothing) notices nothing new.
    with nova.unit_of_work() as uow:
        patch_project(uow, "nova", {"summary": "A test rollup."}, NOW)
    assert len(events(nova, me)) == 2
    assert outbox(nova) == {"pending": 2}
    assert events(nova, "acct_other") == []  # another account's feed stays empty


def test_a_rolled_back_write_leaves_no_event_and_no_outbox_row(nova: Database) -> None:
    me = op_id(nova)
    with nova.unit_of_work() as uow:
        watch.create(uow, me, "mine", ["nova"], (), NOW)
        hooks.create(uow, fast_settings(nova), me, "https://hooks.example.com/in", NOW)
    item = make_evidence_in(id="announced", kind="announcement", official=True)

    def fail_after_the_write() -> None:
        with nova.unit_of_work() as uow:
            add_evidence(uow, "nova", item, NOW)
            raise RuntimeError("the request failed after the write")

    with pytest.raises(RuntimeError):
        fail_after_the_write()
    assert events(nova, me) == []
    assert outbox(nova) == {}


def test_claim_reminders_fire_at_seven_and_one_day(nova: Database) -> None:
    me = op_id(nova)
    with nova.unit_of_work() as uow:
        watch.create(uow, me, "mine", ["nova"], (), NOW)
    claim = make_evidence_in(
        id="claim",
        kind="claim_open",
        official=True,
        occurred_on=date(2024, 1, 5),
        public_on=date(2024, 1, 5),
        window_end=date(2024, 1, 20),
    )
    with nova.unit_of_work() as uow:
        add_evidence(uow, "nova", claim, NOW)
    got = {t for t, _ in events(nova, me)}
    assert {T.EVIDENCE_ADDED, T.CLAIM_OPENED, T.STATUS_CHANGED} <= got
    assert T.CLAIM_CLOSING_7D not in got  # 15 days left
    assert scan(nova, NOW + timedelta(days=7)) == []  # 8 days left
    (seven,) = scan(nova, NOW + timedelta(days=8))
    assert (seven.type, seven.data["days_left"]) == (T.CLAIM_CLOSING_7D, 7)
    assert scan(nova, NOW + timedelta(days=10)) == []  # already told
    (one,) = scan(nova, NOW + timedelta(days=14))
    assert (one.type, one.data["days_left"]) == (T.CLAIM_CLOSING_1D, 1)
    assert scan(nova, NOW + timedelta(days=15)) == []
    assert scan(nova, NOW + timedelta(days=16)) == []  # the window is over


def test_saved_filter_catches_a_new_match(nova: Database) -> None:
    with nova.unit_of_work() as uow:
        watch.create(
            uow,
            "acct_other",
            "confirmed zk",
            [],
            (SavedFilter(statuses=(), narrative="zk-rollups", min_tech=99),),
            NOW,
        )
        watch.create(
            uow,
            "acct_other",
            "confirmed",
            [],
            (SavedFilter.from_json({"statuses": ["confirmed"]}),),
            NOW,
        )
    assert events(nova, "acct_other") == []
    announce(nova)
    # Only the second filter matches (tech 85 < 99): the match and the change that made it;
    # the evidence that was there before the match is not news.
    assert set(events(nova, "acct_other")) == {
        (T.FILTER_MATCHED, "nova"),
        (T.STATUS_CHANGED, "nova"),
    }
    me = op_id(nova)
    assert events(nova, me) == []


def test_tenant_isolation_in_the_services(nova: Database) -> None:
    me = op_id(nova)
    settings = fast_settings(nova)
    with nova.unit_of_work() as uow:
        mine = watch.create(uow, me, "mine", ["nova"], (), NOW)
        hook = hooks.create(uow, settings, me, "https://hooks.example.com/in", NOW).endpoint
    with nova.unit_of_work() as uow:
        with pytest.raises(Exception, match="no watchlist"):
            watch.get(uow, "acct_other", mine.id)
        with pytest.raises(Exception, match="no webhook"):
            hooks.get(uow, "acct_other", hook.id)
        with pytest.raises(Exception, match="no watchlist"):
            watch.delete(uow, "acct_other", mine.id)
        assert uow.watchlists.for_account("acct_other") == []
