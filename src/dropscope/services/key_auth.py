"""Verifying API keys on every request, and recording their use in batches.

`KeyVerifier.verify(presented, ip, now) -> Caller`, per worker process:
1. HMAC-SHA256 of the presented key under the current pepper (`KeyHasher`, from the
   pepper's precomputed states): the cache key (the plain key is never kept, not even in
   memory beyond the request). Only keys that passed `parse_key` are ever cached, so a
   miss is refused as malformed (bad shape or checksum) before any lookup;
2. freshness: the verified-key cache is valid for one **keys version** (the `meta` counter
   every key change bumps), checked for every request after it arrived:
   - on SQLite, from the host's keys signal (`storage/change_signal.py`: a memory-mapped
     counter beside the database that the unit of work bumps after committing a key
     change; about 0.2 µs), reading the database counter only when the signal moved, and
     every `recheck_seconds` anyway (a change made without the signal);
   - on SQLite without that file, by an inline read (about 5 µs, its own connection, WAL)
     shared by the requests (tasks) verified in the same event-loop iteration: the first
     one reads and schedules (`call_soon`) the end of that sharing, so any request whose
     task is scheduled after the read (it arrived later) queues behind that callback and
     reads again; a task that asks a second time reads again too;
   - on PostgreSQL, by reads coalesced in a thread (a request waits for one read that
     started after it arrived; concurrent requests share it);
   - with Redis on PostgreSQL (`remote=True`), from the rate limiter: its Redis call returns
     ``<prefix>:keys_version``, or, for requests it admits from a lease, the version pushed
     to the worker (`services.redis_pubsub`); the API hands it to `confirm_remote`, and the
     database is still checked every `recheck_seconds` in case a Redis INCR was lost;
3. (on a cache miss) the key's shape and checksum (`parse_key`);
4. a cache miss reads the key by hash (one indexed query), compared in constant time;
5. state at `now` (active, disabled, revoked, expired, or past a roll's grace) and the IP
   allowlist; the caller is returned and one use recorded.

Every refusal is recorded (grouped) for the audit log. An address that presented more than
`max_failures` well-formed but unknown keys in a minute (each cost a lookup) is *throttled*
for the rest of that minute (`FailureThrottle`): its failing keys (unknown, malformed,
disabled, revoked, expired) are answered 429 ``auth-failures`` without a lookup, while a key
that verifies is still served (one address may be many clients: a proxy, a NAT). What tells
the two apart without a lookup per attempt: a key in the verified-key cache is known either
way; for any other, the set of the first 64 bits of every active key's stored hash
(`hash_prefix`), read in one query the first time a throttled address needs it and dropped
with the cache at every keys version, says whether a lookup can find anything. A key absent
from it is refused at once; a present one is looked up as usual.

`UsageRecorder` counts uses per key and UTC day, last-used times, grouped auth failures and
anomalies in memory; `flush()` writes them in one unit of work. The API flushes every
`usage_flush_seconds` (default 10 s), at shutdown, and before answering /v1/usage; a crashed
worker loses at most one interval of counts. Writing on every request would put a database
write (and on SQLite the single write lock) on the hot path of every read.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NoReturn

from starlette.concurrency import run_in_threadpool

from dropscope.config import Settings
from dropscope.domain.access import Caller, Plan
from dropscope.domain.key_anomaly import Anomaly, FailureThrottle, RateTracker, SpreadTracker
from dropscope.domain.keys import (
    KEY_LEN,
    ApiKey,
    FailReason,
    KeyEvent,
    KeyEventKind,
    KeyHasher,
    KeyStatus,
    Network,
    Peppers,
    caller_of,
    compile_allowlist,
    hash_key,
    hash_prefix,
    ip_allowed,
    key_status,
    parse_key,
)
from dropscope.errors import Forbidden, RateLimited, Unauthorized
from dropscope.services.database import Database
from dropscope.storage.repositories.meta import KEYS_VERSION

log = logging.getLogger("dropscope.keys")

MISSING_KEY = (
    "this endpoint needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
)
INVALID_KEY = "the API key is not valid"
IP_DENIED = "this API key may not be used from this address"
_MISS = object()


@dataclass(frozen=True, slots=True)
class _Entry:
    key: ApiKey
    caller: Caller
    networks: tuple[Network, ...]
    valid_until: datetime | None


class _Coalesced:
    """Runs `read` in a thread; a caller waits for a read that *started after it called*,
    shared by every caller that arrived while the previous read was running."""

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read
        self._next: asyncio.Future[int] | None = None
        self._task: asyncio.Task[None] | None = None

    async def read(self) -> int:
        future = self._next
        if future is None:
            future = self._next = asyncio.get_running_loop().create_future()
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._run())
        return await asyncio.shield(future)

    async def _run(self) -> None:
        try:
            while self._next is not None:
                future, self._next = self._next, None
                try:
                    future.set_result(await run_in_threadpool(self._read))
                except Exception as exc:
                    future.set_exception(exc)
        finally:
            self._task = None


class KeyVerifier:
    """The verified-key cache of one worker (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        peppers: Peppers,
        plans: Sequence[Plan],
        usage: UsageRecorder,
        *,
        remote: bool = False,
        recheck_seconds: float = 5.0,
        max_entries: int = 10_000,
        max_failures: int = 100,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.usage = usage
        self._db = db
        self._peppers = peppers
        self._pepper = KeyHasher(peppers.secrets[peppers.current])  # the cache's keyed hash
        self._plans = tuple(plans)
        self._probe = db.counter_probe(KEYS_VERSION)
        self._signal = db.keys_signal  # SQLite: the host's keys-changed counter
        self._signal_seen = -1
        self._coalesced = _Coalesced(self._probe.read)
        self._remote_mode = remote
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._checked_at = float("-inf")
        # SQLite: the loop in whose current iteration the version was read, and the tasks
        # (requests) that used that read; a task asking twice reads again (see `_fresh`)
        self._turn: asyncio.AbstractEventLoop | None = None
        self._turn_tasks: set[asyncio.Task[Any] | None] = set()
        self._version: int | None = None
        self._remote: object = _MISS
        self._cache: dict[bytes, _Entry | None] = {}  # HMAC digest -> entry (None: unknown)
        self._generation = 0
        self._max_entries = max_entries
        self._throttle = FailureThrottle(max_failures=max_failures)
        # the hash prefixes of every active key, read when a throttled address needs them
        self._live: frozenset[int] | None = None
        self._live_pending: asyncio.Future[frozenset[int]] | None = None

    async def verify(
        self, presented: str, ip: str | None, now: datetime, *, count: bool = True
    ) -> Caller:
        """The caller `presented` authenticates; `Unauthorized` (401) for a key that is not
        usable, whatever the reason; `Forbidden` (403) from an address not allowed.
        `count=False` verifies again without counting a second use. From a throttled
        address (see the module docstring) a key that does not verify is `RateLimited`
        (429) instead of 401, without a lookup."""
        retry = self._throttle.retry_after(ip, now)  # 0: not throttled
        raw = presented.encode("ascii") if presented.isascii() else b""
        if len(raw) != KEY_LEN:
            self._refuse(FailReason.MALFORMED, None, ip, now, retry)
        # The cache only holds keys that passed `parse_key` (shape and checksum), so a hit
        # needs no second check; a miss checks before any lookup.
        digest = self._pepper.digest(raw)
        await self._fresh()
        if digest in self._cache:
            entry = self._cache[digest]
        else:
            key = parse_key(presented)
            if key is None:
                self._refuse(FailReason.MALFORMED, None, ip, now, retry)
            if retry and not await self._may_exist(key):
                self._refuse(FailReason.UNKNOWN, None, ip, now, retry)
            generation = self._generation
            entry = await run_in_threadpool(self._load, key)
            if generation == self._generation:  # no change was seen while it loaded
                if len(self._cache) >= self._max_entries:
                    self._cache.clear()
                self._cache[digest] = entry
        return self._admit(entry, ip, now, count, retry)

    def confirm_remote(self, version: str | None) -> bool:
        """Remote mode: True when `version` (the Redis keys version the rate limiter read
        for this request) is the one the cache holds; otherwise the cache is dropped and
        False returned, and the caller verifies the request again."""
        if version == self._remote:
            return True
        self._remote = version
        self._drop()
        return False

    @property
    def remote(self) -> bool:
        return self._remote_mode

    def close(self) -> None:
        self._probe.close()

    # -- internals ---------------------------------------------------------------------

    async def _fresh(self) -> None:
        if self._remote_mode:
            now = self._monotonic()
            if now - self._checked_at < self._recheck:
                return
            self._checked_at = now
        if self._signal is not None:  # SQLite, with the counter file: read it, not the table
            seen, now = self._signal.read(), self._monotonic()
            if seen == self._signal_seen and now - self._checked_at < self._recheck:
                return
            self._signal_seen, self._checked_at = seen, now
            version = self._probe.read()
        elif self._probe.is_sqlite:
            loop, task = asyncio.get_running_loop(), asyncio.current_task()
            if self._turn is loop and task not in self._turn_tasks:
                self._turn_tasks.add(task)  # read in this iteration, after this task arrived
                return
            version = self._probe.read()
            if self._turn is not loop:
                loop.call_soon(self._next_turn)
            self._turn, self._turn_tasks = loop, {task}
        else:
            version = await self._coalesced.read()
        if version != self._version:
            self._version = version
            self._drop()

    def _next_turn(self) -> None:
        self._turn, self._turn_tasks = None, set()

    def _drop(self) -> None:
        self._cache.clear()
        self._live = None
        self._generation += 1

    async def _may_exist(self, key: str) -> bool:
        """Whether a lookup of `key` can find an active key: its hash under some pepper has
        the prefix of one (never a false "no"). Concurrent callers share one read."""
        live = self._live
        if live is None:
            pending = self._live_pending
            if pending is None or pending.get_loop() is not asyncio.get_running_loop():
                pending = self._live_pending = asyncio.ensure_future(self._read_live())
            live = await asyncio.shield(pending)
        return any(hash_prefix(h) in live for h in self._peppers.candidates(key))

    async def _read_live(self) -> frozenset[int]:
        generation = self._generation
        try:
            live = await run_in_threadpool(self._load_live)
        finally:
            self._live_pending = None
        if generation == self._generation:  # no change was seen while it loaded
            self._live = live
        return live

    def _load_live(self) -> frozenset[int]:
        with self._db.unit_of_work(read_only=True) as uow:
            return frozenset(hash_prefix(h) for h in uow.keys.active_hashes())

    def _load(self, key: str) -> _Entry | None:
        candidates = self._peppers.candidates(key)
        with self._db.unit_of_work(read_only=True) as uow:
            found = uow.keys.by_hashes(candidates)
        if found is None:
            return None
        api_key, stored = found
        secret = self._peppers.secrets.get(api_key.pepper_version)
        if secret is None or not hmac.compare_digest(stored, hash_key(secret, key)):
            return None
        return _Entry(
            api_key,
            caller_of(api_key, self._plans),
            compile_allowlist(api_key.ip_allowlist),
            api_key.valid_until,
        )

    def _admit(
        self, entry: _Entry | None, ip: str | None, now: datetime, count: bool, retry: int
    ) -> Caller:
        if entry is None:
            self._refuse(FailReason.UNKNOWN, None, ip, now, retry)
        status = key_status(entry.key.state, entry.valid_until, now)
        if status is not KeyStatus.ACTIVE:
            self._refuse(FailReason(status.value), entry.key, ip, now, retry)
        if entry.networks and not ip_allowed(entry.networks, ip):  # a real key: 403 still
            self._fail(FailReason.IP_DENIED, entry.key, ip, now)
            raise Forbidden(IP_DENIED)
        if count:
            self.usage.hit(entry.key, now)
        return entry.caller

    def _refuse(
        self, reason: FailReason, key: ApiKey | None, ip: str | None, now: datetime, retry: int
    ) -> NoReturn:
        """Record the refusal; 401, or 429 when the address is throttled (`retry` > 0)."""
        self._fail(reason, key, ip, now)
        if retry:
            raise RateLimited(
                f"too many refused API keys from this address; retry in {retry} s "
                "(a valid key is still served)",
                retry,
                "auth-failures",
            )
        raise Unauthorized(INVALID_KEY)

    def _fail(self, reason: FailReason, key: ApiKey | None, ip: str | None, now: datetime) -> None:
        if reason is FailReason.UNKNOWN:  # the refusals that cost (or would cost) a lookup
            self._throttle.failed(ip, now)
        self.usage.fail(reason, key, ip, now)


def verifier_for(settings: Settings, db: Database, peppers: Peppers) -> KeyVerifier:
    """One worker's verifier: remote (Redis) freshness on PostgreSQL with Redis configured,
    the database counter otherwise (on SQLite it is cheaper than any Redis call)."""
    remote = settings.redis_url is not None and not db.is_sqlite
    return KeyVerifier(db, peppers, settings.plans, UsageRecorder(db), remote=remote)


@dataclass
class _Batch:
    counts: dict[tuple[str, date], int] = field(default_factory=dict)
    last: dict[str, datetime] = field(default_factory=dict)
    failures: dict[tuple[str, str | None, str | None, str | None], list[Any]] = field(
        default_factory=dict
    )
    events: list[KeyEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.counts or self.last or self.failures or self.events)


class UsageRecorder:
    """Uses, auth failures and anomalies of one worker, written in batches (see above).
    `hit` and `fail` run on the event loop; `flush` takes the batch there, writes it in a
    thread, and puts it back if the write fails, to try again next time."""

    def __init__(
        self,
        db: Database,
        *,
        rate: RateTracker | None = None,
        spread: SpreadTracker | None = None,
        max_groups: int = 1000,
    ) -> None:
        self._db = db
        self._rate = rate or RateTracker()
        self._spread = spread or SpreadTracker()
        self._max_groups = max_groups
        self._batch = _Batch()

    def hit(self, key: ApiKey, now: datetime) -> None:
        b = self._batch
        slot = (key.id, now.date())
        b.counts[slot] = b.counts.get(slot, 0) + 1
        b.last[key.id] = now
        anomaly = self._rate.hit(key.id, now)
        if anomaly is not None:
            b.events.append(_anomaly_event(anomaly, key.account_id, None, now))

    def fail(self, reason: FailReason, key: ApiKey | None, ip: str | None, now: datetime) -> None:
        b = self._batch
        key_id, account_id = (key.id, key.account_id) if key else (None, None)
        group = (reason.value, key_id, account_id, ip)
        if group not in b.failures and len(b.failures) >= self._max_groups:
            group = (reason.value, key_id, account_id, None)  # "other addresses"
        seen = b.failures.setdefault(group, [0, now, now])
        seen[0] += 1
        seen[2] = now
        anomaly = self._spread.fail(key_id, ip, now)
        if anomaly is not None:
            b.events.append(_anomaly_event(anomaly, account_id, ip, now))

    async def flush(self) -> None:
        batch = self._take()
        if not batch:
            return
        try:
            await run_in_threadpool(self._write, batch)
        except Exception as exc:
            log.warning("could not write key usage (kept for the next flush): %s", exc)
            self._restore(batch)

    def flush_now(self) -> None:
        """Flush from synchronous code on the loop's thread (shutdown, tests)."""
        batch = self._take()
        if batch:
            self._write(batch)

    def _take(self) -> _Batch:
        batch, self._batch = self._batch, _Batch()
        return batch

    def _restore(self, batch: _Batch) -> None:
        b = self._batch
        for slot, n in batch.counts.items():
            b.counts[slot] = b.counts.get(slot, 0) + n
        for key_id, at in batch.last.items():
            b.last[key_id] = max(at, b.last.get(key_id, at))
        for group, (n, first, last) in batch.failures.items():
            seen = b.failures.setdefault(group, [0, first, last])
            seen[0] += n
            seen[1], seen[2] = min(seen[1], first), max(seen[2], last)
        b.events[:0] = batch.events

    def _write(self, batch: _Batch) -> None:
        failures = [
            KeyEvent(
                KeyEventKind.AUTH_FAILED,
                last,
                account_id,
                key_id,
                {
                    "reason": reason,
                    "count": n,
                    "first": first.isoformat(),
                    "last": last.isoformat(),
                },
                ip,
            )
            for (reason, key_id, account_id, ip), (n, first, last) in batch.failures.items()
        ]
        with self._db.unit_of_work() as uow:
            uow.keys.add_usage(batch.counts)
            uow.keys.touch(batch.last)
            uow.key_events.add_all([*batch.events, *failures])


def _anomaly_event(a: Anomaly, account_id: str | None, ip: str | None, now: datetime) -> KeyEvent:
    return KeyEvent(
        KeyEventKind.ANOMALY, now, account_id, a.key_id, {"rule": a.rule, **a.detail}, ip
    )
