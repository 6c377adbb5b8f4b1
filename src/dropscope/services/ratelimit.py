"""Counting requests per API key: the `Limiter` protocol and its two backends.

- `InProcessLimiter`: counters in this process's memory. Exact for one worker process only.
- `RedisLimiter`: counters in Redis, exact across any number of worker processes and hosts.
  One request is at most ONE round trip (the hits of concurrent requests in one worker are
  pipelined together by `services.redis_wire`, so under load it is less): a Lua script
  (run by EVALSHA, loaded once; a NOSCRIPT reply, e.g. after a Redis restart, loads it
  again and retries) that, atomically,
  1. drops the minute log's entries older than 60 s (sorted set, score = µs, one unique member
     per admitted request), counts the rest, and reads this month's counter;
  2. if both have room, adds the request to the log and INCRs the month counter (refused
     requests count nowhere);
  3. returns the counts, the oldest logged time, and the value of ``<prefix>:keys_version``
     (``dropscope:keys_version`` by default), so the API-keys cache can notice a revocation
     made by any process without a second round trip (`Decision.keys_version`).

Time comes from the caller (`now`), not from Redis, so tests can inject a clock; workers must
share a clock (NTP), as they do on one host. TTLs are relative to that `now` (EXPIRE rather
than EXPIREAT): the minute log lives 61 s after its last admission; the month counter until
the month ends plus a day (an absolute EXPIREAT computed from an injected clock in the past
would delete the key at once).

Failure policy: Redis unreachable or failing → `StorageError` → 503 problem+json. The limiter
fails *closed*: an API sold by quota must not serve unmetered requests, and a limiter that
silently stops limiting is the failure a client can exploit.

Choose with `build_limiter(redis_url, prefix)`: a URL → Redis, None → in-process.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from datetime import datetime
from typing import Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from dropscope.domain.access import Plan
from dropscope.domain.ratelimit import (
    WINDOW_US,
    Decision,
    WindowLog,
    admits,
    decide,
    epoch_us,
    month_id,
    seconds_to_month_end,
)
from dropscope.errors import StorageError
from dropscope.services.redis_wire import RedisReplyError, RedisUnavailable, RedisWire, bulk

UNAVAILABLE = "rate-limit counters are unavailable; the request was not served, retry shortly"
MINUTE_LOG_TTL_MS = WINDOW_US // 1000 + 1000  # the log outlives its last admission by 1 s
MONTH_GRACE_SECONDS = 86_400  # keep last month's counter a day past its end (usage reports)


class Limiter(Protocol):
    """Counts one request of a key against its plan, or reads the counts."""

    async def hit(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        """Admit or refuse one request at `now`; an admitted one is counted."""
        ...

    async def peek(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        """The current counts, as `hit` would see them, without counting anything;
        `allowed` tells whether a request now would be admitted (for /v1/usage)."""
        ...

    async def aclose(self) -> None:
        """Release connections (app shutdown)."""
        ...


class InProcessLimiter:
    """Counters in a dict. `hit` never awaits, so it is atomic on the event loop; exact for a
    single worker process (`dropscope serve` refuses several workers without Redis)."""

    def __init__(self) -> None:
        self._logs: dict[str, WindowLog] = {}
        self._months: dict[str, tuple[str, int]] = {}  # key_id -> (month id, admitted)

    def _month_used(self, key_id: str, month: str) -> int:
        seen = self._months.get(key_id)
        return seen[1] if seen is not None and seen[0] == month else 0

    async def hit(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        now_us, month = epoch_us(now), month_id(now)
        log = self._logs.get(key_id)
        if log is None:
            log = self._logs[key_id] = WindowLog()
        minute_used = log.count(now_us)
        month_used = self._month_used(key_id, month)
        allowed = admits(plan, minute_used, month_used)
        if allowed:
            log.add(now_us)
            minute_used += 1
            month_used += 1
            self._months[key_id] = (month, month_used)
        return decide(
            plan,
            now,
            allowed=allowed,
            minute_used=minute_used,
            minute_oldest_us=log.oldest,
            month_used=month_used,
        )

    async def peek(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        log = self._logs.get(key_id) or WindowLog()
        minute_used = log.count(epoch_us(now))
        month_used = self._month_used(key_id, month_id(now))
        return decide(
            plan,
            now,
            allowed=admits(plan, minute_used, month_used),
            minute_used=minute_used,
            minute_oldest_us=log.oldest,
            month_used=month_used,
        )

    async def aclose(self) -> None:
        return None


# KEYS: 1 minute log (sorted set), 2 month counter, 3 keys version
# ARGV: 1 per-minute quota, 2 per-month quota, 3 minute log TTL (ms) -- the same for every
#       request of a key in a month, so encoded once (`RedisLimiter._head`) --
#       then 4 now (µs), 5 cutoff = now - 60 s (µs), 6 unique member for this request,
#       7 month counter TTL (s).
# Times travel as strings and are never turned into Lua numbers (which would print them
# with too few digits). The reply is one string, "allowed minute_used month_used oldest
# version" (oldest and version may be empty): one bulk string parses faster than an array.
HIT_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
local minute_used = redis.call('ZCARD', KEYS[1])
local month_used = tonumber(redis.call('GET', KEYS[2]) or '0')
local allowed = 0
if minute_used < tonumber(ARGV[1]) and month_used < tonumber(ARGV[2]) then
  allowed = 1
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[6])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  minute_used = minute_used + 1
  month_used = redis.call('INCR', KEYS[2])
  if month_used == 1 then redis.call('EXPIRE', KEYS[2], ARGV[7]) end
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or ''
local version = redis.call('GET', KEYS[3]) or ''
return allowed .. ' ' .. minute_used .. ' ' .. month_used .. ' ' .. oldest .. ' ' .. version
"""
HIT_ARGS = 7
HIT_SHA = hashlib.sha1(HIT_SCRIPT.encode(), usedforsecurity=False).hexdigest()


