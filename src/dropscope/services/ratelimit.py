"""Counting requests per API key: the `Limiter` protocol and its two backends.

- `InProcessLimiter`: counters in this process's memory. Exact for one worker process only.
- `RedisLimiter`: counters in Redis, exact across any number of worker processes and hosts.
  A request costs at most ONE round trip (the hits of concurrent requests in one worker are
  pipelined together by `services.redis_wire`), and none when a lease admits it. The round
  trip is a Lua script (run by EVALSHA, loaded once; a NOSCRIPT reply, e.g. after a Redis
  restart, loads it again and retries) that, atomically,
  1. settles this worker's finished leases (their unused permits go back);
  2. drops the minute log's entries older than 60 s (sorted set: one member per admitted
     request, scored at its time, or per lease, scored at its end), counts the rest, and
     reads this month's counter;
  3. if both have room, adds the request to the log and INCRs the month counter (refused
     requests count nowhere), and grants a lease of further permits to a busy key;
  4. returns the counts, the oldest logged time, the lease, and the value of
     ``<prefix>:keys_version`` (``dropscope:keys_version`` by default), so the API-keys cache
     can notice a revocation made by any process without a second round trip
     (`Decision.keys_version`).

  **Leases** (see `RedisLimiter`): a worker that sees a key often takes permits ahead,
  counted in Redis at once, and admits the key's next requests from them without a call,
  for about 64 requests (1 to `lease_seconds`, default 5 s); then it gives back what it did
  not use. A permit counts from its grant until 60 s after its lease's end, so no 60-s window
  ever admits more than the quota; a key close to its quota gets small, short leases, and a
  request refused while other workers hold permits asks again (up to 1 s) as they come back.
  With a remote key cache (PostgreSQL), leases are used only while the keys version is
  pushed to the worker (`services.redis_pubsub`).

Time comes from the caller (`now`), not from Redis, so tests can inject a clock; workers must
share a clock (NTP), as they do on one host. TTLs are relative to that `now` (EXPIRE rather
than EXPIREAT): the minute log lives 61 s after its last admission; the month counter until
the month ends plus a day (an absolute EXPIREAT computed from an injected clock in the past
would delete the key at once).

Failure policy: Redis unreachable or failing → `StorageError` → 503 problem+json. The limiter
fails *closed*: an API sold by quota must not serve unmetered requests, and a limiter that
silently stops limiting is the failure a client can exploit.

Choose with `build_limiter(redis_url, prefix, lease_seconds, watch_keys)`: a URL → Redis,
None → in-process.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from dropscope.domain.access import Plan
from dropscope.domain.ratelimit import (
    US,
    WINDOW_US,
    Decision,
    WindowLog,
    admits,
    admitted,
    decide,
    epoch_us,
    month_id,
    month_span,
    seconds_to_month_end,
)
from dropscope.errors import StorageError
from dropscope.services.redis_pubsub import Subscription
from dropscope.services.redis_wire import RedisReplyError, RedisUnavailable, RedisWire, bulk

UNAVAILABLE = "rate-limit counters are unavailable; the request was not served, retry shortly"
MINUTE_LOG_TTL_MS = WINDOW_US // 1000 + 1000  # the log outlives its last admission by 1 s
MONTH_GRACE_SECONDS = 86_400  # keep last month's counter a day past its end (usage reports)
LEASE_SECONDS = 5.0  # the longest a worker may hold permits of a key (`RedisLimiter`)
MIN_LEASE_SECONDS = 1.0  # the shortest lease (unless LEASE_SECONDS is shorter)
LEASE_TARGET = 64  # requests a lease should serve: it lasts about that many of the key's
LEASE_SHARE = 8  # a lease takes at most 1/8 of what a key has left in each policy
MAX_LEASE = 10_000  # permits in one lease, at most
FIRST_RETRY_SECONDS = 0.005  # a hit refused while leases are open asks again after this, x2...
MAX_WAIT_SECONDS = 1.0  # ... for at most this long in all
SWEEP_SECONDS = 0.1  # how often ended leases are settled and waiting settlements sent


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


# One script call runs a whole batch: the settlements of this worker's finished leases, then
# the hits that the concurrent requests of one worker made in one event-loop turn, in the
# order they were made, each decided exactly as if alone.
# KEYS: for entry i of the batch, 3i-2 its key's minute log (sorted set), 3i-1 its month
#       counter, 3i its state (hash: 'n' the permits in the log; each open lease's id -> its
#       end, µs); the last one is the keys version.
# ARGV: 1 the minute log's TTL (ms), 2 the lease share (a lease takes at most 1/share of what
#       is left), 3 the recall channel; then ten per entry, from a = 4 + 10(i-1):
#       a hit:        'h', per-minute quota, per-month quota, now (µs), cutoff = now - 60 s
#                     (µs), a unique member, the month counter's TTL (s), the lease wanted
#                     (permits, 0 for none), the lease's end (µs), and its end if it gets
#                     less than wanted (the key is short of permits: hold them briefly);
#       a settlement: 's', the lease id, permits granted, permits used, then six ''.
# The reply is an array: for each hit one string "allowed minute_used month_used oldest
# granted wait" (oldest and wait may be empty), '' for each settlement, then the keys
# version ('' if none).
#
# The minute log holds one member per admitted request (scored at its time), and one per
# lease, ``<id>*<g>`` for g permits, scored at the lease's END: its permits count from the
# moment they are granted until 60 s after the last moment they may be used, so no 60-s
# window ever holds more than the quota, whoever uses them. A lease also counts g in the
# month. Its settlement gives the unused ones back (the member becomes ``<id>*<used>``, the
# month counter goes down) and closes it. A refused hit reports the earliest end of the
# other open leases of its key (`wait`) and publishes the key's state name on the recall
# channel: the workers holding them settle at once, and the caller asks again shortly.
# The state's 'n' saves summing the log on every call; it is recounted if lost.
#
# Requests of the same key in one batch share their reads: the log is trimmed and counted
# once, and again only when its oldest entry has left a later request's window; admissions
# are written at the end (one ZADD per log, one PEXPIRE, one INCRBY per month counter).
# Scores are µs since the epoch, below 2^53, so Lua numbers compare them exactly; they are
# only compared in Lua, and travel to Redis as the strings they came in.
HIT_SCRIPT = """
local n = (#KEYS - 1) / 3
local share = tonumber(ARGV[2])
local out, logs, months, order = {}, {}, {}, {}
local function first_score(log)
  return redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')[2]
end
local function earlier(x, y)
  if x == nil then return y end
  if y == nil or tonumber(x) <= tonumber(y) then return x end
  return y
end
local function permits(member)  -- a request: 1; a lease <id>*<g>: g
  return tonumber(string.match(member, '%*(%d+)$')) or 1
end
local function trim(log, cutoff)  -- drop what left the window; the permits it held
  local gone, count = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff), 0
  if #gone == 0 then return 0 end
  for _, m in ipairs(gone) do count = count + permits(m) end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
  return count
