"""The one clock. Every business "now" in dropscope (today's board, a key's month quota, a
webhook's signature timestamp, a record's `updated_at`) comes from a `Clock` that an entry
point chooses and passes down: `system_clock` in production, a fixed or stepping one in
tests. This module is the only place that reads the wall clock; ruff's banned-api rule
(TID251, see pyproject.toml) keeps `datetime.now()`, `date.today()` and `time.time()` out
of the rest of `src/`. Elapsed-time timers (`time.monotonic`, `time.perf_counter`, the event
loop's `loop.time()`) measure durations, not dates, and stay allowed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current moment as an aware UTC `datetime`."""


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)  # noqa: TID251 (the one allowed read)
