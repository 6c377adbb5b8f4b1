"""An in-process cache of encoded GET responses, invalidated by the data version.

Every unit of work that writes research data bumps a data-version counter in the database.
A cached response is served only while the version it was built at is current. The worker
that writes invalidates at once; other worker processes notice within `recheck_seconds`
(default 0.5 s), the longest a reader can see data older than a write made elsewhere.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from starlette.concurrency import run_in_threadpool


def request_key(path: str, query_string: bytes, today: date) -> str:
    """The cache key of a GET: its path, its query exactly as sent (two spellings of one
    query are two entries with the same bytes: cheaper than parsing on every request), and
    "today" (the default as-of date, so that answers roll over at midnight UTC)."""
    return f"{path}?{query_string.decode('latin-1')}|{today}"


@dataclass(frozen=True, slots=True)
class CachedResponse:
    body: bytes
    etag: str
    headers: tuple[tuple[str, str], ...] = ()


class ResponseCache:
    """LRU of encoded responses keyed by (request key, data version)."""

    def __init__(
        self,
        read_version: Callable[[], int],
        *,
        max_entries: int = 1024,
        recheck_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_version = read_version
        self._entries: OrderedDict[tuple[str, int], CachedResponse] = OrderedDict()
        self._max = max_entries
        self._recheck = recheck_seconds
        self._clock = clock
        self._version = -1
        self._checked_at = float("-inf")

    async def version(self) -> int:
        """The current data version, read from the database at most every recheck period."""
        now = self._clock()
        if now - self._checked_at >= self._recheck:
            version = await run_in_threadpool(self._read_version)
            if version != self._version:
                self._entries.clear()
                self._version = version
            self._checked_at = now
        return self._version

    def get(self, key: str, version: int) -> CachedResponse | None:
        entry = self._entries.get((key, version))
        if entry is not None:
            self._entries.move_to_end((key, version))
        return entry

    def put(self, key: str, version: int, response: CachedResponse) -> None:
        if version != self._version:
            return  # built against a version that is no longer current
        self._entries[(key, version)] = response
        self._entries.move_to_end((key, version))
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def invalidate(self) -> None:
        """Forget everything and re-read the version on the next request (after a write)."""
        self._entries.clear()
        self._checked_at = float("-inf")

    def __len__(self) -> int:
        return len(self._entries)