end
local function load(log, state, cutoff)  -- the permits in the window, after trimming
  local gone = trim(log, cutoff)
  if redis.call('ZCARD', log) == 0 then return 0 end
  local total = redis.call('HGET', state, 'n')
  if total then return tonumber(total) - gone end
  local count = 0  -- the total was lost (e.g. evicted): count again
  for _, m in ipairs(redis.call('ZRANGE', log, 0, -1)) do count = count + permits(m) end
  return count
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
local function settle(log, month_key, state, id, granted, used)
  if redis.call('HDEL', state, id) == 0 or used >= granted then return end
  local member = id .. '*' .. granted
  local score = redis.call('ZSCORE', log, member)
  if score then
    redis.call('ZREM', log, member)
    if used > 0 then redis.call('ZADD', log, score, id .. '*' .. used) end
    local total = redis.call('HGET', state, 'n')
    if total then redis.call('HSET', state, 'n', math.max(0, total - (granted - used))) end
  end
  if redis.call('EXISTS', month_key) == 1 then
    redis.call('DECRBY', month_key, granted - used)
  end
end
for i = 1, n do
  local log, month_key, state, a = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], 4 + 10 * (i - 1)
  if ARGV[a] == 's' then  -- settlements come first in a batch, before any read below
    settle(log, month_key, state, ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]))
    out[i] = ''
  else
    local now, cutoff = ARGV[a + 3], ARGV[a + 4]
    local st = logs[log]
    if st == nil then  -- the key's first request in this batch
      st = {pending = {}, state = state, used = load(log, state, cutoff)}
      st.stored = first_score(log)
      logs[log] = st
      order[#order + 1] = log
    elseif st.pmin and tonumber(st.pmin) <= tonumber(cutoff) then
      write(log, st)  -- the batch spans a whole window (only with injected clocks)
      st.used = st.used - trim(log, cutoff)
      st.stored = first_score(log)
    elseif st.stored and tonumber(st.stored) <= tonumber(cutoff) then
      st.used = st.used - trim(log, cutoff)
      st.stored = first_score(log)
    end
    local mo = months[month_key]
    if mo == nil then
      local base = tonumber(redis.call('GET', month_key) or '0')
      mo = {used = base, base = base, added = 0, ttl = ARGV[a + 6]}
      months[month_key] = mo
    end
    local allowed, granted, wait = 0, 0, nil
    local per_minute, per_month = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    if st.used < per_minute and mo.used < per_month then
      allowed = 1
      st.used = st.used + 1
      st.pending[#st.pending + 1] = {now, ARGV[a + 5]}
      st.pmin = earlier(st.pmin, now)
      mo.used = mo.used + 1
      mo.added = mo.added + 1
      local want = tonumber(ARGV[a + 7])
      local g = math.min(want, math.floor((per_minute - st.used) / share),
                         math.floor((per_month - mo.used) / share))
      if g >= 2 then  -- a lease: g more permits, used by this worker without asking
        local id, ends = ARGV[a + 5], ARGV[a + 8]
        if g < want then ends = ARGV[a + 9] end
        st.pending[#st.pending + 1] = {ends, id .. '*' .. g}
        st.used = st.used + g
        mo.used = mo.used + g
        mo.added = mo.added + g
        redis.call('HSET', state, id, ends)
        granted = g
      end
    else  -- refused: permits held by other leases come back when recalled, or when they end
      local open = redis.call('HGETALL', state)
      for j = 1, #open, 2 do
        if open[j] ~= 'n' then
          if tonumber(open[j + 1]) > tonumber(now) then
            wait = earlier(wait, open[j + 1])
          else
            redis.call('HDEL', state, open[j])  -- ended, never settled (its worker stopped)
          end
        end
      end
      if wait then redis.call('PUBLISH', ARGV[3], state) end  -- holders: give them back
    end
    local oldest = earlier(st.stored, st.pmin) or ''
    out[i] = allowed .. ' ' .. st.used .. ' ' .. mo.used .. ' ' .. oldest .. ' ' .. granted
      .. ' ' .. (wait or '')
  end
end
for _, log in ipairs(order) do
  local st = logs[log]
  write(log, st)
  redis.call('HSET', st.state, 'n', st.used)
  redis.call('PEXPIRE', st.state, ARGV[1])
end
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
_SETTLE_TAIL = bulk(("",) * 6)
# An entry of a batch: its three keys and ten arguments, RESP-encoded, and who waits for its
# reply (None for a settlement).
_Entry = tuple[bytes, bytes, asyncio.Future[tuple[bytes, bytes]] | None]


def permits(member: bytes) -> int:
    """The permits a minute-log member holds: 1 for a request, g for a lease ``<id>*<g>``."""
    _, star, count = member.rpartition(b"*")
    return int(count) if star else 1


class _Lease:
    """Permits this worker holds for one key (see `RedisLimiter`). `left` goes down as
    requests use them; the counts are as Redis reported them at the grant, which included
    the whole lease."""

    __slots__ = (
        "end_us",
        "expires",
        "granted",
        "id",
        "keys",
        "left",
        "minute_used",
        "month",
        "month_used",
        "oldest_us",
        "plan",
        "start_us",
    )

    def __init__(
        self,
        lease_id: bytes,
        keys: bytes,
        plan: Plan,
        start_us: int,
        end_us: int,
        month: tuple[int, int],
        granted: int,
        counts: tuple[int, int, int | None],
    ) -> None:
        self.id, self.keys, self.plan = lease_id, keys, plan
        self.start_us, self.end_us, self.month = start_us, end_us, month
        self.granted = self.left = granted
        self.minute_used, self.month_used, self.oldest_us = counts
        self.expires = 0.0  # the end, in the event loop's clock (for the sweep)

    def usable(self, plan: Plan, now_us: int) -> bool:
        return (
            self.left > 0
            and self.start_us <= now_us < self.end_us
            and now_us < self.month[1]
            and (plan is self.plan or plan == self.plan)
        )


class RedisLimiter:
    """Counters in Redis: exact across processes; at most one round trip per `hit` (the
    hits of concurrent requests in one worker share a pipelined write and read, `RedisWire`),
    and none for a hit served from a lease.

    **Leases** (`lease_seconds` > 0): a key that this worker sees more than once a second
    asks, with its next hit, for permits ahead: twice what its last lease saw used, over
    about `LEASE_TARGET` of its requests (1 s to `lease_seconds`), at most 1/`LEASE_SHARE`
    of what the key has left in both policies (so a key near its limit goes back to one
    call per request), and for at most 1 s when it gets less than it asked. Redis counts
    the permits at once, in the minute log (scored at the lease's end) and the month, so
    they are never admitted twice; this worker then admits requests of that key from the
    lease without a round trip, until it is used up or its time is over, and then settles
    it (with its next batch, or the sweep every `SWEEP_SECONDS`): the unused permits go
    back. A permit so counts from its grant until 60 s after its lease ends, at most
    `lease_seconds` earlier and later than its request: no 60-s window ever admits more
    than the quota.

    A hit refused while other workers hold open leases of its key publishes a recall (the
    script does): the holders settle at once (`_recalled`), and the refused hit asks again
    after 5, 10, 20 ... ms, for at most `MAX_WAIT_SECONDS`; so a burst across workers still
    gets exactly the quota. Leases therefore need this worker's subscription
    (`services.redis_pubsub`), and are used only while it is up; with `watch_keys` (a
    remote key cache, PostgreSQL) it also brings the keys version, which a leased hit has
    no reply to carry. `lease_seconds=0` turns leases off.

    `client` (redis-py) serves the cold paths: `peek`, `ping`; `wire` the hot one."""

    def __init__(
        self,
        client: aioredis.Redis,
        wire: RedisWire,
        *,
        prefix: str = "dropscope",
        lease_seconds: float = LEASE_SECONDS,
        subscription: Subscription | None = None,
    ) -> None:
        self._redis = client
        self._wire = wire
        self._subscription = subscription  # leases only while it is up (none without it)
        self.prefix = prefix
        self.keys_version_key = f"{prefix}:keys_version"
        self.recall_channel = f"{prefix}:rl:recall"
        self._member = f"{os.getpid()}.{os.urandom(4).hex()}.".encode()  # + a sequence number
        self._seq = itertools.count()
        self._encoded_keys: dict[tuple[str, str], bytes] = {}
        self._encoded_plans: dict[tuple[int, int], bytes] = {}
        self._version_key = bulk((self.keys_version_key,))
        self._head = bulk((MINUTE_LOG_TTL_MS, LEASE_SHARE, self.recall_channel))
        self._queue: list[_Entry] = []
        self._settling: list[_Entry] = []
        self._senders: set[asyncio.Task[None]] = set()
        self._sweeping: asyncio.TimerHandle | None = None
        self._max_us = int(lease_seconds * US)
        self._min_us = min(self._max_us, int(MIN_LEASE_SECONDS * US))
        self._leases: dict[str, _Lease] = {}
        self._state_names: dict[bytes, str] = {}  # a key's state (Redis key name) -> key id
        self._asking: set[str] = set()  # keys with a lease request on its way
        # key -> [start of the current period (µs), hits in it, hits/s its last lease saw]
        self._demand: dict[str, list[float]] = {}
        self.leased_hits = 0  # hits admitted from a lease, without a round trip
        self._version = -1  # the highest keys version seen (-1: none yet)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "dropscope",
        timeout: float = 1.0,
        lease_seconds: float = LEASE_SECONDS,
        watch_keys: bool = False,
    ) -> RedisLimiter:
        """A limiter on new connections. One quick retry covers a pooled connection that
        Redis closed; a Redis that is down fails within about `timeout` seconds.

        With leases (`lease_seconds` > 0) it subscribes to the recall channel, and with
        `watch_keys` (callers rely on each decision's `keys_version`: a remote
        `KeyVerifier`) to the keys version's pushes too (`services.redis_pubsub`); leases
        are used only while that subscription is up."""
        client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        wire = RedisWire(url, timeout=timeout)
        limiter = cls(client, wire, prefix=prefix, lease_seconds=lease_seconds)
        if lease_seconds > 0:
            handlers: dict[str, Callable[[bytes], None]] = {
                limiter.recall_channel: limiter._recalled
            }
            if watch_keys:
                handlers[limiter.keys_version_key] = limiter._pushed_version
            limiter._subscription = Subscription(
                url,
                handlers,
                on_up=limiter._read_version if watch_keys else None,
                timeout=timeout,
            )
        return limiter

    def _pushed_version(self, data: bytes) -> None:
        self._saw_version(data.decode())

    def _recalled(self, state_name: bytes) -> None:
        """A request for this key was refused while leases held permits: give ours back
        now, so that it gets them when it asks again."""
        key_id = self._state_names.get(state_name)
        lease = self._leases.get(key_id) if key_id is not None else None
        if key_id is not None and lease is not None:
            self._settle(key_id, lease, lease.end_us)
            asyncio.get_running_loop().call_soon(self._send)

    def _saw_version(self, text: str) -> None:
        """A keys version read or pushed: keep the highest (they only go up)."""
        if text and int(text) > self._version:
            self._version = int(text)

    async def _read_version(self) -> None:
        """Read the keys version (after (re)subscribing: a push may have been missed)."""
        reply = await self._wire.call(b"GET", self.keys_version_key)
        if isinstance(reply, bytes):
            self._saw_version(reply.decode())

    async def subscribe(self, timeout: float = 2.0) -> bool:
        """Start the subscription that leases need, and wait until it is up (at most
        `timeout` seconds); whether it is. Without it leases come once it is up anyway:
        the first hit that would ask for one starts it."""
        if self._subscription is None:
            return False
        self._subscription.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._subscription.up and loop.time() < deadline:
            await asyncio.sleep(0.01)
        return self._subscription.up

    def _subscribed(self) -> bool:
        return self._subscription is not None and self._subscription.up

    @property
    def keys_version(self) -> str | None:
        """The highest keys version this limiter has seen (None: never set)."""
        return str(self._version) if self._version >= 0 else None

    @property
    def round_trips(self) -> int:
        """Script calls sent so far (each one request, or a batch of concurrent ones)."""
        return self._wire.sent

    def _keys(self, key_id: str, now: datetime) -> list[str]:
        base = f"{self.prefix}:rl:{key_id}"
        return [
            f"{base}:minute",
            f"{base}:month:{month_id(now)}",
            f"{base}:state",
            self.keys_version_key,
        ]

    def _key_part(self, key_id: str, now: datetime) -> bytes:
        """A key's three Redis keys, RESP-encoded once per key and month."""
        slot = (key_id, month_id(now))
        part = self._encoded_keys.get(slot)
        if part is None:
            if len(self._encoded_keys) >= 10_000:
                self._encoded_keys.clear()
            part = self._encoded_keys[slot] = bulk(tuple(self._keys(key_id, now)[:3]))
        return part

    def _plan_part(self, plan: Plan) -> bytes:
        slot = (plan.per_minute, plan.per_month)
        part = self._encoded_plans.get(slot)
        if part is None:
            part = self._encoded_plans[slot] = bulk((b"h", *slot))
        return part

    def _enqueue(self, entry: _Entry, *, settlement: bool = False) -> None:
        """Queue a hit for the next batch, sent once the ready tasks have queued theirs; or
        a settlement, which is in no hurry (its permits are counted meanwhile, never too
        few): it goes with the next batch of hits, or with the next sweep."""
        if settlement:
            self._settling.append(entry)
            self._schedule_sweep()
            return
        if not self._queue:
            asyncio.get_running_loop().call_soon(self._send)
        self._queue.append(entry)

    def _schedule_sweep(self) -> None:
        if self._sweeping is None:
            loop = asyncio.get_running_loop()
            self._sweeping = loop.call_later(SWEEP_SECONDS, self._sweep)

    def _sweep(self) -> None:
        """Every `SWEEP_SECONDS` while leases are open or settlements wait: settle the
        leases whose time is over (their keys went quiet) and send the settlements that no
        batch of hits took along."""
        self._sweeping = None
        now = asyncio.get_running_loop().time()
        for key_id, lease in [(k, v) for k, v in self._leases.items() if v.expires <= now]:
            self._settle(key_id, lease, lease.end_us)
        if self._settling and not self._queue:
            self._send()
        if self._leases:
            self._schedule_sweep()

    def _send(self) -> None:
        """Send the queued entries (one batch, one script call) from a task of their own."""
        batch = self._settling + self._queue
        self._settling, self._queue = [], []
        if not batch:
            return
        n = len(batch)
        command = b"".join(
            (
                b"*%d\r\n" % (3 + 3 * n + 4 + 10 * n),
                _EVALSHA,
                b"$%d\r\n%d\r\n" % (len(str(3 * n + 1)), 3 * n + 1),
                *(keys for keys, _, _ in batch),
                self._version_key,  # the last key; then ARGV[1..3], then each entry's ten
                self._head,
                *(args for _, args, _ in batch),
            )
        )
        task = asyncio.get_running_loop().create_task(self._call(command, batch))
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    async def _call(self, command: bytes, batch: list[_Entry]) -> None:
        """Run one batch; on NOSCRIPT (e.g. after a Redis restart) load the script and try
        once more. Any failure fails every request of the batch with `StorageError` (a
        settlement that fails leaves its permits counted until they expire: never too many)."""
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
                if waiter is not None and not waiter.done():  # a request that went away
                    error = StorageError(UNAVAILABLE)  # no longer waits
                    error.__cause__ = exc
                    waiter.set_exception(error)
            if not isinstance(exc, RedisUnavailable | RedisReplyError):
                raise
            return
        version = reply[-1]
        for (_, _, waiter), result in zip(batch, reply, strict=False):
            if waiter is not None and not waiter.done():
                waiter.set_result((result, version))

    def _want(self, key_id: str, now_us: int) -> tuple[int, int]:
        """The lease this hit asks for: (permits, duration in µs), (0, 0) for none.

        The duration is the time `LEASE_TARGET` requests of the key take at the rate its
        last lease saw, between `MIN_LEASE_SECONDS` and `lease_seconds`; the permits, twice
        what that rate uses in it (room to spare: a lease should last its time), or the
        hits of the current period if more. A key seen once per period asks for none, as
        does one with a request already asking."""
        if self._max_us <= 0 or key_id in self._asking:
            return 0, 0
        if self._subscription is None:
            return 0, 0
        if not self._subscription.up:
            self._subscription.start()  # leases once this worker hears recalls (and pushes)
            return 0, 0
        period = self._demand.get(key_id)
        if period is None or not 0 <= now_us - period[0] < self._min_us:
            rate = 0.0  # carried over from the last lease, if it was recent
            if period is not None and now_us - period[0] < 2 * self._max_us:
                rate = period[2]
            if len(self._demand) >= 10_000:
                self._demand.clear()
            period = self._demand[key_id] = [now_us, 0, rate]
        period[1] += 1
        rate = period[2]
        duration = self._min_us
        if rate > 0:
            duration = int(min(self._max_us, max(self._min_us, LEASE_TARGET * US / rate)))
        want = min(MAX_LEASE, max(int(period[1]), math.ceil(2 * rate * duration / US)))
        if want < 2:
            return 0, 0
        self._asking.add(key_id)
        return want, duration

    def _settle(self, key_id: str, lease: _Lease, now_us: int) -> None:
        """Close `lease` at `now_us`: give its unused permits back (in the next batch), and
        remember the rate it saw (hits per second), so that the next lease fits."""
        if self._leases.get(key_id) is lease:
            del self._leases[key_id]
        used = lease.granted - lease.left
        lasted = min(now_us, lease.end_us) - lease.start_us
        self._demand[key_id] = [now_us, 0, used * US / max(lasted, 1_000)]
        args = b"$1\r\ns\r\n" + bulk((lease.id, lease.granted, used)) + _SETTLE_TAIL
        self._enqueue((lease.keys, args, None), settlement=True)

    async def hit(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        now_us = epoch_us(now)
        lease = self._leases.get(key_id)
        if lease is not None:
            if lease.usable(plan, now_us) and self._subscribed():
                lease.left -= 1
                self.leased_hits += 1
                if lease.left == 0:
                    self._settle(key_id, lease, now_us)
                return admitted(
                    plan,
                    now_us,
                    lease.minute_used - lease.left,
                    lease.oldest_us,
                    lease.month_used - lease.left,
                    lease.month,
                    self.keys_version,
                )
            self._settle(key_id, lease, now_us)  # ended, plan or month changed, watch down
        pause, waited = FIRST_RETRY_SECONDS, 0.0
        while True:
            decision, wait_us = await self._hit_remote(key_id, plan, now, now_us)
            if decision.allowed or wait_us is None or waited >= MAX_WAIT_SECONDS:
                return decision
            # refused while other workers hold leases of this key: the script recalled them,
            # and their holders settle as they hear it; ask again soon, backing off, until
            # the first one has ended anyway or MAX_WAIT_SECONDS have passed
            delay = min(pause, (wait_us - now_us) / US + 0.001, MAX_WAIT_SECONDS - waited)
            waited += delay
            await asyncio.sleep(delay)
            pause *= 2
            now += timedelta(seconds=delay)  # in this clock's time as in real time
            now_us = epoch_us(now)

    async def _hit_remote(
        self, key_id: str, plan: Plan, now: datetime, now_us: int
    ) -> tuple[Decision, int | None]:
        """One hit counted by Redis, maybe with a lease; the decision and, when refused,
        the end of the first open lease of the key (µs), if any."""
        want, duration = self._want(key_id, now_us)
        end, short_end = now_us + duration, now_us + min(duration, self._min_us)
        at, cutoff = b"%d" % now_us, b"%d" % (now_us - WINDOW_US)
        member = b"%b%d" % (self._member, next(self._seq))
        ttl = b"%d" % (seconds_to_month_end(now) + MONTH_GRACE_SECONDS)
        args = self._plan_part(plan) + bulk((at, cutoff, member, ttl, want, end, short_end))
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
        keys = self._key_part(key_id, now)
        self._enqueue((keys, args, waiter))
        try:
            result, version_bytes = await waiter
        finally:
            if want:
                self._asking.discard(key_id)
        allowed, minute, month, oldest, granted, wait = result.decode().split(" ")
        self._saw_version(version_bytes.decode())
        minute_used, month_used, leased = int(minute), int(month), int(granted)
        oldest_us = int(float(oldest)) if oldest else None
        if leased:
            if leased < want:
                end = short_end  # as the script chose: the key is short of permits
            previous = self._leases.get(key_id)
            if previous is not None:  # cannot happen (one request asks at a time); be safe
                self._settle(key_id, previous, now_us)
            lease = self._leases[key_id] = _Lease(
                member,
                keys,
                plan,
                now_us,
                end,
                month_span(now),
                leased,
                (minute_used, month_used, oldest_us),
            )
            lease.expires = loop.time() + (end - now_us) / US
            if len(self._state_names) >= 10_000:
                self._state_names.clear()
            self._state_names[self._keys(key_id, now)[2].encode()] = key_id
            self._schedule_sweep()
        decision = decide(
            plan,
            now,
            allowed=allowed == "1",
            minute_used=minute_used - leased,
            minute_oldest_us=oldest_us,
            month_used=month_used - leased,
            keys_version=self.keys_version,  # the highest seen: replies and pushes may cross
        )
        return decision, int(wait) if wait else None

    async def peek(self, key_id: str, plan: Plan, now: datetime) -> Decision:
        """The counts; permits that open leases hold count as used."""
        now_us = epoch_us(now)
        minute_key, month_key, _, version_key = self._keys(key_id, now)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrangebyscore(minute_key, f"({now_us - WINDOW_US}", "+inf", withscores=True)
                pipe.get(month_key)
                pipe.get(version_key)
                logged, month_used, version = await pipe.execute()
        except RedisError as exc:
            raise StorageError(UNAVAILABLE) from exc
        minute_used, month_used = sum(permits(m) for m, _ in logged), int(month_used or 0)
        return decide(
            plan,
            now,
            allowed=admits(plan, minute_used, month_used),
            minute_used=minute_used,
            minute_oldest_us=int(logged[0][1]) if logged else None,
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
        """Give the open leases' unused permits back (best effort), then close."""
        if self._subscription is not None:
            await self._subscription.aclose()
        for key_id, lease in list(self._leases.items()):
            self._settle(key_id, lease, lease.end_us)
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None
        self._send()
        if self._senders:
            await asyncio.wait(set(self._senders), timeout=1.0)
        await self._wire.aclose()
        await self._redis.aclose()


def build_limiter(
    redis_url: str | None,
    *,
    prefix: str = "dropscope",
    lease_seconds: float = LEASE_SECONDS,
    watch_keys: bool = False,
) -> Limiter:
    """The limiter a worker uses: Redis when `redis_url` (DROPSCOPE_REDIS_URL) is set (with
    leases of up to `lease_seconds`, 0 for none; `watch_keys` for a remote key verifier),
    otherwise in-process counters."""
    if redis_url:
        return RedisLimiter.from_url(
            redis_url, prefix=prefix, lease_seconds=lease_seconds, watch_keys=watch_keys
        )
    return InProcessLimiter()
