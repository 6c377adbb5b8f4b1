"""The budget of the public Ask page (/ask, /ask/stream): how often anyone, without a key,
may make the server call the paid answer generator (Claude, when ANTHROPIC_API_KEY is set).

Two limits, each a fixed window on the clock the app is given:
- per address: `public_ask_per_address_per_hour` paid answers per client address (an IPv4
  address, or an IPv6 /64: what one client holds) per clock hour (UTC);
- in all: `public_ask_llm_budget_per_day` paid answers per UTC day.

Only calls to the paid generator count: a question answered from the database, or by the
offline generator, costs nothing and counts nowhere. When either limit is spent (or, with
Redis, the counters cannot be reached) the answer is written by the offline (extractive)
generator and the page says why: the page never fails for it. `POST /v1/ask` is not
limited here: it is counted by the API key's rate limits and quota.

Counters live in this process (`InProcessBudget`: exact, as `dropscope serve` runs one
worker without Redis), or in Redis when DROPSCOPE_REDIS_URL is set (`RedisBudget`: shared by
every worker and host), under `<prefix>:ask:`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import redis
from redis.exceptions import RedisError

from dropscope.config import Settings
from dropscope.domain.keys import network_of

log = logging.getLogger(__name__)

PER_ADDRESS_SPENT = "answered offline: this address has used its AI answers for this hour"
BUDGET_SPENT = "answered offline: the public budget for AI answers is spent"
UNCHECKED = "answered offline: the public budget for AI answers cannot be checked right now"


@dataclass(frozen=True, slots=True)
class Windows:
    """The windows `now` falls in: (hour id, seconds to its end), (day id, seconds left)."""

    hour: str
    hour_left: int
    day: str
    day_left: int

    @classmethod
    def at(cls, now: datetime) -> Windows:
        now = now.astimezone(UTC)
        hour_start = now.replace(minute=0, second=0, microsecond=0)
        day_start = hour_start.replace(hour=0)
        hour_left = (hour_start + timedelta(hours=1) - now).total_seconds()
        day_left = (day_start + timedelta(days=1) - now).total_seconds()
        return cls(
            hour_start.strftime("%Y-%m-%dT%H"),
            max(1, int(hour_left) + 1),
            day_start.strftime("%Y-%m-%d"),
            max(1, int(day_left) + 1),
        )


def client_of(address: str | None) -> str:
    """The unit the per-address limit counts: the address (IPv4), its /64 (IPv6)."""
    return network_of(address, v4_prefix=32, v6_prefix=64) or "unknown"


class PublicAskBudget(Protocol):
    def take(self, address: str | None, now: datetime) -> str | None:
        """Count one paid answer for `address` at `now` and return None; or, when a limit
        is spent (nothing counted), the reason the answer is written offline."""
        ...

    def close(self) -> None: ...


@dataclass
class InProcessBudget:
    """Counters in this process's memory (thread-safe: answers are written in threads)."""

    per_address_per_hour: int
    per_day: int
    _hours: dict[str, tuple[str, int]] = field(default_factory=dict)  # client -> (hour, n)
    _day: tuple[str, int] = ("", 0)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, address: str | None, now: datetime) -> str | None:
        w, client = Windows.at(now), client_of(address)
        with self._lock:
            hour, used = self._hours.get(client, (w.hour, 0))
            used = used if hour == w.hour else 0
            if used >= self.per_address_per_hour:
                return PER_ADDRESS_SPENT
            day_used = self._day[1] if self._day[0] == w.day else 0
            if day_used >= self.per_day:
                return BUDGET_SPENT
            if len(self._hours) > 100_000:  # forget the clients of earlier hours
                self._hours = {c: v for c, v in self._hours.items() if v[0] == w.hour}
            self._hours[client] = (w.hour, used + 1)
            self._day = (w.day, day_used + 1)
            return None

    def close(self) -> None:
        return None


# Both limits checked, then both counted, atomically. KEYS: the client's hour counter, the
# day counter. ARGV: per-address limit, day limit, the hour counter's TTL, the day's (s).
# Returns 0 (counted), 1 (the address's hour is spent) or 2 (the day's budget is).
TAKE_SCRIPT = """
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return 2 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 0
"""


class RedisBudget:
    """Counters in Redis, shared by every worker: one script call per paid answer. Time is
    the caller's `now` (TTLs relative to it). Redis unreachable: the answer is written
    offline (fails closed: no paid call that was not counted)."""

    def __init__(self, url: str, prefix: str, per_address_per_hour: int, per_day: int) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.script = self.client.register_script(TAKE_SCRIPT)
        self.prefix = f"{prefix}:ask"
        self.per_address_per_hour = per_address_per_hour
        self.per_day = per_day

    def take(self, address: str | None, now: datetime) -> str | None:
        w = Windows.at(now)
        client = hashlib.blake2b(client_of(address).encode(), digest_size=8).hexdigest()
        keys = [f"{self.prefix}:addr:{client}:{w.hour}", f"{self.prefix}:day:{w.day}"]
        args = [self.per_address_per_hour, self.per_day, w.hour_left, w.day_left]
        try:
            verdict = int(self.script(keys=keys, args=args))
        except RedisError as exc:
            log.warning("public ask budget: Redis unavailable (%s); answering offline", exc)
            return UNCHECKED
        return {0: None, 1: PER_ADDRESS_SPENT}.get(verdict, BUDGET_SPENT)

    def close(self) -> None:
        self.client.close()


def budget_for(settings: Settings) -> PublicAskBudget:
    """Redis counters when `redis_url` is set, else this process's."""
    per_address = settings.public_ask_per_address_per_hour
    per_day = settings.public_ask_llm_budget_per_day
    if settings.redis_url:
        return RedisBudget(settings.redis_url, settings.redis_prefix, per_address, per_day)
    return InProcessBudget(per_address, per_day)
