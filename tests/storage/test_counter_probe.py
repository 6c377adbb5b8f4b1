"""CounterProbe (the keys-version reader of each API worker) on SQLite and PostgreSQL: it
reads a counter on a connection of its own, and leaves no connection open once closed,
even for a read that arrives after `close()` (a request still in flight at shutdown)."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from dropscope.services.database import Database
from tests.services.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path) as database:
        yield database


def test_reads_the_counter_and_follows_its_changes(db: Database) -> None:
    probe = db.counter_probe("probe-test")
    try:
        assert probe.read() == 0
        with db.unit_of_work() as uow:
            uow.meta.bump("probe-test")
        assert probe.read() == 1
    finally:
        probe.close()


def test_a_read_after_close_leaves_no_connection_open(db: Database) -> None:
    probe = db.counter_probe("probe-test")
    probe.read()
    probe.close()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert probe.read() == 0  # answered on a connection of its own
        assert probe._conn is None  # and none kept: nobody would close it
        gc.collect()
    assert [w for w in seen if issubclass(w.category, ResourceWarning)] == []
