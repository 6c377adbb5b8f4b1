"""The data version (bumped once per writing unit of work, never lost under concurrent
writers) and stored idempotent responses, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dropscope.errors import Conflict, InvalidInput
from dropscope.services import data as data_service
from dropscope.services.database import Database
from dropscope.storage.repositories.idempotency import StoredResponse

DATA = Path(__file__).resolve().parents[2] / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def version(db: Database) -> int:
    with db.unit_of_work() as uow:
        return uow.meta.data_version()


def test_the_data_version_starts_at_zero_and_counts_committed_bumps(database: Database) -> None:
    assert version(database) == 0
    with database.unit_of_work() as uow:
        assert uow.meta.bump_data_version() == 1
        assert uow.meta.bump_data_version() == 2
        assert uow.meta.data_version() == 2
    assert version(database) == 2

    def bump_then_fail() -> None:
        with database.unit_of_work() as uow:
            uow.meta.bump_data_version()
            raise RuntimeError("the unit of work fails after the bump")

    with pytest.raises(RuntimeError):
        bump_then_fail()
    assert version(database) == 2


def test_a_load_bumps_once_when_it_changed_something_and_not_otherwise(
    database: Database, tmp_path: Path
) -> None:
    assert data_service.load(database, DATA, NOW).anything_changed
    assert version(database) == 1
    assert not data_service.load(database, DATA, NOW).anything_changed
    assert version(database) == 1
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    path = folder / "projects" / "aztec.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["summary"] = "A changed summary."
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert data_service.load(database, folder, NOW).changed == {"projects": ["aztec"]}
    assert version(database) == 2


def _run_in_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # collected and re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a writer is stuck"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("row_exists", [False, True], ids=["first-bump", "later-bump"])
def test_two_concurrent_writers_both_count(database: Database, row_exists: bool) -> None:
    """The second writer bumps while the first one's transaction, bump included, is still
    open; it must wait for it and add to its committed value, not to the value it started
    from (on PostgreSQL, also when both insert the missing row)."""
    if row_exists:
        with database.unit_of_work() as uow:
            uow.meta.bump_data_version()
    start = version(database)
    first_bumped = threading.Event()
    seen: dict[str, int] = {}

    def first() -> None:
        with database.unit_of_work() as uow:
            seen["first"] = uow.meta.bump_data_version()
            first_bumped.set()
            # Keep the transaction open while the second writer tries to bump.
            threading.Event().wait(0.3)

    def second() -> None:
        assert first_bumped.wait(10)
        with database.unit_of_work() as uow:
            seen["second"] = uow.meta.bump_data_version()

    _run_in_threads(first, second)
    assert seen == {"first": start + 1, "second": start + 2}
    assert version(database) == start + 2


def test_racing_writers_lose_no_bump(database: Database) -> None:
    rounds = 10
    barrier = threading.Barrier(2)

    def writer() -> None:
        barrier.wait(10)
        for _ in range(rounds):
            with database.unit_of_work() as uow:
                uow.meta.bump_data_version()

    _run_in_threads(writer, writer)
    assert version(database) == 2 * rounds


OWNER = "key_4mZt0bW7kLm2Xc8R"  # the API key that sent the requests


def _response(**overrides: object) -> StoredResponse:
    values: dict[str, object] = {
        "key": "3f1c-retry-me",
        "method": "POST",
        "path": "/v1/projects",
        "request_hash": "sha256:ab12",
        "status_code": 201,
        "response_body": b'{"slug": "nova", "name": "Nov\xc3\xa1"}',
        "content_type": "application/json",
        "created_at": NOW,
        "owner": OWNER,
    }
    return StoredResponse(**(values | overrides))  # type: ignore[arg-type]


def test_idempotency_put_then_get(database: Database) -> None:
    stored = _response()
    with database.unit_of_work() as uow:
        assert uow.idempotency.get(stored.key, "POST", "/v1/projects", owner=OWNER) is None
        uow.idempotency.put(stored)
    with database.unit_of_work() as uow:
        assert uow.idempotency.get(stored.key, "POST", "/v1/projects", owner=OWNER) == stored
        assert uow.idempotency.get(stored.key, "PATCH", "/v1/projects", owner=OWNER) is None
        assert uow.idempotency.get(stored.key, "POST", "/v1/projects/nova", owner=OWNER) is None
        assert uow.idempotency.get("other-key", "POST", "/v1/projects", owner=OWNER) is None
        # The same key on another method or path is another request.
        uow.idempotency.put(_response(method="PATCH", path="/v1/projects/nova", status_code=200))
    with database.unit_of_work() as uow:
        again = uow.idempotency.get(stored.key, "PATCH", "/v1/projects/nova", owner=OWNER)
    assert again is not None
    assert again.status_code == 200


def test_idempotency_responses_are_per_owner(database: Database) -> None:
    with database.unit_of_work() as uow:
        uow.idempotency.put(_response())
        other = _response(owner="key_someoneElse0000", status_code=200, response_body=b"{}")
        uow.idempotency.put(other)  # the same key, method and path: another owner's
    with database.unit_of_work() as uow:
        assert uow.idempotency.get("3f1c-retry-me", "POST", "/v1/projects", owner=OWNER) == (
            _response()
        )
        got = uow.idempotency.get("3f1c-retry-me", "POST", "/v1/projects", owner=other.owner)
        assert got == other
        assert uow.idempotency.get("3f1c-retry-me", "POST", "/v1/projects", owner="key_x") is None


def test_idempotency_duplicate_is_a_conflict_and_keeps_the_first(database: Database) -> None:
    with database.unit_of_work() as uow:
        uow.idempotency.put(_response())
    with database.unit_of_work() as uow:
        with pytest.raises(Conflict, match="already stored for idempotency key '3f1c-retry-me'"):
            uow.idempotency.put(_response(status_code=500, response_body=b"other"))
        # The transaction is still usable after the refusal.
        assert (
            uow.idempotency.get("3f1c-retry-me", "POST", "/v1/projects", owner=OWNER) == _response()
        )
    with database.unit_of_work() as uow:
        assert (
            uow.idempotency.get("3f1c-retry-me", "POST", "/v1/projects", owner=OWNER) == _response()
        )


def test_idempotency_needs_aware_times_and_forgets_old_responses(database: Database) -> None:
    with pytest.raises(InvalidInput, match="no timezone"), database.unit_of_work() as uow:
        uow.idempotency.put(_response(created_at=datetime(2026, 11, 27, 12, 0)))
    with database.unit_of_work() as uow:
        uow.idempotency.put(_response(key="old", created_at=NOW - timedelta(days=2)))
        uow.idempotency.put(_response(key="new"))
    with database.unit_of_work() as uow:
        assert uow.idempotency.delete_before(NOW - timedelta(days=1)) == 1
    with database.unit_of_work() as uow:
        assert uow.idempotency.get("old", "POST", "/v1/projects", owner=OWNER) is None
        assert uow.idempotency.get("new", "POST", "/v1/projects", owner=OWNER) is not None
