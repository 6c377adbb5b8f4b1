"""Both backends, in-process and Redis (real server), behave the same; Redis-only matters:
one script for the whole decision, NOSCRIPT recovery, keys_version, concurrency, failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropscope.domain.access import Plan
from dropscope.domain.ratelimit import WINDOW_US, seconds_to_month_end
from dropscope.errors import StorageError
from dropscope.services.ratelimit import (
    InProcessLimiter,
    Limiter,
    RedisLimiter,
    build_limiter,
)
from tests.ratelimit.conftest import Clock, delete_prefix, redis_url, unique_prefix

pytestmark = pytest.mark.anyio
SMALL = Plan("small", per_minute=3, per_month=5)


async def test_minute_window_slides(limiter: Limiter, clock: Clock) -> None:
    got = []
    for step in (0, 10, 10, 10, 10, 19.999999, 0.000001):
        clock.advance(seconds=step)
        got.append((await limiter.hit("k", SMALL, clock())).allowed)
    # admitted at 0, 10, 20; refused at 30, 40, 59.999999; at 60 the first one has left
    assert got == [True, True, True, False, False, False, True]


async def test_refused_requests_count_nowhere(limiter: Limiter, clock: Clock) -> None:
    plan = Plan("p", per_minute=2, per_month=3)
    assert [(await limiter.hit("k", plan, clock())).allowed for _ in range(5)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    clock.advance(seconds=60)
    d = await limiter.hit("k", plan, clock())
    assert d.allowed  # 2 refusals did not eat the month's quota
    assert [s.used for s in d.states] == [1, 3]
    assert not (await limiter.hit("k", plan, clock())).allowed
    seen = await limiter.peek("k", plan, clock())  # a request now would hit the month quota
    assert (seen.allowed, seen.violated) == (False, "month")


async def test_keys_are_counted_apart(limiter: Limiter, clock: Clock) -> None:
    one = Plan("one", per_minute=1, per_month=10)
    assert (await limiter.hit("a", one, clock())).allowed
    assert (await limiter.hit("b", one, clock())).allowed
    assert not (await limiter.hit("a", one, clock())).allowed


async def test_monthly_quota_rolls_over_on_the_first_utc(limiter: Limiter) -> None:
    plan = Plan("p", per_minute=100, per_month=2)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    late = end - timedelta(seconds=5)
    assert (await limiter.hit("k", plan, late)).allowed
    assert (await limiter.hit("k", plan, late)).allowed
    refused = await limiter.hit("k", plan, end - timedelta(microseconds=1))
    assert (refused.allowed, refused.violated, refused.retry_after) == (False, "month", 1)
    assert refused.limit == '"month";r=0;t=1'
    fresh = await limiter.hit("k", plan, end)
    assert fresh.allowed
    assert fresh.policy == '"minute";q=100;w=60, "month";q=2;w=2678400'  # December: 31 days
    assert fresh.limit == f'"month";r=1;t={seconds_to_month_end(end)}'


async def test_peek_counts_nothing(limiter: Limiter, clock: Clock) -> None:
    await limiter.hit("k", SMALL, clock())
    for _ in range(3):
        seen = await limiter.peek("k", SMALL, clock())
    assert seen.allowed
    assert [s.used for s in seen.states] == [1, 1]
    assert seen.limit == '"minute";r=2;t=60'


async def test_same_instant_requests_each_count(limiter: Limiter, clock: Clock) -> None:
    """Many hits at one identical timestamp: the log keeps one entry per request."""
    plan = Plan("p", per_minute=7, per_month=100)
    got = [(await limiter.hit("k", plan, clock())).allowed for _ in range(10)]
    assert got.count(True) == 7


@pytest.mark.redis
async def test_redis_concurrent_hits_admit_exactly_the_limit(
    redis_prefix: tuple[str, str], clock: Clock
) -> None:
    """Four clients (own connection pools, as four workers would have) racing on one key."""
    url, prefix = redis_prefix
    plan = Plan("p", per_minute=40, per_month=1_000)
    limiters = [RedisLimiter.from_url(url, prefix=prefix) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(lim.hit("k", plan, clock()) for lim in limiters for _ in range(30))
        )
    finally:
        for lim in limiters:
            await lim.aclose()
    assert sum(d.allowed for d in results) == 40


@pytest.mark.redis
async def test_redis_reloads_a_flushed_script(redis_limiter: RedisLimiter, clock: Clock) -> None:
    assert (await redis_limiter.hit("k", SMALL, clock())).allowed
    sync = redis.Redis.from_url(redis_url())
    try:
        sync.script_flush()  # as after a Redis restart: EVALSHA answers NOSCRIPT
    finally:
        sync.close()
    d = await redis_limiter.hit("k", SMALL, clock())
    assert d.allowed
    assert [s.used for s in d.states] == [2, 2]


@pytest.mark.redis
async def test_redis_returns_keys_version_in_the_same_round_trip(
    redis_limiter: RedisLimiter, clock: Clock
) -> None:
    assert (await redis_limiter.hit("k", SMALL, clock())).keys_version is None
    sync = redis.Redis.from_url(redis_url())
    try:
        sync.incr(redis_limiter.keys_version_key)  # what a revocation does
    finally:
        sync.close()
    assert (await redis_limiter.hit("k", SMALL, clock())).keys_version == "1"
    assert (await redis_limiter.peek("k", SMALL, clock())).keys_version == "1"


@pytest.mark.redis
async def test_redis_keys_live_under_the_prefix_and_expire(
    redis_limiter: RedisLimiter, clock: Clock
) -> None:
    await redis_limiter.hit("k", SMALL, clock())
    sync = redis.Redis.from_url(redis_url())
    try:
        keys = sorted(k.decode() for k in sync.scan_iter(match=f"{redis_limiter.prefix}:*"))
        p = redis_limiter.prefix
        assert keys == [f"{p}:rl:k:minute", f"{p}:rl:k:month:2026-11", f"{p}:rl:k:state"]
        assert 60_000 < sync.pttl(f"{p}:rl:k:minute") <= 61_000
        assert 60_000 < sync.pttl(f"{p}:rl:k:state") <= 61_000
        month_ttl = sync.ttl(f"{p}:rl:k:month:2026-11")
        assert month_ttl > seconds_to_month_end(clock()) - 5
    finally:
        sync.close()


async def test_redis_down_fails_closed() -> None:
    """Nothing listens on the port: a StorageError (→ 503), quickly."""
    limiter = RedisLimiter.from_url("redis://127.0.0.1:1/0", prefix=unique_prefix())
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(StorageError, match="rate-limit counters are unavailable"):
            await limiter.hit("k", SMALL, datetime.now(UTC))
        with pytest.raises(StorageError):
            await limiter.peek("k", SMALL, datetime.now(UTC))
    finally:
        await limiter.aclose()
    assert loop.time() - started < 3


async def test_redis_that_hangs_fails_every_waiting_request_closed() -> None:
    """A Redis that accepts and never answers: every request of the batch gets the
    StorageError (→ 503) within about the timeout, none waits forever."""
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(1 << 16)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = RedisLimiter.from_url(f"redis://127.0.0.1:{port}/0", prefix="x", timeout=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        results = await asyncio.gather(
            *(limiter.hit("k", SMALL, datetime.now(UTC)) for _ in range(5)),
            return_exceptions=True,
        )
    finally:
        await limiter.aclose()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert all(isinstance(r, StorageError) for r in results), results
    assert loop.time() - started < 2


async def test_build_limiter_picks_redis_only_when_configured() -> None:
    assert isinstance(build_limiter(None), InProcessLimiter)
    assert isinstance(build_limiter(""), InProcessLimiter)
    chosen = build_limiter("redis://127.0.0.1:1/0", prefix="x")
    assert isinstance(chosen, RedisLimiter)
    assert chosen.keys_version_key == "x:keys_version"
    await chosen.aclose()


@pytest.mark.redis
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    q=st.integers(1, 5),
    steps=st.lists(
        st.one_of(st.just(0), st.integers(1, WINDOW_US // 4), st.just(WINDOW_US)),
        min_size=1,
        max_size=25,
    ),
)
def test_redis_agrees_with_the_in_process_backend(q: int, steps: list[int]) -> None:
    """Same requests, same decisions and headers, on both backends."""
    plan = Plan("p", per_minute=q, per_month=q + 3)

    async def both() -> None:
        url, prefix = redis_url(), unique_prefix()
        remote, local = RedisLimiter.from_url(url, prefix=prefix), InProcessLimiter()
        now = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)
        try:
            for step in steps:
                now += timedelta(microseconds=step)
                a, b = await remote.hit("k", plan, now), await local.hit("k", plan, now)
                assert (a.allowed, a.policy, a.limit, a.retry_after) == (
                    b.allowed,
                    b.policy,
                    b.limit,
                    b.retry_after,
                )
        finally:
            await remote.aclose()
            delete_prefix(url, prefix)

    asyncio.run(both())


@pytest.mark.redis
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    q=st.integers(1, 4),
    hits=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.one_of(st.just(0), st.integers(1, WINDOW_US // 3), st.just(WINDOW_US)),
        ),
        min_size=1,
        max_size=30,
    ),
    split=st.integers(0, 30),
)
def test_redis_batches_agree_with_the_in_process_backend(
    q: int, hits: list[tuple[str, int]], split: int
) -> None:
    """Hits sent together (one batch, one script call, shared reads per key) decide exactly
    as the same hits one at a time in process, minute window sliding within the batch."""
    plan = Plan("p", per_minute=q, per_month=q + 2)

    async def both() -> None:
        url, prefix = redis_url(), unique_prefix()
        remote, local = RedisLimiter.from_url(url, prefix=prefix), InProcessLimiter()
        now = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)
        timed = []
        for key, step in hits:
            now += timedelta(microseconds=step)
            timed.append((key, now))
        try:
            got = []
            for part in (timed[:split], timed[split:]):  # two batches, in order
                got += await asyncio.gather(*(remote.hit(k, plan, t) for k, t in part))
            want = [await local.hit(k, plan, t) for k, t in timed]
            assert [(d.allowed, d.limit, d.retry_after) for d in got] == [
                (d.allowed, d.limit, d.retry_after) for d in want
            ]
        finally:
            await remote.aclose()
            delete_prefix(url, prefix)

    asyncio.run(both())


@pytest.mark.redis
async def test_redis_hit_is_one_round_trip_in_steady_state(
    redis_limiter: RedisLimiter, clock: Clock
) -> None:
    await redis_limiter.hit("k", SMALL, clock())  # may load the script (NOSCRIPT: 3 trips)
    before = redis_limiter.round_trips
    for _ in range(10):
        clock.advance(seconds=30)
        await redis_limiter.hit("k", SMALL, clock())
    assert redis_limiter.round_trips - before == 10


@pytest.mark.redis
async def test_redis_concurrent_hits_of_one_worker_are_batched_and_each_gets_its_reply(
    redis_limiter: RedisLimiter, clock: Clock
) -> None:
    plan = Plan("p", per_minute=10, per_month=1_000)
    await redis_limiter.hit("warm-up", plan, clock())  # the script is loaded
    before = redis_limiter.round_trips
    results = await asyncio.gather(*(redis_limiter.hit("k", plan, clock()) for _ in range(25)))
    assert redis_limiter.round_trips - before == 1  # one script call for the whole batch
    admitted = [d.states[0].used for d in results if d.allowed]
    assert admitted == list(range(1, 11))  # in call order, each reply to its own request
    assert all(d.limit == '"minute";r=0;t=60' for d in results if not d.allowed)


@pytest.mark.redis
async def test_redis_a_batch_of_several_keys_counts_each_key_apart(
    redis_limiter: RedisLimiter, clock: Clock
) -> None:
    plans = {"a": Plan("p", per_minute=2, per_month=100), "b": Plan("q", per_minute=3, per_month=1)}
    calls = [key for _ in range(4) for key in ("a", "b")]  # a b a b a b a b
    results = await asyncio.gather(*(redis_limiter.hit(k, plans[k], clock()) for k in calls))
    assert [(k, d.allowed) for k, d in zip(calls, results, strict=True)] == [
        ("a", True),
        ("b", True),
        ("a", True),
        ("b", False),  # b's monthly quota of 1 is used up
        ("a", False),
        ("b", False),
        ("a", False),
        ("b", False),
    ]
    assert results[3].violated == "month"
    assert results[4].violated == "minute"


@pytest.mark.redis
async def test_redis_batch_reloads_a_flushed_script(
    redis_limiter: RedisLimiter, clock: Clock
) -> None:
    await redis_limiter.hit("k", SMALL, clock())
    sync = redis.Redis.from_url(redis_url())
    try:
        sync.script_flush()
    finally:
        sync.close()
    plan = Plan("p", per_minute=4, per_month=100)
    results = await asyncio.gather(*(redis_limiter.hit("j", plan, clock()) for _ in range(6)))
    assert [d.allowed for d in results].count(True) == 4
