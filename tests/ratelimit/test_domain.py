"""The pure arithmetic: sliding window, monthly quota, header values (draft-11)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dropscope.domain.access import DEFAULT_PLANS, Plan
from dropscope.domain.ratelimit import (
    MINUTE,
    MONTH,
    WINDOW_US,
    WindowLog,
    admits,
    decide,
    epoch_us,
    month_id,
    next_month_start,
    seconds_in_month,
    seconds_to_month_end,
)

FREE = DEFAULT_PLANS[0]
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
# draft-11: a List of Items, each a String with Integer parameters, joined by ", "
SF_LIST = re.compile(r'^"[a-z]+"(;[a-z]+=\d+)+(, "[a-z]+"(;[a-z]+=\d+)+)*$')

steps_us = st.one_of(
    st.just(0),
    st.integers(1, 2_000_000),
    st.sampled_from([WINDOW_US - 1, WINDOW_US, WINDOW_US + 1]),
    st.integers(0, 3 * WINDOW_US),
)


def run(plan: Plan, start: datetime, steps: list[int]) -> list[tuple[datetime, bool]]:
    """Requests of one key at `start` + cumulative `steps` (µs), through the domain rules
    exactly as the in-process backend applies them. Returns (time, admitted) pairs."""
    log, months, now, out = WindowLog(), dict[str, int](), start, []
    for step in steps:
        now += timedelta(microseconds=step)
        used = log.count(epoch_us(now))
        ok = admits(plan, used, months.get(month_id(now), 0))
        if ok:
            log.add(epoch_us(now))
            months[month_id(now)] = months.get(month_id(now), 0) + 1
        out.append((now, ok))
    return out


def admitted_in_any_window(times: list[int]) -> int:
    """The largest number of `times` (µs, sorted) inside one window [t, t + 60 s)."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - WINDOW_US:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@settings(max_examples=300, deadline=None)
@given(q=st.integers(1, 8), steps=st.lists(steps_us, min_size=1, max_size=80))
def test_never_more_than_q_in_any_60_seconds_and_refusals_are_needed(q, steps) -> None:
    plan = Plan("p", per_minute=q, per_month=10**9)
    result = run(plan, T0, steps)
    admitted = [epoch_us(t) for t, ok in result if ok]
    assert admitted_in_any_window(admitted) <= q
    for t, ok in result:  # exact, not merely safe: a refusal means the window was full
        if not ok:
            now = epoch_us(t)
            assert sum(1 for a in admitted if now - WINDOW_US < a <= now) == q


@settings(max_examples=200, deadline=None)
@given(
    per_month=st.integers(1, 6),
    before=st.integers(1, 10),
    lead_us=st.integers(10, 3 * 86_400 * 1_000_000),
    gap_us=st.integers(0, 10 * WINDOW_US),
)
def test_monthly_quota_counts_per_utc_month_and_rolls_over(
    per_month, before, lead_us, gap_us
) -> None:
    """`before` requests 1 µs apart ending before the 1st 00:00 UTC, then one at or after
    it: December admits at most its quota, and January starts afresh."""
    plan = Plan("p", per_minute=10**6, per_month=per_month)
    boundary = datetime(2027, 1, 1, tzinfo=UTC)
    start = boundary - timedelta(microseconds=lead_us)
    last = start + timedelta(microseconds=before - 1)  # before the boundary: lead_us >= 10
    after = boundary + timedelta(microseconds=gap_us)
    steps = [0] + [1] * (before - 1) + [epoch_us(after) - epoch_us(last)]
    result = run(plan, start, steps)
    december = [ok for t, ok in result if t < boundary]
    assert december == [i < per_month for i in range(before)]
    assert result[-1] == (after, True)


def test_month_arithmetic() -> None:
    assert month_id(T0) == "2026-11"
    assert seconds_in_month(T0) == 30 * 86_400 == 2_592_000
    assert seconds_in_month(datetime(2028, 2, 10, tzinfo=UTC)) == 29 * 86_400  # leap year
    assert next_month_start(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    end = datetime(2026, 12, 1, tzinfo=UTC)
    assert seconds_to_month_end(end - timedelta(microseconds=1)) == 1  # rounded up
    assert seconds_to_month_end(end) == 31 * 86_400  # the 1st at 00:00 is the new month
    # a non-UTC datetime is placed in its UTC month
    tokyo = datetime(2026, 12, 1, 8, 0, tzinfo=UTC).astimezone()
    assert month_id(tokyo) == "2026-12"


def test_headers_first_request_of_the_free_plan() -> None:
    d = decide(FREE, T0, allowed=True, minute_used=1, minute_oldest_us=epoch_us(T0), month_used=1)
    assert d.policy == '"minute";q=60;w=60, "month";q=10000;w=2592000'
    assert d.limit == '"minute";r=59;t=60'
    assert SF_LIST.match(d.policy)
    assert SF_LIST.match(d.limit)
    assert d.retry_after is None
    assert d.violated is None


def test_headers_report_the_most_constraining_policy() -> None:
    now = T0 + timedelta(seconds=19, milliseconds=500)
    d = decide(
        FREE, now, allowed=True, minute_used=48, minute_oldest_us=epoch_us(T0), month_used=9_995
    )
    left = seconds_to_month_end(now)
    assert d.limit == f'"month";r=5;t={left}'
    d = decide(FREE, now, allowed=True, minute_used=48, minute_oldest_us=epoch_us(T0), month_used=7)
    assert d.limit == '"minute";r=12;t=41'  # the oldest leaves the window in 40.5 s: 41


def test_refusal_retry_after_is_never_earlier_than_t() -> None:
    now = T0 + timedelta(seconds=30)
    d = decide(
        FREE, now, allowed=False, minute_used=60, minute_oldest_us=epoch_us(T0), month_used=9
    )
    assert (d.allowed, d.violated, d.retry_after) == (False, MINUTE, 30)
    assert d.limit == '"minute";r=0;t=30'
    d = decide(
        FREE, now, allowed=False, minute_used=60, minute_oldest_us=epoch_us(T0), month_used=10_000
    )
    assert d.violated == MONTH  # both used up: the longer wait wins
    assert d.retry_after == seconds_to_month_end(now)
    assert d.limit.startswith('"month";r=0;')
    assert "monthly quota of 10000" in d.message


@given(
    q_min=st.integers(1, 100),
    q_month=st.integers(1, 1000),
    used_min=st.integers(0, 120),
    used_month=st.integers(0, 1200),
    age_us=st.integers(0, WINDOW_US - 1),
    offset_s=st.integers(0, 40 * 86_400),
)
def test_any_decision_is_consistent(q_min, q_month, used_min, used_month, age_us, offset_s):
    plan = Plan("p", q_min, q_month)
    now = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=offset_s)
    allowed = admits(plan, used_min, used_month)
    d = decide(
        plan,
        now,
        allowed=allowed,
        minute_used=used_min + allowed,
        minute_oldest_us=epoch_us(now) - age_us if used_min + allowed else None,
        month_used=used_month + allowed,
    )
    assert SF_LIST.match(d.policy)
    assert SF_LIST.match(d.limit)
    reported = re.match(r'^"(\w+)";r=(\d+);t=(\d+)$', d.limit)
    assert reported is not None
    r, t = int(reported[2]), int(reported[3])
    assert r == min(s.remaining for s in d.states)
    assert all(s.reset >= 1 for s in d.states)
    if not allowed:
        assert d.retry_after is not None
        assert d.retry_after >= t >= 1
        assert reported[1] == d.violated
        assert r == 0
