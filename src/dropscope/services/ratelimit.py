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

import asyncio
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


# One script call counts a whole batch: the hits that the concurrent requests of one worker
# made in one event-loop turn, in the order they were made, each exactly as if alone.
# KEYS: for request i of the batch, 2i-1 its key's minute log (sorted set) and 2i its month
#       counter; the last one is the keys version.
# ARGV: 1 the minute log's TTL (ms); then six per request, from a = 2 + 6(i-1): per-minute
#       quota, per-month quota, now (µs), cutoff = now - 60 s (µs), a unique member, the
#       month counter's TTL (s).
# The reply is an array: for each request one string "allowed minute_used month_used
# oldest" (oldest may be empty), then the keys version ('' if none).
#
# Requests of the same key in one batch share their reads: the log is trimmed and counted
# once, and again only when its oldest entry has left a later request's window; admissions
# are written at the end (one ZADD per log, one PEXPIRE, one INCRBY per month counter).
# Scores are µs since the epoch, below 2^53, so Lua numbers compare them exactly; they are
# only compared in Lua, and travel to Redis as the strings they came in.
HIT_SCRIPT = """
local n = (#KEYS - 1) / 2
local out, logs, months, order = {}, {}, {}, {}
local function first_score(log)
  return redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')[2]
end
local function earlier(x, y)
  if x == nil then return y end
  if y == nil or tonumber(x) <= tonumber(y) then return x end
  return y
end
local function write(log, st)  -- the batch's admissions to this log, in one ZADD per 1,000
  for from = 1, #st.pending, 1000 do
    local args = {}
    for j = from, math.min(from + 999, #st.pending) do
      args[#args + 1] = st.pending[j][1]
      args[#args + 1] = st.pending[j][2]
    end
    redis.call('ZADD', log, unpack(args))
  end
  if #st.pending > 0 then redis.call('PEXPIRE', log, ARGV[1]) end
  st.pending, st.pmin = {}, nil
end
for i = 1, n do
  local log, month_key, a = KEYS[2 * i - 1], KEYS[2 * i], 2 + 6 * (i - 1)
  local now, cutoff = ARGV[a + 2], ARGV[a + 3]
  local st = logs[log]
  if st == nil or (st.pmin and tonumber(st.pmin) <= tonumber(cutoff)) then
    if st == nil then  -- the key's first request in this batch
      st = {pending = {}}
      logs[log] = st
      order[#order + 1] = log
    else  -- the batch spans a whole window (only with injected clocks): write, then count
      write(log, st)
    end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
    st.used = redis.call('ZCARD', log)
    st.stored = first_score(log)
  elseif st.stored and tonumber(st.stored) <= tonumber(cutoff) then
    st.used = st.used - redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
    st.stored = first_score(log)
  end
  local mo = months[month_key]
  if mo == nil then
    local base = tonumber(redis.call('GET', month_key) or '0')
    mo = {used = base, base = base, added = 0, ttl = ARGV[a + 5]}
    months[month_key] = mo
  end
  local allowed = 0
  if st.used < tonumber(ARGV[a]) and mo.used < tonumber(ARGV[a + 1]) then
    allowed = 1
    st.used = st.used + 1
    st.pending[#st.pending + 1] = {now, ARGV[a + 4]}
    st.pmin = earlier(st.pmin, now)
    mo.used = mo.used + 1
    mo.added = mo.added + 1
  end
  local oldest = earlier(st.stored, st.pmin) or ''
  out[i] = allowed .. ' ' .. st.used .. ' ' .. mo.used .. ' ' .. oldest
end
for _, log in ipairs(order) do write(log, logs[log]) end
for month_key, mo in pairs(months) do
  if mo.added > 0 then
    redis.call('INCRBY', month_key, mo.added)
    if mo.base == 0 then redis.call('EXPIRE', month_key, mo.ttl) end
  end
end
out[n + 1] = redis.call('GET', KEYS[#KEYS]) or ''
return out
"""
HIT_SHA = hashlib.sha1(HIT_SCRIPT.encode(), usedforsecurity=False).hexdigest()
_EVALSHA = bulk((b"EVALSHA", HIT_SHA))
_Hit = tuple[bytes, bytes, asyncio.Future[tuple[bytes, bytes]]]  # keys, args, its reply


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
        self._encoded_keys: dict[tuple[str, str], bytes] = {}
        self._encoded_plans: dict[tuple[int, int], bytes] = {}
        self._version_key = bulk((self.keys_version_key,))
        self._log_ttl = bulk((MINUTE_LOG_TTL_MS,))
        self._queue: list[_Hit] = []
        self._senders: set[asyncio.Task[None]] = set()

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
        """Script calls sent so far (each one request, or a batch of concurrent ones)."""
        return self._wire.sent

    def _keys(self, key_id: str, now: datetime) -> list[str]:
        base = f"{self.prefix}:rl:{key_id}"
        return [f"{base}:minute", f"{base}:month:{month_id(now)}", self.keys_version_key]

    def _key_part(self, key_id: str, now: datetime) -> bytes:
        """A key's two Redis keys, RESP-encoded once per key and month."""
        slot = (key_id, month_id(now))
        part = self._encoded_keys.get(slot)
        if part is None:
            if len(self._encoded_keys) >= 10_000:
                self._encoded_keys.clear()
            part = self._encoded_keys[slot] = bulk(tuple(self._keys(key_id, now)[:2]))
        return part

    def _plan_part(self, plan: Plan) -> bytes:
        slot = (plan.per_minute, plan.per_month)
        part = self._encoded_plans.get(slot)
        if part is None:
            part = self._encoded_plans[slot] = bulk(slot)
        return part

    def _send(self) -> None:
        """Send the queued hits (one batch, one script call) from a task of their own."""
        batch, self._queue = self._queue, []
        n = len(batch)
        command = b"".join(
            (
                b"*%d\r\n" % (3 + 2 * n + 2 + 6 * n),
                _EVALSHA,
                b"$%d\r\n%d\r\n" % (len(str(2 * n + 1)), 2 * n + 1),
                *(keys for keys, _, _ in batch),
                self._version_key,  # the last key; then ARGV[1], then each request's six
                self._log_ttl,
                *(args for _, args, _ in batch),
            )
        )
        task = asyncio.get_running_loop().create_task(self._call(command, batch))
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    async def _call(self, command: bytes, batch: list[_Hit]) -> None:
        """Run one batch; on NOSCRIPT (e.g. after a Redis restart) load the script and try
        once more. Any failure fails every request of the batch with `StorageError`."""
        try:
            try:
                reply = await self._wire.call_encoded(command)
            except RedisReplyError as exc:
                if exc.code != "NOSCRIPT":
                    raise
                await self._wire.call(b"SCRIPT", b"LOAD", HIT_SCRIPT)
                reply = await self._wire.call_encoded(command)
            if not isinstance(reply, list) or len(reply) != len(batch) + 1:
                raise RedisUnavailable(f"unexpected reply to the rate-limit script: {reply!r}")
        except BaseException as exc:  # Redis failed, or this task was cancelled (shutdown)
            for _, _, waiter in batch:
                if not waiter.done():  # a request that went away no longer waits
                    error = StorageError(UNAVAILABLE)
                    error.__cause__ = exc
                    waiter.set_exception(error)
            if not isinstance(exc, RedisUnavailable | RedisReplyError):
                raise
            return
        version = reply[-1]
        for (_, _, waiter), result in zip(batch, reply, strict=False):
            if not waiter.done():
                waiter.set_result((result, version))

    async def hit(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        now_us = epoch_us(now)
        at, cutoff = b"%d" % now_us, b"%d" % (now_us - WINDOW_US)
        member = b"%b%d" % (self._member, next(self._seq))
        ttl = b"%d" % (seconds_to_month_end(now) + MONTH_GRACE_SECONDS)
        args = self._plan_part(plan) + b"$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
            len(at),
            at,
            len(cutoff),
            cutoff,
            len(member),
            member,
            len(ttl),
            ttl,
        )  # this request's six arguments, as `bulk` would encode them
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
        self._queue.append((self._key_part(key_id, now), args, waiter))
        if len(self._queue) == 1:  # the first of a batch: sent once the ready tasks queued
            loop.call_soon(self._send)
        result, version = await waiter
        allowed, minute_used, month_used, oldest = result.decode().split(" ", 3)
        return decide(
            plan,
            now,
            allowed=allowed == "1",
            minute_used=int(minute_used),
            minute_oldest_us=int(float(oldest)) if oldest else None,
            month_used=int(month_used),
            keys_version=version.decode() or None,
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
