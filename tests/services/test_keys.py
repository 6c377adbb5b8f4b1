"""API-key services on SQLite and PostgreSQL: lifecycle, tenants, escalation, roll grace,
verification and its cache, batched usage, sign-up limits, and where the plain key may be."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dropscope.domain.access import DEFAULT_PLANS, Scope
from dropscope.domain.key_anomaly import RateTracker, SpreadTracker
from dropscope.domain.keys import (
    KeyEventKind,
    KeyState,
    KeyStatus,
    Peppers,
    generate_key,
    parse_key,
)
from dropscope.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized
from dropscope.services import accounts
from dropscope.services.database import Database
from dropscope.services.key_auth import INVALID_KEY, KeyVerifier, UsageRecorder
from dropscope.services.keys import Actor, KeySpec, KeysService
from dropscope.storage.repositories.meta import KEYS_VERSION
from dropscope.storage.tables import metadata

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PEPPERS = Peppers(current=1, secrets={1: b"a-test-pepper-of-some-length"})
OP = Actor.local()
READ = frozenset({Scope.READ})


def service(db: Database, **kw: object) -> KeysService:
    return KeysService(db, PEPPERS, DEFAULT_PLANS, **kw)  # type: ignore[arg-type]


def tenant(svc: KeysService, name: str = "tenant") -> tuple[Actor, str]:
    """A non-operator account with an admin+read key on the free plan: (its actor, key)."""
    account, created = accounts.signup(svc, name, "198.51.100.7", NOW, accounts.SignupLimits())
    admin = svc.create(
        OP,
        KeySpec(
            name="admin",
            scopes=frozenset({Scope.READ, Scope.ADMIN}),
            plan="free",
            account_id=account.id,
        ),
        NOW,
    )
    actor = Actor(
        account_id=account.id,
        operator=False,
        key_id=admin.key.id,
        scopes=admin.key.scopes,
        plan="free",
    )
    return actor, created.secret


def verifier(db: Database, **kw: object) -> KeyVerifier:
    return KeyVerifier(db, PEPPERS, DEFAULT_PLANS, UsageRecorder(db), **kw)  # type: ignore[arg-type]


def verify(v: KeyVerifier, key: str, ip: str | None = "127.0.0.1", at: datetime = NOW):  # type: ignore[no-untyped-def]
    return asyncio.run(v.verify(key, ip, at))


def test_create_returns_the_key_once_and_stores_only_its_hash(database: Database) -> None:
    svc = service(database)
    created = svc.create(OP, KeySpec(name="bot", scopes=READ), NOW)
    assert parse_key(created.secret) == created.secret
    assert created.key.display == created.secret[:8]
    assert created.key.plan == "free"
    assert created.key.scopes == READ
    assert "secret" not in repr(created)
    (listed,) = svc.list(OP)
    assert listed.id == created.key.id
    assert listed.state is KeyState.ACTIVE
    with database.unit_of_work(read_only=True) as uow:
        events = uow.key_events.page()
    assert [e.kind for e in events] == [KeyEventKind.CREATED]
    assert created.secret not in str(events[0].detail)


def test_lifecycle_disable_enable_revoke_expire(database: Database) -> None:
    svc = service(database)
    key = svc.create(OP, KeySpec(name="k"), NOW).key
    assert svc.disable(OP, key.id, NOW).status_at(NOW) is KeyStatus.DISABLED
    with pytest.raises(Conflict, match="already disabled"):
        svc.disable(OP, key.id, NOW)
    assert svc.enable(OP, key.id, NOW).status_at(NOW) is KeyStatus.ACTIVE
    assert svc.revoke(OP, key.id, NOW).status_at(NOW) is KeyStatus.REVOKED
    with pytest.raises(Conflict, match="permanent"):
        svc.enable(OP, key.id, NOW)
    other = svc.create(OP, KeySpec(name="o"), NOW).key
    expired = svc.expire(OP, other.id, NOW)
    assert expired.status_at(NOW) is KeyStatus.EXPIRED
    with database.unit_of_work(read_only=True) as uow:
        kinds = [e.kind.value for e in reversed(uow.key_events.page())]
        version = uow.meta.keys_version()
    assert kinds == ["created", "disabled", "enabled", "revoked", "created", "expired"]
    assert version == 6  # every change bumps the keys version


def test_roll_keeps_the_old_key_for_the_grace_never_past_its_expiry(database: Database) -> None:
    svc = service(database)
    expiry = NOW + timedelta(hours=2)
    old = svc.create(OP, KeySpec(name="k", expires_at=expiry), NOW)
    new, changed = svc.roll(OP, old.key.id, NOW, timedelta(hours=24))
    assert changed.rolled_to == new.key.id
    assert new.key.rolled_from == old.key.id
    assert changed.grace_until == expiry  # capped by its own expiry
    assert new.key.expires_at == expiry  # inherited unless given
    assert new.key.scopes == old.key.scopes
    assert new.key.name == "k"
    with pytest.raises(Conflict, match="already rolled"):
        svc.roll(OP, old.key.id, NOW)
    v = verifier(database)
    try:
        assert verify(v, old.secret, at=NOW + timedelta(hours=1)).key_id == old.key.id
        with pytest.raises(Unauthorized):
            verify(v, old.secret, at=NOW + timedelta(hours=2))
        assert verify(v, new.secret, at=NOW + timedelta(hours=1)).key_id == new.key.id
    finally:
        v.close()
    zero = svc.create(OP, KeySpec(name="z"), NOW)
    _, stopped = svc.roll(OP, zero.key.id, NOW, timedelta(0), expires_at=None)
    assert stopped.status_at(NOW) is KeyStatus.EXPIRED


def test_a_tenant_sees_and_touches_only_its_own_keys(database: Database) -> None:
    svc = service(database)
    a, _ = tenant(svc, "a")
    b, _ = tenant(svc, "b")
    b_keys = svc.list(b)
    assert {k.account_id for k in svc.list(a)} == {a.account_id}
    assert len(svc.list(OP)) == 4  # the operator sees everything
    with pytest.raises(NotFound):
        svc.get(a, b_keys[0].id)
    for act in (svc.disable, svc.revoke, svc.roll, svc.expire):
        with pytest.raises(NotFound):
            act(a, b_keys[0].id, NOW)
    with pytest.raises(NotFound):
        svc.create(a, KeySpec(name="x", account_id=b.account_id), NOW)
    assert svc.list(a, b.account_id) == svc.list(a)  # a tenant's filter cannot widen
    assert all(k.state is KeyState.ACTIVE for k in svc.list(b))
    events = accounts.audit(svc, a)
    assert events
    assert {e.account_id for e in events} == {a.account_id}


def test_a_tenant_cannot_escalate_scopes_plans_or_key_count(database: Database) -> None:
    svc = service(database, max_keys=4)
    a, _ = tenant(svc)
    with pytest.raises(Forbidden, match="write"):
        svc.create(a, KeySpec(name="x", scopes=frozenset({Scope.WRITE})), NOW)
    with pytest.raises(Forbidden, match="plan"):
        svc.create(a, KeySpec(name="x", plan="platinum"), NOW)
    svc.create(a, KeySpec(name="third"), NOW)  # read, on its own plan: allowed
    gold = svc.create(OP, KeySpec(name="gold", plan="gold", account_id=a.account_id), NOW)
    rolled, _ = svc.roll(a, gold.key.id, NOW)  # a roll keeps the plan it was given
    assert rolled.key.plan == "gold"
    with pytest.raises(Conflict, match="usable keys"):
        svc.create(a, KeySpec(name="fourth"), NOW)
    with pytest.raises(InvalidInput, match="plan"):
        svc.create(OP, KeySpec(name="x", plan="diamond"), NOW)
    with pytest.raises(InvalidInput, match="future"):
        svc.create(OP, KeySpec(name="x", expires_at=NOW), NOW)


def test_verification_states_and_addresses(database: Database) -> None:
    svc = service(database)
    good = svc.create(OP, KeySpec(name="g", ip_allowlist=("10.1.0.0/16",)), NOW)
    v = verifier(database)
    try:
        caller = verify(v, good.secret, ip="10.1.2.3")
        assert caller.key_id == good.key.id
        assert caller.plan.name == "free"
        with pytest.raises(Forbidden):
            verify(v, good.secret, ip="10.2.0.1")
        typo = good.secret[:-1] + ("A" if good.secret[-1] != "A" else "B")
        unknown = svc.create(OP, KeySpec(name="u"), NOW)
        svc.revoke(OP, unknown.key.id, NOW)
        for bad in ("nope", typo, unknown.secret):
            with pytest.raises(Unauthorized) as err:
                verify(v, bad, ip="10.1.2.3")
            assert err.value.message == INVALID_KEY  # one message, whatever was wrong
        svc.disable(OP, good.key.id, NOW)
        with pytest.raises(Unauthorized):
            verify(v, good.secret, ip="10.1.2.3")  # the cache saw the new keys version
        v.usage.flush_now()
    finally:
        v.close()
    with database.unit_of_work(read_only=True) as uow:
        failed = [e for e in uow.key_events.page() if e.kind is KeyEventKind.AUTH_FAILED]
    counts = {str(e.detail["reason"]): e.detail["count"] for e in failed}
    assert counts == {"disabled": 1, "ip_denied": 1, "malformed": 2, "revoked": 1}  # grouped
    assert all(e.ip in ("10.1.2.3", "10.2.0.1") for e in failed)


def test_a_change_from_another_process_is_seen_on_the_next_request(database: Database) -> None:
    """Two `Database` objects stand for the CLI process and an API worker."""
    svc = service(database)
    created = svc.create(OP, KeySpec(name="k"), NOW)
    worker_db = Database(database.url)
    v = verifier(worker_db)
    try:
        assert verify(v, created.secret).key_id == created.key.id
        assert verify(v, created.secret).key_id == created.key.id  # from the cache
        svc.revoke(OP, created.key.id, NOW)
        with pytest.raises(Unauthorized):
            verify(v, created.secret)
    finally:
        v.close()
        worker_db.close()


def test_on_sqlite_requests_share_a_read_only_within_one_loop_iteration(
    database: Database,
) -> None:
    """Without the keys signal file (a folder it cannot be made in), the keys version is
    read once per event-loop iteration on SQLite: a request whose task starts after that
    read (it arrived later) reads again, so a revocation committed before it arrived is
    enforced."""
    if not database.is_sqlite:
        pytest.skip("the shared per-iteration read is the SQLite path")
    svc = service(database)
    created = svc.create(OP, KeySpec(name="k"), NOW)
    worker_db = Database(database.url)
    worker_db.keys_signal = None
    v = verifier(worker_db)

    async def scenario() -> None:
        assert (await v.verify(created.secret, None, NOW)).key_id == created.key.id
        svc.revoke(OP, created.key.id, NOW)  # committed after that read...
        later = asyncio.create_task(v.verify(created.secret, None, NOW))  # ...then it arrives
        with pytest.raises(Unauthorized):
            await later

    try:
        asyncio.run(scenario())
    finally:
        v.close()
        worker_db.close()


def test_on_sqlite_the_signal_file_spares_the_read_and_a_silent_change_is_seen_in_seconds(
    database: Database,
) -> None:
    """With the keys signal (SQLite), a worker reads the keys version only when the signal
    moved: a revocation through the service is refused on the next request; a change made
    behind dropscope's back (SQL, no signal) is seen at the next periodic read."""
    if not database.is_sqlite:
        pytest.skip("the keys signal file is for SQLite")
    svc = service(database)
    first = svc.create(OP, KeySpec(name="a"), NOW)
    second = svc.create(OP, KeySpec(name="b"), NOW)
    worker_db = Database(database.url)
    clock = [100.0]
    v = verifier(worker_db, monotonic=lambda: clock[0], recheck_seconds=5.0)
    try:
        assert verify(v, first.secret).key_id == first.key.id
        assert verify(v, second.secret).key_id == second.key.id
        svc.revoke(OP, first.key.id, NOW)  # commits, then bumps the signal
        with pytest.raises(Unauthorized):
            verify(v, first.secret)
        assert verify(v, second.secret).key_id == second.key.id  # cached again
        with database.unit_of_work() as uow:  # revoked behind dropscope's back
            uow.session.execute(
                sa.text("UPDATE api_keys SET state = 'revoked' WHERE id = :id"),
                {"id": second.key.id},
            )
            uow.meta.bump(KEYS_VERSION)  # the counter, without the signal
        assert verify(v, second.secret).key_id == second.key.id  # cached, for now
        clock[0] += 5.0
        with pytest.raises(Unauthorized):
            verify(v, second.secret)
    finally:
        v.close()
        worker_db.close()


