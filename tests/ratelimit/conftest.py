"""Fixtures for rate-limit tests: a clock to move by hand, and Redis limiters whose keys live
under a prefix of their own (`dropscope_test_<pid>_<random>`), deleted afterwards: the tests
never touch another key of the server.

Redis tests run when DROPSCOPE_TEST_REDIS_URL is set (the Makefile sets it); otherwise they
are skipped, with that reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from dropscope.services.ratelimit import InProcessLimiter, Limiter, RedisLimiter

REDIS_URL_VAR = "DROPSCOPE_TEST_REDIS_URL"


def redis_url() -> str:
    url = os.environ.get(REDIS_URL_VAR, "").strip()
    if not url:
        pytest.skip(f"{REDIS_URL_VAR} is not set: Redis tests are skipped")
    return url


def unique_prefix() -> str:
    return f"dropscope_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under `prefix:` (and only those)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class Clock:
    """A clock the test moves: `clock()` reads it, `clock.advance(seconds=...)` moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """(url, prefix) for a test's own Redis keys, deleted after the test."""
    url, prefix = redis_url(), unique_prefix()
    try:
        yield url, prefix
    finally:
        delete_prefix(url, prefix)


@pytest.fixture
async def redis_limiter(redis_prefix: tuple[str, str]) -> AsyncIterator[RedisLimiter]:
    url, prefix = redis_prefix
    limiter = RedisLimiter.from_url(url, prefix=prefix)
    try:
        yield limiter
    finally:
        await limiter.aclose()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Limiter]:
    """Each backend in turn: the same tests must pass on both."""
    if request.param == "memory":
        yield InProcessLimiter()
        return
    url, prefix = redis_url(), unique_prefix()
    backend = RedisLimiter.from_url(url, prefix=prefix)
    try:
        yield backend
    finally:
        await backend.aclose()
        delete_prefix(url, prefix)
