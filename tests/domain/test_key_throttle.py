"""`FailureThrottle`: refused keys per address per UTC minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dropscope.domain.key_anomaly import FailureThrottle

T0 = datetime(2026, 11, 27, 12, 0, 15, tzinfo=UTC)


def test_an_address_past_the_limit_is_throttled_until_the_minute_ends() -> None:
    t = FailureThrottle(max_failures=3)
    assert t.retry_after("192.0.2.1", T0) == 0  # nothing counted yet
    for _ in range(3):
        assert t.retry_after("192.0.2.1", T0) == 0
        t.failed("192.0.2.1", T0)
    assert t.retry_after("192.0.2.1", T0) == 45
    assert t.retry_after("192.0.2.1", T0 + timedelta(seconds=44, microseconds=1)) == 1
    assert t.retry_after("192.0.2.2", T0) == 0  # another address
    assert t.retry_after(None, T0) == 0
    assert t.retry_after("192.0.2.1", T0 + timedelta(seconds=45)) == 0  # the next minute
    t.failed("192.0.2.1", T0 + timedelta(seconds=46))
    assert t.retry_after("192.0.2.1", T0 + timedelta(seconds=46)) == 0  # counted afresh
