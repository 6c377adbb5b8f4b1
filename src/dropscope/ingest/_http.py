"""The HTTP client every adapter uses: timeouts, retries, conditional requests, a budget.

`SourceHttp.get_json(url)`:

- sends the request with the policy's timeout; on a transport error (refused, reset,
  timed out), a 5xx or a 429 it retries up to `max_retries` times, waiting
  ``min(backoff_cap, backoff_base · 2^attempt)`` seconds, or the `Retry-After` the source
  asked for (seconds or an HTTP date). A `Retry-After` longer than `retry_after_cap` ends the
  attempt at once with a clear "rate limited" error, rather than stalling the run;
- sends `If-None-Match` / `If-Modified-Since` when an earlier response to the same URL is
  cached, and reuses that body on 304 Not Modified; new validators are collected in
  `new_cache` for the caller to store (with the data, in the same transaction);
- counts every attempt against the per-source `budget`; past it, `BudgetExhausted`;
- accepts only JSON: an HTML error page, an empty body or truncated JSON is a
  `SourceUnavailable` naming the URL and what came back.

`sleep` is injectable so tests do not wait. In `record_dir` mode every JSON body fetched is
also written to `<record_dir>/<source>/<fixture_name(url, base_url)>` (the fixture layout
of the test suite), which is how recorded fixtures are refreshed.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from dropscope.clock import Clock, system_clock
from dropscope.domain.ingested import CachedResponse
from dropscope.errors import SourceUnavailable

Sleep = Callable[[float], Awaitable[None]]


class BudgetExhausted(SourceUnavailable):
    """The source's request budget for this run is used up."""


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Per-source limits. Times in seconds."""

    timeout: float = 20.0
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0
    budget: int = 200


@dataclass(frozen=True, slots=True)
class JsonResponse:
    url: str
    data: Any
    fetched_at: datetime
    status: int
    not_modified: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SourceHttp:
    """One source's view of the shared `httpx.AsyncClient` for one run."""

    client: httpx.AsyncClient
    source: str
    policy: HttpPolicy = field(default_factory=HttpPolicy)
    headers: Mapping[str, str] = field(default_factory=dict)
    cache: Mapping[str, CachedResponse] = field(default_factory=dict)
    sleep: Sleep = asyncio.sleep
    clock: Clock = system_clock
    on_request: Callable[[str], None] | None = None
    record_dir: Path | None = None
    base_url: str = ""  # what `record_dir` names files relative to
    requests_made: int = 0
    new_cache: dict[str, CachedResponse] = field(default_factory=dict)

    @property
    def budget_left(self) -> int:
        return max(0, self.policy.budget - self.requests_made)

    async def get_json(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        accept_status: tuple[int, ...] = (),
    ) -> JsonResponse:
        """GET `url` (with `params`) as JSON; see the module docstring. A status listed in
        `accept_status` (e.g. 202, 404) is returned with `data` None instead of raising."""
        full = str(httpx.URL(url, params=dict(sorted((params or {}).items()))))
        cached = self.cache.get(full)
        headers = dict(self.headers)
        headers.setdefault("Accept", "application/json")
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = await self._send(full, headers)
        fetched_at = self.clock()
        if response.status_code == 304 and cached is not None:
            return JsonResponse(
                full,
                self._decode(full, gzip.decompress(cached.body), 200),
                fetched_at,
                304,
                not_modified=True,
                headers=response.headers,
            )
        if response.status_code in accept_status:
            return JsonResponse(full, None, fetched_at, response.status_code)
        if response.status_code >= 400 or response.status_code == 304:
            raise SourceUnavailable(
                f"{self.source}: {_short(full)} answered HTTP {response.status_code}"
                f"{_snippet(response.content)}"
            )
        data = self._decode(full, response.content, response.status_code, response)
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if etag or last_modified:
            self.new_cache[full] = CachedResponse(
                url=full,
                source=self.source,
                etag=etag,
                last_modified=last_modified,
                body=gzip.compress(response.content, mtime=0),
                fetched_at=fetched_at,
            )
        if self.record_dir is not None:
            self._record(full, response.content)
        return JsonResponse(full, data, fetched_at, response.status_code, headers=response.headers)

    async def _send(self, url: str, headers: dict[str, str]) -> httpx.Response:
        attempt = 0
        while True:
            if self.requests_made >= self.policy.budget:
                raise BudgetExhausted(
                    f"{self.source}: request budget of {self.policy.budget} used up"
                )
            self.requests_made += 1
            if self.on_request is not None:
                self.on_request(url)
            problem: str
            wait: float | None = None
            try:
                response = await self.client.get(url, headers=headers, timeout=self.policy.timeout)
            except httpx.TimeoutException:
                problem = f"no answer within {self.policy.timeout:g} s"
            except httpx.TransportError as exc:
                problem = f"cannot connect ({type(exc).__name__}: {_first_line(exc)})"
            else:
                status = response.status_code
                limited = status == 429 or _quota_used_up(response)
                if not limited and status < 500:
                    return response
                problem = f"HTTP {status}" + (" (rate limited)" if limited else "")
                wait = _retry_after(response.headers.get("Retry-After"), self.clock())
                if wait is None and limited:
                    wait = _reset_in(response.headers.get("X-RateLimit-Reset"), self.clock())
                if wait is not None and wait > self.policy.retry_after_cap:
                    raise SourceUnavailable(
                        f"{self.source}: {_short(url)} is rate limiting: retry after "
                        f"{wait:.0f} s, more than the {self.policy.retry_after_cap:g} s cap"
                    )
            if attempt >= self.policy.max_retries:
                tries = attempt + 1
                raise SourceUnavailable(
                    f"{self.source}: {_short(url)}: {problem}, after {tries} attempt(s)"
                )
            if wait is None:
                wait = min(self.policy.backoff_cap, self.policy.backoff_base * 2**attempt)
            attempt += 1
            await self.sleep(wait)

    def _decode(
        self, url: str, body: bytes, status: int, response: httpx.Response | None = None
    ) -> Any:
        text = body.lstrip()
        kind = response.headers.get("Content-Type", "") if response is not None else ""
        if not text:
            raise SourceUnavailable(f"{self.source}: {_short(url)} answered an empty body")
        if text[:1] == b"<" or "html" in kind.lower():
            raise SourceUnavailable(
                f"{self.source}: {_short(url)} answered an HTML page, not JSON "
                f"(HTTP {status}){_snippet(body)}"
            )
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceUnavailable(
                f"{self.source}: {_short(url)} answered truncated or invalid JSON "
                f"({len(body)} bytes: {exc})"
            ) from None

    def _record(self, url: str, body: bytes) -> None:
        assert self.record_dir is not None
        folder = self.record_dir / self.source
        folder.mkdir(parents=True, exist_ok=True)
        (folder / fixture_name(url, self.base_url)).write_bytes(body)


