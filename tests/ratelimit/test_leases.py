"""Leases (`RedisLimiter`, real Redis): a busy key's permits are counted in Redis ahead and
spent without a round trip; the counts stay exact: no 60-s window ever admits more than the
quota, the month never more than its quota, unused permits go back, and a burst over
several workers still gets exactly the quota."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dropscope.domain.access import Plan
from dropscope.domain.ratelimit import WINDOW_US, epoch_us
from dropscope.services.keys import redis_notifier
from dropscope.services.ratelimit import InProcessLimiter, RedisLimiter, permits
from tests.ratelimit.conftest import Clock, delete_prefix, redis_url, unique_prefix

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
BUSY = Plan("busy", per_minute=1_000, per_month=100_000)


def _counts(url: str, prefix: str, key: str, now: datetime) -> tuple[int, int, int]:
    """(permits in the minute log, month counter, open leases) of `key` as stored in Redis;
    checks that the log's stored total agrees with its members."""
    client = redis.Redis.from_url(url)
    try:
        base = f"{prefix}:rl:{key}"
        month = int(client.get(f"{base}:month:{now:%Y-%m}") or 0)
        minute = sum(permits(m) for m in client.zrange(f"{base}:minute", 0, -1))
        state = client.hgetall(f"{base}:state")
        assert int(state.get(b"n", 0)) == minute
        return minute, month, len(state) - (b"n" in state)
    finally:
        client.close()


async def test_a_busy_key_is_served_from_leases_with_exact_headers(
    redis_prefix: tuple[str, str], clock: Clock
) -> None:
    """One worker, 200 hits: most make no round trip, and every decision (remaining
    requests, reset) is the one the in-process counters give."""
    url, prefix = redis_prefix
    limiter, local = RedisLimiter.from_url(url, prefix=prefix), InProcessLimiter()
    try:
        assert await limiter.subscribe()  # leases need it (recalls)
        for i in range(200):
            if i % 50 == 0:
                clock.advance(seconds=0.2)
            got, want = await limiter.hit("k", BUSY, clock()), await local.hit("k", BUSY, clock())
            assert (got.allowed, got.limit, got.policy) == (want.allowed, want.limit, want.policy)
        assert limiter.leased_hits > 150
        assert limiter.round_trips < 40
    finally:
        await limiter.aclose()


async def test_leases_off_means_one_call_per_hit(
    redis_prefix: tuple[str, str], clock: Clock
) -> None:
    url, prefix = redis_prefix
    limiter = RedisLimiter.from_url(url, prefix=prefix, lease_seconds=0)
    try:
        await limiter.hit("k", BUSY, clock())  # may load the script
        before = limiter.round_trips
        for _ in range(20):
            await limiter.hit("k", BUSY, clock())
        assert limiter.round_trips - before == 20
        assert limiter.leased_hits == 0
    finally:
        await limiter.aclose()


async def test_unused_permits_go_back_when_the_lease_ends(redis_prefix: tuple[str, str]) -> None:
    """After a lease ends, Redis holds exactly the admitted requests, in the minute log and
    the month, and no open lease."""
    url, prefix = redis_prefix
    limiter = RedisLimiter.from_url(url, prefix=prefix, lease_seconds=0.05)
    now = datetime.now(UTC)
    try:
        assert await limiter.subscribe()
        admitted = 0
        for _ in range(5):  # the second hit asks for a lease; later ones spend it
            admitted += (await limiter.hit("k", BUSY, now)).allowed
        assert limiter.leased_hits >= 1
        minute, month, open_leases = _counts(url, prefix, "k", now)
        assert minute > admitted  # permits held
        assert month > admitted
        assert open_leases == 1
        await asyncio.sleep(0.2)  # the lease ends: its settlement goes in the next batch
        minute, month, open_leases = _counts(url, prefix, "k", now)
        assert (minute, month, open_leases) == (admitted, admitted, 0)
        peek = await limiter.peek("k", BUSY, now)
        assert peek.states[0].used == admitted
    finally:
        await limiter.aclose()