def test_unknown_keys_are_throttled_per_address(database: Database) -> None:
    svc = service(database)
    unknown = [svc.create(OP, KeySpec(name=f"u{i}"), NOW) for i in range(3)]
    for u in unknown:
        svc.revoke(OP, u.key.id, NOW)
    v = verifier(database, max_failures=2)
    try:
        for _ in range(2):
            with pytest.raises(Unauthorized):
                verify(v, generate_key())
        with pytest.raises(RateLimited) as err:
            verify(v, generate_key())
        assert err.value.policy == "auth-failures"
        assert 1 <= err.value.retry_after <= 60
        with pytest.raises(Unauthorized):
            verify(v, generate_key(), ip="192.0.2.1")  # another address is not affected
    finally:
        v.close()


def test_usage_is_counted_in_batches_per_key_and_day(database: Database) -> None:
    svc = service(database)
    created = svc.create(OP, KeySpec(name="k"), NOW)
    v = verifier(database)
    try:
        for at in (NOW, NOW, NOW + timedelta(days=1)):
            verify(v, created.secret, at=at)
        assert accounts.usage(svc, OP, NOW.date())[0].total == 0  # not written yet
        v.usage.flush_now()
        verify(v, created.secret, at=NOW + timedelta(days=1, hours=1))
        v.usage.flush_now()
    finally:
        v.close()
    (u,) = accounts.usage(svc, OP, NOW.date())
    assert u.days == ((NOW.date(), 2), (NOW.date() + timedelta(days=1), 2))
    assert u.key.last_used_at == NOW + timedelta(days=1, hours=1)