class RedisLimiter:
    """Counters in Redis: exact across processes; one round trip per `hit` (the hits of
    concurrent requests in one worker share a pipelined write and read, `RedisWire`).
    `client` (redis-py) serves the cold paths: `peek`, `ping`; `wire` the hot one."""

    def __init__(
        self, client: aioredis.Redis, wire: RedisWire, *, prefix: str = "dropscope"
    ) -> None:
        self._redis = client
        self._wire = wire
        self.prefix = prefix
        self.keys_version_key = f"{prefix}:keys_version"
        self._member = f"{os.getpid()}.{os.urandom(4).hex()}.".encode()  # + a sequence number
        self._seq = itertools.count()
        self._heads: dict[tuple[str, int, int, str], bytes] = {}

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "dropscope", timeout: float = 1.0) -> RedisLimiter:
        """A limiter on new connections. One quick retry covers a pooled connection that
        Redis closed; a Redis that is down fails within about `timeout` seconds."""
        client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client, RedisWire(url, timeout=timeout), prefix=prefix)

    @property
    def round_trips(self) -> int:
        """Commands sent on the hot path so far (each is part of one round trip)."""
        return self._wire.sent

    def _keys(self, key_id: str, now: datetime) -> list[str]:
        base = f"{self.prefix}:rl:{key_id}"
        return [f"{base}:minute", f"{base}:month:{month_id(now)}", self.keys_version_key]

    def _head(self, key_id: str, plan: Plan, now: datetime) -> bytes:
        """The start of a key's EVALSHA command (script, keys, the plan's quotas), encoded
        once per key, plan and month: per request only four arguments are encoded."""
        slot = (key_id, plan.per_minute, plan.per_month, month_id(now))
        head = self._heads.get(slot)
        if head is None:
            if len(self._heads) >= 10_000:
                self._heads.clear()
            head = self._heads[slot] = b"*%d\r\n" % (3 + 3 + HIT_ARGS) + bulk(
                (
                    b"EVALSHA",
                    HIT_SHA,
                    3,
                    *self._keys(key_id, now),
                    plan.per_minute,
                    plan.per_month,
                    MINUTE_LOG_TTL_MS,
                )
            )
        return head

    async def _run(self, command: bytes) -> bytes:
        """EVALSHA the script; on NOSCRIPT (e.g. after a Redis restart), load it and try
        once more. Any failure is a `StorageError` (fail closed)."""
        try:
            try:
                reply = await self._wire.call_encoded(command)
            except RedisReplyError as exc:
                if exc.code != "NOSCRIPT":
                    raise
                await self._wire.call(b"SCRIPT", b"LOAD", HIT_SCRIPT)
                reply = await self._wire.call_encoded(command)
        except (RedisUnavailable, RedisReplyError) as exc:
            raise StorageError(UNAVAILABLE) from exc
        if not isinstance(reply, bytes):
            raise StorageError(UNAVAILABLE)
        return reply

    async def hit(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        now_us = epoch_us(now)
        at, cutoff = b"%d" % now_us, b"%d" % (now_us - WINDOW_US)
        member = b"%b%d" % (self._member, next(self._seq))
        ttl = b"%d" % (seconds_to_month_end(now) + MONTH_GRACE_SECONDS)
        tail = b"$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
            len(at),
            at,
            len(cutoff),
            cutoff,
            len(member),
            member,
            len(ttl),
            ttl,
        )  # ARGV 4-7, as `bulk` would encode them
        reply = await self._run(self._head(key_id, plan, now) + tail)
        allowed, minute_used, month_used, oldest, version = reply.decode().split(" ", 4)
        return decide(
            plan,
            now,
            allowed=allowed == "1",
            minute_used=int(minute_used),
            minute_oldest_us=int(float(oldest)) if oldest else None,
            month_used=int(month_used),
            keys_version=version or None,
        )

    async def peek(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        now_us = epoch_us(now)
        minute_key, month_key, version_key = self._keys(key_id, now)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zcount(minute_key, f"({now_us - WINDOW_US}", "+inf")
                pipe.zrangebyscore(minute_key, f"({now_us - WINDOW_US}", "+inf", 0, 1, True)
                pipe.get(month_key)
                pipe.get(version_key)
                minute_used, oldest, month_used, version = await pipe.execute()
        except RedisError as exc:
            raise StorageError(UNAVAILABLE) from exc
        minute_used, month_used = int(minute_used), int(month_used or 0)
        return decide(
            plan,
            now,
            allowed=admits(plan, minute_used, month_used),
            minute_used=minute_used,
            minute_oldest_us=int(oldest[0][1]) if oldest else None,
            month_used=month_used,
            keys_version=version.decode() if version is not None else None,
        )

    async def ping(self) -> bool:
        """Whether Redis answers (for start-up checks); never raises."""
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def aclose(self) -> None:
        await self._wire.aclose()
        await self._redis.aclose()


def build_limiter(redis_url: str | None, *, prefix: str = "dropscope") -> Limiter:
    """The limiter a worker uses: Redis when `redis_url` (DROPSCOPE_REDIS_URL) is set,
    otherwise in-process counters."""
    if redis_url:
        return RedisLimiter.from_url(redis_url, prefix=prefix)
    return InProcessLimiter()