async def test_closing_gives_open_leases_back(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    limiter = RedisLimiter.from_url(url, prefix=prefix, lease_seconds=5)
    now = datetime.now(UTC)
    assert await limiter.subscribe()
    admitted = sum([(await limiter.hit("k", BUSY, now)).allowed for _ in range(3)])
    assert _counts(url, prefix, "k", now)[0] > admitted
    await limiter.aclose()
    assert _counts(url, prefix, "k", now) == (admitted, admitted, 0)


async def test_a_lease_is_not_used_for_another_plan(
    redis_prefix: tuple[str, str], clock: Clock
) -> None:
    """A key moved to a smaller plan is counted against it at once, not from the lease."""
    url, prefix = redis_prefix
    limiter = RedisLimiter.from_url(url, prefix=prefix)
    try:
        assert await limiter.subscribe()
        for _ in range(30):
            assert (await limiter.hit("k", BUSY, clock())).allowed
        small = Plan("small", per_minute=10, per_month=100_000)
        assert not (await limiter.hit("k", small, clock())).allowed
    finally:
        await limiter.aclose()


async def test_a_burst_over_four_workers_gets_exactly_the_quota(
    redis_prefix: tuple[str, str],
) -> None:
    """Four limiters (four workers' worth of connections and leases) race on one key with
    3x its per-minute quota: exactly the quota is admitted, much of it from leases, and the
    refusals do not wait for the leases to end."""
    url, prefix = redis_prefix
    limiters = [RedisLimiter.from_url(url, prefix=prefix) for _ in range(4)]

    async def client(limiter: RedisLimiter) -> list[bool]:
        got = []
        for _ in range(100):
            got.append((await limiter.hit("k", BUSY, datetime.now(UTC))).allowed)
            await asyncio.sleep(0)
        return got

    try:
        assert all([await limiter.subscribe() for limiter in limiters])
        loop = asyncio.get_running_loop()
        started = loop.time()
        runs = await asyncio.gather(*(client(limiters[i % 4]) for i in range(30)))
        elapsed = loop.time() - started
    finally:
        for limiter in limiters:
            await limiter.aclose()
    assert sum(sum(run) for run in runs) == BUSY.per_minute
    assert sum(limiter.leased_hits for limiter in limiters) > BUSY.per_minute // 4
    assert elapsed < 0.9  # under the lease time: refusals asked again, not waited it out
    now = datetime.now(UTC)
    assert _counts(url, prefix, "k", now) == (BUSY.per_minute, BUSY.per_minute, 0)


async def test_a_worker_refused_while_another_holds_permits_waits_for_them(
    redis_prefix: tuple[str, str],
) -> None:
    """Worker A takes a lease and goes quiet; worker B then uses the key up to its quota.
    B's hits are not refused for permits that A holds but will not use: B's refusal recalls
    them, A gives them back at once, B asks again and gets them: exactly the quota."""
    url, prefix = redis_prefix
    plan = Plan("p", per_minute=200, per_month=100_000)
    a = RedisLimiter.from_url(url, prefix=prefix, lease_seconds=0.2)
    b = RedisLimiter.from_url(url, prefix=prefix, lease_seconds=0.2)
    now = datetime.now(UTC)
    try:
        assert await a.subscribe()
        assert await b.subscribe()
        admitted = sum([(await a.hit("k", plan, now)).allowed for _ in range(3)])
        minute, _, open_leases = _counts(url, prefix, "k", now)
        assert open_leases == 1  # A holds unused permits
        assert minute > admitted
        for _ in range(plan.per_minute):
            admitted += (await b.hit("k", plan, now)).allowed
        assert admitted == plan.per_minute
        assert not (await b.hit("k", plan, now)).allowed
    finally:
        await a.aclose()
        await b.aclose()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    q=st.integers(16, 120),
    month_extra=st.one_of(st.just(10**6), st.integers(0, 150)),
    steps=st.lists(
        st.one_of(
            st.just(0),
            st.integers(1, 20_000),
            st.integers(1, WINDOW_US // 4),
            st.just(WINDOW_US),
        ),
        min_size=1,
        max_size=80,
    ),
)
@example(  # a lease's permits are used up to 50 ms after their grant: a window starting
    # between grant and use must still count them (it would not if they were scored at the grant)
    q=80,
    month_extra=10**6,
    steps=[0, *[1_000] * 79, WINDOW_US + 15_000 - 79_000, *[0] * 79],
)
def test_no_window_ever_admits_more_than_the_quota(
    q: int, month_extra: int, steps: list[int]
) -> None:
    """Hits at random times through one worker with leases: in every 60-s window ending at
    an admission, at most q admissions; in the month at most its quota; and after a full
    quiet window the key is admitted again."""
    plan = Plan("p", per_minute=q, per_month=q + month_extra)

    async def run() -> None:
        url, prefix = redis_url(), unique_prefix()
        limiter = RedisLimiter.from_url(url, prefix=prefix, lease_seconds=0.05)
        now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        admitted: list[int] = []
        try:
            assert await limiter.subscribe()
            for step in steps:
                now += timedelta(microseconds=step)
                if (await limiter.hit("k", plan, now)).allowed:
                    admitted.append(epoch_us(now))
            for i, t in enumerate(admitted):
                in_window = sum(1 for u in admitted[: i + 1] if u > t - WINDOW_US)
                assert in_window <= q
            assert len(admitted) <= plan.per_month
            if len(admitted) < plan.per_month:
                now += timedelta(seconds=62)
                assert (await limiter.hit("k", plan, now)).allowed
        finally:
            await limiter.aclose()
            delete_prefix(url, prefix)

    asyncio.run(run())


async def test_the_stored_total_is_only_a_cache_of_the_log(
    redis_prefix: tuple[str, str], clock: Clock
) -> None:
    """The log's total ('n' in the key's state) is recounted from the log when it is lost
    (e.g. evicted), and ignored when the log itself is gone (expired before the state)."""
    url, prefix = redis_prefix
    plan = Plan("p", per_minute=40, per_month=100_000)
    limiter = RedisLimiter.from_url(url, prefix=prefix)
    sync = redis.Redis.from_url(url)
    state, log = f"{prefix}:rl:k:state", f"{prefix}:rl:k:minute"
    try:
        assert await limiter.subscribe()
        admitted = sum([(await limiter.hit("k", plan, clock())).allowed for _ in range(30)])
        assert admitted == 30
        await limiter.aclose()  # leases settled: the log holds exactly the 30
        limiter = RedisLimiter.from_url(url, prefix=prefix)
        sync.hdel(state, "n")  # lost: counted again from the log
        got = [(await limiter.hit("k", plan, clock())).allowed for _ in range(15)]
        assert got.count(True) == 10
        clock.advance(seconds=30)
        sync.delete(log)  # the log expired; the state, touched later, outlived it
        assert int(sync.hget(state, "n") or 0) >= 40
        assert (await limiter.hit("k", plan, clock())).allowed
    finally:
        sync.close()
        await limiter.aclose()


async def test_with_a_remote_key_cache_leases_wait_for_the_pushed_keys_version(
    redis_prefix: tuple[str, str], clock: Clock
) -> None:
    """`watch_keys` (PostgreSQL with Redis): no lease until the keys-version subscription is
    up; then a published version reaches leased decisions without a call; a lost
    subscription stops leases (each hit asks Redis, which returns the version) until it is
    made again."""
    url, prefix = redis_prefix
    limiter = RedisLimiter.from_url(url, prefix=prefix, watch_keys=True)
    notify = redis_notifier(url, prefix)
    admin = redis.Redis.from_url(url)
    try:
        await limiter.hit("k", BUSY, clock())
        await limiter.hit("k", BUSY, clock())
        assert limiter.leased_hits == 0  # the subscription is only being made
        await asyncio.sleep(0.2)
        for _ in range(5):
            await limiter.hit("k", BUSY, clock())
        assert limiter.leased_hits > 0
        notify()  # what a revocation does: INCR and PUBLISH
        await asyncio.sleep(0.05)  # the worker's loop reads its sockets
        trips = limiter.round_trips
        decision = await limiter.hit("k", BUSY, clock())
        assert limiter.round_trips == trips  # from the lease...
        assert decision.keys_version == "1"  # ...with the pushed version
        for client in admin.client_list(_type="pubsub"):
            admin.client_kill_filter(_id=client["id"])
        await asyncio.sleep(0.1)
        leased = limiter.leased_hits
        for _ in range(5):
            await limiter.hit("k", BUSY, clock())
        assert limiter.leased_hits == leased  # no lease while nobody listens
        await asyncio.sleep(0.6)  # made again (first retry after 0.2 s)
        for _ in range(5):
            await limiter.hit("k", BUSY, clock())
        assert limiter.leased_hits > leased
    finally:
        admin.close()
        await limiter.aclose()