def test_signup_is_limited_per_network_and_in_total(database: Database) -> None:
    svc = service(database)
    limits = accounts.SignupLimits(per_network=2, per_hour=3)
    for i in range(2):
        account, created = accounts.signup(svc, f"t{i}", f"203.0.113.{i}", NOW, limits)
        assert created.key.scopes == READ
        assert created.key.plan == "free"
        assert created.key.account_id == account.id
        assert not account.operator
    with pytest.raises(RateLimited) as err:
        accounts.signup(svc, "t3", "203.0.113.99", NOW, limits)  # same /24
    assert err.value.policy == "signup-per-network"
    assert err.value.retry_after == 3601
    accounts.signup(svc, "t4", "198.51.100.1", NOW, limits)
    with pytest.raises(RateLimited, match="paused"):
        accounts.signup(svc, "t5", "192.0.2.1", NOW, limits)
    accounts.signup(svc, "t6", "203.0.113.5", NOW + timedelta(hours=1, seconds=1), limits)
    with pytest.raises(InvalidInput):
        accounts.signup(svc, " ", "192.0.2.9", NOW + timedelta(hours=3), limits)


def test_the_first_admin_key_is_made_once(database: Database) -> None:
    svc = service(database)
    first = accounts.ensure_admin_key(svc, NOW)
    assert first is not None
    assert Scope.ADMIN in first.key.scopes
    assert first.key.plan == "platinum"
    assert accounts.ensure_admin_key(svc, NOW) is None
    svc.revoke(OP, first.key.id, NOW)
    again = accounts.ensure_admin_key(svc, NOW)  # none usable any more: a new one
    assert again is not None
    assert again.key.account_id == first.key.account_id