def fixture_name(url: str, base_url: str = "") -> str:
    """The fixture file a URL is recorded in: its path below `base_url`, '/' → '_'.

    With base 'https://api.coingecko.com/api/v3', '…/api/v3/coins/markets?ids=…' →
    'coins_markets.json'; with 'https://api.llama.fi', '/protocol/taiko' →
    'protocol_taiko.json'. The query is left out: one fixture per endpoint and resource.
    """
    if base_url and url.startswith(base_url.rstrip("/")):
        url = "https://x" + url[len(base_url.rstrip("/")) :]
    path = urlsplit(url).path
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", path.strip("/")) or "index"
    return f"{name}.json"


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _quota_used_up(response: httpx.Response) -> bool:
    """GitHub's primary rate limit: 403 (or 429) with X-RateLimit-Remaining: 0."""
    return response.status_code == 403 and response.headers.get("X-RateLimit-Remaining") == "0"


def _reset_in(value: str | None, now: datetime) -> float | None:
    """Seconds until an X-RateLimit-Reset epoch time."""
    if not value or not value.strip().isdigit():
        return None
    return max(0.0, int(value.strip()) - now.timestamp())


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def _snippet(body: bytes, size: int = 80) -> str:
    text = re.sub(r"\s+", " ", body[:400].decode("utf-8", "replace")).strip()
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return f": {text[:size]!r}" if text else ""


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def cache_for(entries: Mapping[str, CachedResponse], source: str) -> dict[str, CachedResponse]:
    """The cached responses of `source`, by URL."""
    return {url: e for url, e in entries.items() if e.source == source}


__all__ = [
    "BudgetExhausted",
    "HttpPolicy",
    "JsonResponse",
    "SourceHttp",
    "cache_for",
    "fixture_name",
]
