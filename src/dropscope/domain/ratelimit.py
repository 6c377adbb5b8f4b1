"""Rate-limit arithmetic, pure: an exact per-minute sliding window, a monthly quota (calendar
month, UTC), and the draft-11 header values (draft-ietf-httpapi-ratelimit-headers-11).

Two policies apply to every key, from its `Plan`:

- ``"minute"``: at most ``plan.per_minute`` admitted requests in any 60-second window. The
  window is a log of admission times (exact, no approximation): a request at ``now`` is
  admitted iff fewer than q admissions lie in ``(now - 60 s, now]``. Refused requests are not
  logged, so a client that keeps hammering is refused only while its own admitted requests
  fill the window.
- ``"month"``: at most ``plan.per_month`` admitted requests per calendar month (UTC); the
  count resets on the 1st at 00:00 UTC. Refused requests do not count.

A request is admitted iff both policies have room (`admits`); then it counts in both.

Headers (Structured-Field lists; times in whole seconds, rounded up):

    RateLimit-Policy: "minute";q=60;w=60, "month";q=10000;w=2592000
    RateLimit: "minute";r=12;t=41

``w`` of the month is the length of the current month (2,592,000 s for 30 days). ``RateLimit``
reports the most constraining policy: the smallest remaining ``r``, ties going to the longer
``t``. ``t`` is the effective window: the seconds within which no more than ``r`` requests
will be admitted, i.e. until the oldest logged admission leaves the minute window (60 when
none is logged), or until the month ends. On refusal, ``Retry-After`` is the largest ``t`` of
the violated policies (never earlier than ``t``), and at least 1.

Times are integer microseconds since the Unix epoch (`epoch_us`), so the in-process and Redis
backends compute exactly the same thing.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from dropscope.domain.access import Plan

MINUTE = "minute"
MONTH = "month"
WINDOW_SECONDS = 60
US = 1_000_000  # microseconds per second
WINDOW_US = WINDOW_SECONDS * US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def epoch_us(now: datetime) -> int:
    """`now` (timezone-aware) as integer microseconds since the Unix epoch, exactly."""
    return (now - _EPOCH) // _ONE_US


def _ceil_seconds(us: int) -> int:
    return -(-us // US)


@lru_cache(maxsize=64)
def _month(year: int, month: int) -> tuple[int, int, str]:
    """(start µs, next month's start µs, "YYYY-MM") of a UTC calendar month."""
    start = datetime(year, month, 1, tzinfo=UTC)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return epoch_us(start), epoch_us(following), start.strftime("%Y-%m")


def _month_of(now: datetime) -> tuple[int, int, str]:
    utc = now.astimezone(UTC)
    return _month(utc.year, utc.month)


def month_start(now: datetime) -> datetime:
    """00:00 UTC on the 1st of `now`'s month (in UTC)."""
    return _EPOCH + _ONE_US * _month_of(now)[0]


def next_month_start(now: datetime) -> datetime:
    """00:00 UTC on the 1st of the month after `now`'s: when the monthly quota resets."""
    return _EPOCH + _ONE_US * _month_of(now)[1]


def month_id(now: datetime) -> str:
    """The UTC calendar month of `now`, e.g. ``"2026-11"``: the monthly counter's name."""
    return _month_of(now)[2]


def seconds_in_month(now: datetime) -> int:
    """Length of `now`'s month in seconds (the month policy's ``w``): 2,592,000 for 30 days."""
    start, end, _ = _month_of(now)
    return (end - start) // US


def seconds_to_month_end(now: datetime) -> int:
    """Whole seconds, rounded up, until the monthly quota resets (at least 1)."""
    return max(1, _ceil_seconds(_month_of(now)[1] - epoch_us(now)))


def admits(plan: Plan, minute_used: int, month_used: int) -> bool:
    """Whether a request is admitted, given the admissions already counted in the current
    minute window and month. The Redis script applies the same rule."""
    return minute_used < plan.per_minute and month_used < plan.per_month


class WindowLog:
    """The exact sliding window of one key: admission times (µs) of the last 60 seconds,
    oldest first. Holds at most q entries, since only admissions are logged."""

    __slots__ = ("_times",)

    def __init__(self) -> None:
        self._times: deque[int] = deque()

    def count(self, now_us: int) -> int:
        """Admissions in ``(now - 60 s, now]`` (and any later ones), after dropping the rest."""
        times, cutoff = self._times, now_us - WINDOW_US
        while times and times[0] <= cutoff:
            times.popleft()
        return len(times)

    @property
    def oldest(self) -> int | None:
        return self._times[0] if self._times else None

    def add(self, now_us: int) -> None:
        self._times.append(now_us)


class PolicyState(NamedTuple):
    """One policy for one key at one moment: quota ``q``, window ``w`` (s), used and
    remaining ``r`` requests, and ``t``, the effective window (s). (Named tuples, like
    `Decision`: built on every request, and cheaper to build than frozen dataclasses.)"""

    name: str
    quota: int
    window: int
    used: int
    remaining: int
    reset: int

    @property
    def policy_item(self) -> str:
        return f'"{self.name}";q={self.quota};w={self.window}'

    @property
    def limit_item(self) -> str:
        return f'"{self.name}";r={self.remaining};t={self.reset}'


class Decision(NamedTuple):
    """The outcome of one request against a key's limits, with the header values to send.

    `policy` is the RateLimit-Policy value, `limit` the RateLimit value; on refusal
    `retry_after` (s) and `violated` (a policy name) are set. `keys_version` is what a backend
    read in passing (Redis: the ``<prefix>:keys_version`` key), for the API-keys cache."""

    allowed: bool
    policy: str
    limit: str
    states: tuple[PolicyState, ...]
    retry_after: int | None = None
    violated: str | None = None
    keys_version: str | None = None

    @property
    def message(self) -> str:
        """A sentence for the 429 problem body."""
        by_name = {s.name: s for s in self.states}
        if self.violated == MONTH:
            q = by_name[MONTH].quota
            return f"monthly quota of {q} requests is used up; it resets on the 1st (UTC)"
        q = by_name[MINUTE].quota
        return f"rate limit of {q} requests per minute exceeded; retry in {self.retry_after} s"


@lru_cache(maxsize=256)
def _policy_header(per_minute: int, per_month: int, month_window: int) -> str:
    return f'"{MINUTE}";q={per_minute};w={WINDOW_SECONDS}, "{MONTH}";q={per_month};w={month_window}'


def minute_state(plan: Plan, now_us: int, used: int, oldest_us: int | None) -> PolicyState:
    """The minute policy, given the admissions in the window and the oldest one's time."""
    if oldest_us is None or used == 0:
        reset = WINDOW_SECONDS
    else:
        reset = min(WINDOW_SECONDS, max(1, _ceil_seconds(oldest_us + WINDOW_US - now_us)))
    remaining = max(0, plan.per_minute - used)
    return PolicyState(MINUTE, plan.per_minute, WINDOW_SECONDS, used, remaining, reset)


def month_state(plan: Plan, now: datetime, used: int, now_us: int | None = None) -> PolicyState:
    start, end, _ = _month_of(now)
    now_us = epoch_us(now) if now_us is None else now_us
    remaining = max(0, plan.per_month - used)
    reset = max(1, _ceil_seconds(end - now_us))  # = seconds_to_month_end(now)
    return PolicyState(MONTH, plan.per_month, (end - start) // US, used, remaining, reset)


def most_constraining(states: tuple[PolicyState, ...]) -> PolicyState:
    """The state with the fewest remaining requests; ties go to the longer wait."""
    if len(states) != 2:
        return min(states, key=lambda s: (s.remaining, -s.reset))
    first, second = states  # the common case (minute, month), without a key function
    if (first.remaining, -first.reset) <= (second.remaining, -second.reset):
        return first
    return second


def admitted(
    plan: Plan,
    now_us: int,
    minute_used: int,
    minute_oldest_us: int | None,
    month_used: int,
    month_span: tuple[int, int],
    keys_version: str | None = None,
) -> Decision:
    """The decision for an admitted request (already counted), given its month's (start,
    end) in µs (`month_span`): the common case, kept cheap, since it runs on every request
    a lease admits."""
    q, q_month = plan.per_minute, plan.per_month
    minute = minute_state(plan, now_us, minute_used, minute_oldest_us)
    start, end = month_span
    left = q_month - month_used
    month = PolicyState(
        MONTH,
        q_month,
        (end - start) // US,
        month_used,
        left if left > 0 else 0,
        max(1, _ceil_seconds(end - now_us)),
    )
    states = (minute, month)
    return Decision(
        True,
        _policy_header(q, q_month, month.window),
        most_constraining(states).limit_item,
        states,
        keys_version=keys_version,
    )


def month_span(now: datetime) -> tuple[int, int]:
    """(start, end) of `now`'s UTC calendar month, in µs since the epoch."""
    start, end, _ = _month_of(now)
    return start, end


def decide(
    plan: Plan,
    now: datetime,
    *,
    allowed: bool,
    minute_used: int,
    minute_oldest_us: int | None,
    month_used: int,
    keys_version: str | None = None,
) -> Decision:
    """Build the decision from a backend's counts *after* the hit (an admitted request is
    already counted; a refused one counts nowhere)."""
    now_us = epoch_us(now)
    if allowed:
        return admitted(
            plan,
            now_us,
            minute_used,
            minute_oldest_us,
            month_used,
            month_span(now),
            keys_version,
        )
    states = (
        minute_state(plan, now_us, minute_used, minute_oldest_us),
        month_state(plan, now, month_used, now_us),
    )
    policy = _policy_header(states[0].quota, states[1].quota, states[1].window)
    violated = [s for s in states if s.remaining == 0] or list(states)
    worst = max(violated, key=lambda s: s.reset)
    return Decision(
        False,
        policy,
        worst.limit_item,
        states,
        retry_after=max(1, worst.reset),
        violated=worst.name,
        keys_version=keys_version,
    )
