"""The public Ask page's budget counters, in this process and in Redis (shared by workers):
per client (an IPv4 address, an IPv6 /64) per clock hour, in all per UTC day; a refusal
counts nothing; Redis away means offline answers, not uncounted paid ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from dropscope.config import Settings
from dropscope.services.public_ask import (
    BUDGET_SPENT,
    PER_ADDRESS_SPENT,
    UNCHECKED,
    InProcessBudget,
    PublicAskBudget,
    RedisBudget,
    Windows,
    budget_for,
)
from tests.ratelimit.conftest import delete_prefix, redis_url, unique_prefix

NOW = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


Make = Callable[[int, int], PublicAskBudget]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make(request: pytest.FixtureRequest) -> Iterator[Make]:
    """A factory of budgets of one backend; Redis ones share the test's own prefix."""
    if request.param == "memory":
        yield InProcessBudget
        return
    url, prefix = redis_url(), unique_prefix()
    made: list[RedisBudget] = []

    def factory(per_address: int, per_day: int) -> RedisBudget:
        made.append(RedisBudget(url, prefix, per_address, per_day))
        return made[-1]

    try:
        yield factory
    finally:
        for b in made:
            b.close()
        delete_prefix(url, prefix)


def test_per_client_per_hour(make: Make) -> None:
    budget = make(2, 100)
    assert [budget.take("198.51.100.1", NOW) for _ in range(3)] == [None, None, PER_ADDRESS_SPENT]
    assert budget.take("198.51.100.2", NOW) is None  # another address
    assert budget.take("2001:db8::1", NOW) is None
    assert budget.take("2001:db8::ffff:1", NOW) is None  # the same /64
    assert budget.take("2001:db8::2", NOW) == PER_ADDRESS_SPENT
    assert budget.take("::ffff:198.51.100.1", NOW) == PER_ADDRESS_SPENT  # the IPv4 client
    assert budget.take("198.51.100.1", NOW + timedelta(minutes=30)) is None  # next hour
    budget.close()


def test_per_utc_day_and_refusals_count_nothing(make: Make) -> None:
    budget = make(1, 2)
    assert budget.take("198.51.100.1", NOW) is None
    assert budget.take("198.51.100.1", NOW) == PER_ADDRESS_SPENT  # not counted in the day
    assert budget.take("198.51.100.2", NOW) is None
    assert budget.take("198.51.100.3", NOW) == BUDGET_SPENT
    assert budget.take(None, NOW) == BUDGET_SPENT
    assert budget.take("198.51.100.3", NOW + timedelta(minutes=31)) is None  # 1 January


@pytest.mark.redis
def test_redis_counters_are_shared_by_workers() -> None:
    url, prefix = redis_url(), unique_prefix()
    one, two = RedisBudget(url, prefix, 5, 3), RedisBudget(url, prefix, 5, 3)
    try:
        assert [b.take(f"198.51.100.{i}", NOW) for i, b in enumerate((one, two, one))] == [
            None,
            None,
            None,
        ]
        assert two.take("198.51.100.9", NOW) == BUDGET_SPENT
    finally:
        one.close()
        two.close()
        delete_prefix(url, prefix)


def test_redis_away_means_offline_answers() -> None:
    budget = RedisBudget("redis://127.0.0.1:1/0", "dropscope_test", 5, 5)  # nothing listens
    try:
        assert budget.take("198.51.100.1", NOW) == UNCHECKED
    finally:
        budget.close()


def test_the_backend_follows_the_settings() -> None:
    assert isinstance(budget_for(Settings(redis_url=None)), InProcessBudget)
    chosen = budget_for(Settings(redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(chosen, RedisBudget)
    chosen.close()


def test_windows() -> None:
    w = Windows.at(NOW)
    assert (w.hour, w.hour_left, w.day, w.day_left) == ("2026-12-31T23", 1801, "2026-12-31", 1801)