def test_the_plain_key_is_in_no_table(database: Database) -> None:
    svc = service(database)
    secrets = [svc.create(OP, KeySpec(name="k", scopes=READ), NOW).secret]
    secrets.append(svc.roll(OP, svc.list(OP)[0].id, NOW)[0].secret)
    secrets.append(accounts.signup(svc, "t", "192.0.2.1", NOW, accounts.SignupLimits())[1].secret)
    v = verifier(database)
    try:
        for s in secrets:
            verify(v, s)
        for s in secrets:  # refusals are logged to the audit table: without the key
            with pytest.raises(Unauthorized):
                verify(v, s[:-1] + ("0" if s[-1] != "0" else "1"))
        v.usage.flush_now()
    finally:
        v.close()
    dump = dump_database(database)
    for s in secrets:
        assert s not in dump
        assert s[4:] not in dump
        assert s[4:20] not in dump


def dump_database(db: Database) -> str:
    """Every row of every table, as text."""
    parts = []
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_anomalies_are_recorded_as_audit_events(database: Database) -> None:
    svc = service(database)
    busy = svc.create(OP, KeySpec(name="busy"), NOW)
    leaked = svc.create(OP, KeySpec(name="leaked"), NOW)
    svc.revoke(OP, leaked.key.id, NOW)
    usage = UsageRecorder(
        database,
        rate=RateTracker(factor=5, min_requests=20, min_history=3),
        spread=SpreadTracker(min_ips=4),
    )
    v = KeyVerifier(database, PEPPERS, DEFAULT_PLANS, usage)
    try:
        at = NOW
        for _ in range(3):  # a baseline of 2 requests a minute
            verify(v, busy.secret, at=at)
            verify(v, busy.secret, at=at)
            at += timedelta(minutes=1)
        for _ in range(30):  # then a burst
            verify(v, busy.secret, at=at)
        for i in range(6):  # the revoked key, tried from six addresses
            with pytest.raises(Unauthorized):
                verify(v, leaked.secret, ip=f"192.0.2.{i}", at=at)
        v.usage.flush_now()
    finally:
        v.close()
    with database.unit_of_work(read_only=True) as uow:
        found = [e for e in uow.key_events.page() if e.kind is KeyEventKind.ANOMALY]
    rules = {str(e.detail["rule"]): e for e in found}
    assert set(rules) == {"rate", "auth_spread"}
    assert rules["rate"].key_id == busy.key.id
    assert rules["rate"].detail["requests_this_minute"] == 20
    assert rules["auth_spread"].key_id == leaked.key.id
    assert rules["auth_spread"].account_id == leaked.key.account_id
