"""Two simple anomaly rules for API keys, and a throttle of refused keys per address, as
in-memory trackers (pure: times are given).

1. **Rate**: a key makes more than `factor` × its own mean requests per minute over the
   previous `window` minutes (idle minutes count as 0), and at least `min_requests` in the
   current minute, after at least `min_history` minutes of history (a new key has no baseline
   yet). Checked on every request in O(1): the threshold is fixed when a minute starts.
   Reported at most once per `cooldown` minutes per key.
2. **Spread**: refused requests naming one key (or unknown keys, grouped as key None) come
   from at least `min_ips` distinct addresses within one `window`-minute bucket, the mark
   of a leaked key or of credential stuffing. Reported once per bucket.

`FailureThrottle` counts refused keys per client address and minute, so that the verifier
can refuse the failing attempts of an address past the limit without a lookup each.

Each API worker process keeps its own trackers: with several workers each sees its share of
the traffic, which leaves the rate ratio unchanged but divides the absolute counts (so
`min_requests` applies per worker).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Anomaly:
    rule: str  # "rate" or "auth_spread"
    key_id: str | None
    detail: dict[str, Any]


@dataclass(slots=True)
class _KeyRate:
    minute: int
    count: int = 0
    threshold: float = float("inf")
    history: deque[int] = field(default_factory=deque)
    alerted_minute: int | None = None


class RateTracker:
    """Per-key requests per minute against the key's own recent baseline."""

    def __init__(
        self,
        *,
        factor: float = 10.0,
        min_requests: int = 120,
        window: int = 60,
        min_history: int = 10,
        cooldown: int = 60,
    ) -> None:
        self.factor = factor
        self.min_requests = min_requests
        self.window = window
        self.min_history = min_history
        self.cooldown = cooldown
        self._keys: dict[str, _KeyRate] = {}

    def hit(self, key_id: str, now: datetime) -> Anomaly | None:
        """Count one request; an `Anomaly` when this request crosses the threshold."""
        minute = int(now.timestamp() // 60)
        st = self._keys.get(key_id)
        if st is None:
            st = self._keys[key_id] = _KeyRate(minute, history=deque(maxlen=self.window))
        elif minute != st.minute:
            self._roll(st, minute)
        st.count += 1
        if st.count <= st.threshold:
            return None
        if st.alerted_minute is not None and minute - st.alerted_minute < self.cooldown:
            return None
        st.alerted_minute = minute
        baseline = sum(st.history) / len(st.history)
        return Anomaly(
            "rate",
            key_id,
            {
                "requests_this_minute": st.count,
                "baseline_per_minute": round(baseline, 2),
                "factor": self.factor,
            },
        )

    def _roll(self, st: _KeyRate, minute: int) -> None:
        if minute > st.minute:
            st.history.append(st.count)
            for _ in range(min(minute - st.minute - 1, self.window)):
                st.history.append(0)
        st.minute, st.count = minute, 0
        if len(st.history) < self.min_history:
            st.threshold = float("inf")
            return
        baseline = sum(st.history) / len(st.history)
        st.threshold = max(self.min_requests - 1, self.factor * max(baseline, 1.0))


@dataclass(slots=True)
class _Spread:
    bucket: int
    ips: set[str] = field(default_factory=set)
    alerted: bool = False


class SpreadTracker:
    """Distinct client addresses of refused requests, per key, per time bucket."""

    def __init__(self, *, min_ips: int = 20, window: int = 10) -> None:
        self.min_ips = min_ips
        self.window = window
        self._keys: dict[str | None, _Spread] = {}

    def fail(self, key_id: str | None, ip: str | None, now: datetime) -> Anomaly | None:
        bucket = int(now.timestamp() // (60 * self.window))
        st = self._keys.get(key_id)
        if st is None or st.bucket != bucket:
            st = self._keys[key_id] = _Spread(bucket)
        if st.alerted or ip is None:
            return None
        st.ips.add(ip)
        if len(st.ips) < self.min_ips:
            return None
        st.alerted = True
        detail = {"distinct_ips": len(st.ips), "window_minutes": self.window}
        st.ips.clear()  # nothing more to learn in this bucket; free the memory
        return Anomaly("auth_spread", key_id, detail)


class FailureThrottle:
    """Refused API keys per client address per UTC minute (pure: times are given).

    An address that has had more than `max_failures` refusals counted (`failed`) in the
    current minute is *throttled* until the minute ends: `retry_after` then answers the
    seconds left (≥ 1), and the verifier refuses that address's failing keys early, with
    429, before any database lookup. A key that verifies is still served from a throttled
    address: behind a proxy (or a NAT) one address is many clients, and one of them sending
    bad keys must not lock the others out. The counts start afresh every minute."""

    def __init__(self, *, max_failures: int = 100) -> None:
        self.max_failures = max_failures
        self._minute = -1
        self._counts: dict[str | None, int] = {}

    def retry_after(self, ip: str | None, now: datetime) -> int:
        """0 when `ip` is not throttled at `now`; else the seconds until the minute ends."""
        if not self._counts:  # nothing refused lately (the usual case): no clock work
            return 0
        seconds = now.timestamp()
        minute = int(seconds // 60)
        if minute != self._minute:
            self._minute, self._counts = minute, {}
            return 0
        if self._counts.get(ip, 0) < self.max_failures:
            return 0
        return max(1, 60 - int(seconds % 60))

    def failed(self, ip: str | None, now: datetime) -> None:
        """Count one refusal from `ip` at `now`."""
        minute = int(now.timestamp() // 60)
        if minute != self._minute:
            self._minute, self._counts = minute, {}
        self._counts[ip] = self._counts.get(ip, 0) + 1
