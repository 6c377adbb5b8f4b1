"""Delivery to a real receiver process on 127.0.0.1 (allowed by the allowlist setting): signed
messages, and faults — down, slow, 500, 429 with Retry-After, flapping — after which every
message arrives, exactly once when de-duplicated by webhook-id; 410 disables the endpoint;
redirects are not followed; the SSRF policy is applied again when connecting."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, date, datetime

import pytest

from dropscope.config import Settings
from dropscope.domain.keys import Account
from dropscope.domain.webhook_targets import IPAddress
from dropscope.services import watchlists as watch
from dropscope.services import webhooks as hooks
from dropscope.services.curation import add_evidence, create_project
from dropscope.services.database import Database
from dropscope.services.keys import operator_account
from dropscope.services.webhook_dispatch import DispatchConfig, Dispatcher
from tests.factories import (
    REFERENCE_INVESTORS,
    REFERENCE_SOURCES,
    make_evidence_in,
    make_peer,
    make_project_file,
)
from tests.services.webhook_helpers import Receiver, drain, fast_settings, receiver, run

__all__ = ["receiver"]  # the fixture

NOW = datetime(2024, 1, 5, 12, 0, tzinfo=UTC)


def setup(db: Database, url: str, settings: Settings) -> tuple[str, str]:
    """Project nova, the operator watching it, an endpoint at `url`; (account, secret)."""
    with db.unit_of_work() as uow:
        for source in REFERENCE_SOURCES:
            uow.sources.save(source)
        for investor in REFERENCE_INVESTORS:
            uow.investors.save(investor)
        uow.peers.save(make_peer())
        create_project(uow, make_project_file(), NOW)
        me = operator_account(uow, NOW).id
        uow.accounts.add(Account("acct_other", "other", False, NOW))
        watch.create(uow, me, "mine", ["nova"], (), NOW)
        made = hooks.create(uow, settings, me, url, NOW)
    return me, made.secret


def announce(db: Database) -> None:
    item = make_evidence_in(
        id="announced",
        kind="announcement",
        official=True,
        occurred_on=date(2024, 1, 2),
        public_on=date(2024, 1, 2),
    )
    with db.unit_of_work() as uow:
        add_evidence(uow, "nova", item, datetime.now(UTC))


def endpoint_id(db: Database, account: str) -> str:
    with db.unit_of_work(read_only=True) as uow:
        return uow.webhooks.endpoints(account)[0].id


def pings(db: Database, account: str, n: int) -> set[str]:
    ids = set()
    with db.unit_of_work() as uow:
        wid = uow.webhooks.endpoints(account)[0].id
        for _ in range(n):
            ids.add(hooks.ping(uow, account, wid, datetime.now(UTC)).message_id)
    return ids


def event_ids(db: Database, account: str) -> set[str]:
    with db.unit_of_work(read_only=True) as uow:
        return {e.id for e in uow.events.list(account, limit=1000)}


def counts(db: Database) -> dict[str, int]:
    with db.unit_of_work(read_only=True) as uow:
        return uow.webhooks.counts()


async def rounds(db: Database, settings: Settings, n: int) -> None:
    async with Dispatcher(db, DispatchConfig.of(settings)) as d:
        for _ in range(n):
            await d.run_once()
            await asyncio.sleep(0.06)


def test_a_watched_status_change_reaches_the_receiver_signed(
    database: Database, receiver: Receiver
) -> None:
    settings = fast_settings(database)
    me, secret = setup(database, receiver.url, settings)
    announce(database)
    expected = event_ids(database, me)
    assert len(expected) == 2  # status changed + evidence added
    run(drain(database, settings))
    got = receiver.accepted(secret)  # every signature verified
    assert set(got) == expected
    types = {m["type"] for m in got.values()}
    assert types == {"project.status_changed", "project.evidence_added"}
    assert counts(database) == {"delivered": 2}
    with database.unit_of_work(read_only=True) as uow:
        (d, *_) = uow.webhooks.deliveries(me, endpoint_id(database, me))
        (a,) = uow.webhooks.attempts(d.id)
    assert (a.status_code, a.error) == (200, None)
    assert a.latency_ms > 0


@pytest.mark.parametrize("fault", ["down", "slow", "500", "429", "flap"])
def test_every_message_arrives_exactly_once_after_faults(
    database: Database, receiver: Receiver, fault: str
) -> None:
    settings = fast_settings(database)
    me, secret = setup(database, receiver.url, settings)
    announce(database)
    expected = event_ids(database, me) | pings(database, me, 8)
    if fault == "down":
        receiver.stop()
    elif fault == "slow":
        receiver.set("slow", delay=0.8)  # longer than the 0.5 s timeout
    elif fault == "429":
        receiver.set("429", retry_after=1)
    elif fault != "flap":
        receiver.set(fault)
    if fault != "flap":
        run(rounds(database, settings, 3))
        assert counts(database).get("delivered", 0) == 0
        with database.unit_of_work(read_only=True) as uow:
            ds = uow.webhooks.deliveries(me, endpoint_id(database, me))
        assert all(d.attempts >= 1 and d.state.value == "pending" for d in ds)
        if fault == "429":  # Retry-After: 1 s, though the backoff alone says 50 ms
            assert all(
                (d.next_attempt_at - d.last_attempt_at).total_seconds() >= 0.9
                for d in ds
                if d.last_attempt_at
            )
        if fault == "down":
            receiver.start()
        receiver.set("ok")
    run(drain(database, settings))
    got = receiver.accepted(secret)
    assert set(got) == expected
    assert counts(database) == {"delivered": len(expected)}


def test_410_disables_the_endpoint_and_its_messages_wait(
    database: Database, receiver: Receiver
) -> None:
    settings = fast_settings(database, webhook_concurrency=1)
    me, _ = setup(database, receiver.url, settings)
    pings(database, me, 3)
    receiver.set("410")
    run(rounds(database, settings, 2))
    with database.unit_of_work(read_only=True) as uow:
        (e,) = uow.webhooks.endpoints(me)
    assert not e.enabled
    assert "410" in (e.disabled_reason or "")
    assert counts(database) == {"failed": 1, "pending": 2}
    # Re-enabled, the remaining messages go out.
    receiver.set("ok")
    with database.unit_of_work() as uow:
        hooks.update(uow, settings, me, e.id, {"enabled": True}, datetime.now(UTC))
    run(drain(database, settings))
    assert counts(database) == {"failed": 1, "delivered": 2}


def test_redirects_are_not_followed(database: Database, receiver: Receiver) -> None:
    settings = fast_settings(database)
    me, _ = setup(database, receiver.url, settings)
    pings(database, me, 1)
    receiver.set("redirect")
    run(rounds(database, settings, 1))
    with database.unit_of_work(read_only=True) as uow:
        (d,) = uow.webhooks.deliveries(me, endpoint_id(database, me))
    assert d.state.value == "pending"
    assert d.last_status == 307
    assert "redirects are not followed" in (d.last_error or "")
    assert len(receiver.requests()) == 1


async def _rebinding(host: str, port: int) -> list[IPAddress]:
    """DNS at the process edge: a public-looking name whose answer is loopback first, then
    the metadata address (a rebinding attack)."""
    return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("169.254.169.254")]


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", "loopback"), ("localhost", "local name"), ("hooks.example.com", "loopback")],
)
def test_the_ssrf_policy_is_applied_when_connecting(
    database: Database, receiver: Receiver, host: str, expected: str
) -> None:
    """Saved while loopback was allowed; delivered under a policy that forbids it (a name is
    resolved and every address checked): refused, nothing sent, and failed at once (not
    retried for days), the reason in the attempt log."""
    loose = fast_settings(database)
    me, _ = setup(database, f"http://{host}:{receiver.port}/hook", loose)
    pings(database, me, 1)
    strict = fast_settings(database, webhook_allowed_networks=())

    async def rounds() -> None:
        async with Dispatcher(database, DispatchConfig.of(strict), resolver=_rebinding) as d:
            for _ in range(3):
                await d.run_once()
                await asyncio.sleep(0.06)  # past the backoff a retry would wait

    run(rounds())
    with database.unit_of_work(read_only=True) as uow:
        (d,) = uow.webhooks.deliveries(me, endpoint_id(database, me))
        (a,) = uow.webhooks.attempts(d.id)
    assert d.last_status is None
    assert expected in (d.last_error or "")
    assert d.state.value == "failed"
    assert d.attempts == 1
    assert a.status_code is None
    assert expected in (a.error or "")
    assert "not retried" in (a.error or "")
    assert receiver.requests() == []


def test_rotation_signs_with_both_secrets(database: Database, receiver: Receiver) -> None:
    from datetime import timedelta

    settings = fast_settings(database)
    me, old = setup(database, receiver.url, settings)
    with database.unit_of_work() as uow:
        new = hooks.rotate(
            uow, me, endpoint_id(database, me), timedelta(hours=1), datetime.now(UTC)
        ).secret
    ids = pings(database, me, 1)
    run(drain(database, settings))
    assert set(receiver.accepted(old)) == ids
    assert set(receiver.accepted(new)) == ids
    (r,) = receiver.requests()
    assert len(r["headers"]["webhook-signature"].split()) == 2


def test_an_endpoint_deleted_mid_delivery_is_no_error(
    database: Database, receiver: Receiver
) -> None:
    settings = fast_settings(database, webhook_timeout=2.0, webhook_lease_seconds=3.0)
    me, _ = setup(database, receiver.url, settings)
    pings(database, me, 2)
    receiver.set("slow", delay=0.5)

    async def deliver_while_deleting() -> int:
        async with Dispatcher(database, DispatchConfig.of(settings)) as d:
            task = asyncio.create_task(d.run_once())
            while not receiver.requests():
                await asyncio.sleep(0.02)
            with database.unit_of_work() as uow:
                hooks.delete(uow, me, endpoint_id(database, me))
            return await task

    assert run(deliver_while_deleting()) == 2
    assert counts(database) == {}
