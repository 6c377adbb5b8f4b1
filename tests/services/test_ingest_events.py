"""Ingestion's status changes reach a watcher too: DefiLlama's claim page for Taiko (a
recorded fixture) makes it claimable; the events are noticed in the ingestion's transaction,
delivered signed to a receiver process, and the claim-window reminders fire at 7 and 1 days
before the window's end (scans at an injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dropscope.clock import system_clock
from dropscope.domain.events import EventType
from dropscope.services import data as data_service
from dropscope.services import watchlists as watch
from dropscope.services import webhooks as hooks
from dropscope.services.database import Database
from dropscope.services.events import scan
from dropscope.services.ingest import SourceName
from dropscope.services.keys import operator_account
from tests.ingest.fixture_http import FixtureRouter
from tests.services.test_ingest import run as run_ingest
from tests.services.webhook_helpers import Receiver, drain, fast_settings, receiver, run

__all__ = ["receiver"]
DATA = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
T = EventType


def test_an_ingested_claim_window_is_notified_and_reminded(
    database: Database, receiver: Receiver
) -> None:
    data_service.load(database, DATA, NOW)
    june = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
    # The events are of June 2024 and are delivered now (the receiver checks signatures
    # against its wall clock): without a give-up age that spans the gap, one slow answer
    # under load would fail a delivery for good instead of retrying it.
    since = (system_clock() - june).total_seconds()
    settings = fast_settings(database, webhook_give_up_seconds=since + 3600)
    with database.unit_of_work() as uow:
        me = operator_account(uow, june).id
        watch.create(uow, me, "l2", ["taiko"], (), june)
        secret = hooks.create(uow, settings, me, receiver.url, june).secret
    run_ingest(database, FixtureRouter(), SourceName.DEFILLAMA_AIRDROPS, now=june)
    with database.unit_of_work(read_only=True) as uow:
        got = uow.events.list(me, limit=100)
    types = {e.type for e in got}
    assert {T.STATUS_CHANGED, T.EVIDENCE_ADDED, T.CLAIM_OPENED} <= types
    change = next(e for e in got if e.type is T.STATUS_CHANGED)
    assert (change.data["old"], change.data["new"]) == ("confirmed", "claimable")
    assert change.data["evidence"][0]["source_id"] == "defillama-airdrops"
    assert T.CLAIM_CLOSING_7D not in types  # the window ends on 2024-07-05

    at = datetime(2024, 6, 27, 9, 0, tzinfo=UTC)  # 8 days left
    assert scan(database, at) == []
    (seven,) = scan(database, at.replace(day=28))
    assert (seven.type, seven.data["window_end"]) == (T.CLAIM_CLOSING_7D, "2024-07-05")
    assert scan(database, datetime(2024, 7, 1, tzinfo=UTC)) == []
    (one,) = scan(database, datetime(2024, 7, 4, 9, 0, tzinfo=UTC))
    assert one.type is T.CLAIM_CLOSING_1D

    run(drain(database, settings))
    accepted = receiver.accepted(secret)
    assert set(accepted) == {e.id for e in got} | {seven.id, one.id}
    assert accepted[one.id]["data"]["days_left"] == 1
