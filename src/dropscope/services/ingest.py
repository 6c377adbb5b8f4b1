"""The ingestion pipeline: public sources → evidence, funding, token state, score inputs.

For each source, in order (`SourceName`): **fetch** through its adapter (no transaction is
open while waiting on the network) → **normalise** (the adapter's records) → **match** to
projects → **merge** under the precedence rule and **diff** (`ingest_apply.py`) → **write**
in one transaction per source → **re-classify** the projects it touched and **record** their
status changes (`status_log.py`) → **bump the data version** when something changed.

Failure isolation: a source that is down, slow, rate limiting or answering garbage ends
with an error row in the report and writes nothing; the next sources still run. Each run is
recorded in `ingest_runs` (state running → finished | failed); a run still "running" when
the next one starts died (kill -9, power loss) and is marked abandoned. Because each source's
writes are one transaction and every write is an idempotent upsert keyed by stable ids, a
killed run leaves the database as it was after the last committed source, and re-running
converges to the same state with no duplicates.

`dry_run` does everything (fetch, match, merge, diff, classify) inside transactions that are
rolled back: the report says what would change, the database does not move.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from dropscope import __version__
from dropscope.clock import Clock, system_clock
from dropscope.config import Settings
from dropscope.domain.ingested import (
    CachedResponse,
    MatchedListing,
    SourceName,
    StoredConflict,
    StoredMarket,
    StoredRepo,
    Verification,
)
from dropscope.domain.status import StatusChange
from dropscope.domain.text import closest
from dropscope.errors import DropscopeError, InvalidInput, SourceUnavailable
from dropscope.ingest.sources import FETCHERS, HttpPolicy, SourceHttp
from dropscope.services.database import Database, UnitOfWork
from dropscope.services.ingest_apply import IngestState, apply_batch, touched_projects
from dropscope.services.status_log import record_status_changes


@dataclass(frozen=True, slots=True)
class SourceConfig:
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    policy: HttpPolicy = field(default_factory=HttpPolicy)


@dataclass(frozen=True, slots=True)
class IngestOptions:
    sources: tuple[SourceName, ...]
    configs: Mapping[SourceName, SourceConfig]
    dry_run: bool = False
    record_dir: Path | None = None


def parse_sources(names: Sequence[str]) -> tuple[SourceName, ...]:
    """Source names as given on the command line, in pipeline order; all when none."""
    known = {s.value: s for s in SourceName}
    chosen: set[SourceName] = set()
    for name in names:
        for part in name.split(","):
            key = part.strip().lower()
            if not key:
                continue
            if key == "defillama":
                chosen.update(s for s in SourceName if s.value.startswith("defillama"))
            elif key in known:
                chosen.add(known[key])
            else:
                hint = closest(key, [*known, "defillama"])
                more = f" (did you mean {' or '.join(hint)}?)" if hint else ""
                raise InvalidInput(
                    f"unknown source {part.strip()!r}{more}; sources: {', '.join(known)}"
                )
    return tuple(s for s in SourceName if s in chosen) if chosen else tuple(SourceName)


def options_from_settings(
    settings: Settings,
    sources: Sequence[SourceName] = tuple(SourceName),
    *,
    dry_run: bool = False,
    record_dir: Path | None = None,
) -> IngestOptions:
    """Base URLs, keys, timeouts, retries and budgets from the DROPSCOPE_* settings."""
    bases = {
        SourceName.DEFILLAMA_PROTOCOLS: settings.defillama_url,
        SourceName.DEFILLAMA_RAISES: settings.defillama_url,
        SourceName.DEFILLAMA_AIRDROPS: settings.defillama_airdrops_url,
        SourceName.COINGECKO: settings.coingecko_url,
        SourceName.GITHUB: settings.github_url,
    }
    headers: dict[SourceName, dict[str, str]] = {s: {} for s in SourceName}
    if settings.coingecko_api_key is not None:
        key = settings.coingecko_api_key.get_secret_value()
        headers[SourceName.COINGECKO]["x-cg-demo-api-key"] = key
    headers[SourceName.GITHUB]["Accept"] = "application/vnd.github+json"
    headers[SourceName.GITHUB]["X-GitHub-Api-Version"] = "2022-11-28"
    if settings.github_token is not None:
        token = settings.github_token.get_secret_value()
        headers[SourceName.GITHUB]["Authorization"] = f"Bearer {token}"
    configs = {
        s: SourceConfig(
            base_url=bases[s],
            headers=headers[s],
            policy=HttpPolicy(
                timeout=settings.ingest_timeout,
                max_retries=settings.ingest_max_retries,
                retry_after_cap=settings.ingest_retry_after_cap,
                budget=settings.ingest_budgets.get(s.value, HttpPolicy().budget),
            ),
        )
        for s in SourceName
    }
    return IngestOptions(tuple(sources), configs, dry_run=dry_run, record_dir=record_dir)


class Progress(Protocol):
    def started(self, source: str) -> None: ...
    def request(self, source: str, url: str) -> None: ...
    def finished(self, report: SourceReport) -> None: ...


class _Quiet:
    def started(self, source: str) -> None:
        pass

    def request(self, source: str, url: str) -> None:
        pass

    def finished(self, report: SourceReport) -> None:
        pass


@dataclass
class SourceReport:
    """One source's outcome. `state` is ok or error (with `error`, nothing written)."""

    source: str
    state: str = "ok"
    error: str | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    rejected: int = 0
    records: int = 0
    requests: int = 0
    not_modified: bool = False
    notes: list[str] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        """Rejected records, plus one when the whole source failed."""
        return self.rejected + (1 if self.state == "error" else 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "state": self.state,
            "error": self.error,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "errors": self.errors,
            "records": self.records,
            "requests": self.requests,
            "not_modified": self.not_modified,
            "notes": list(self.notes),
            "rejections": list(self.rejections),
            "status_changes": [
                {
                    "project": c.project_slug,
                    "old": c.old.value if c.old else None,
                    "new": c.new.value,
                    "rule": c.rule,
                    "effective_on": c.effective_on.isoformat(),
                    "evidence": list(c.evidence_ids),
                }
                for c in self.status_changes
            ],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class IngestReport:
    run_id: int | None
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def status_changes(self) -> list[StatusChange]:
        return [c for s in self.sources for c in s.status_changes]

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if s.state == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "sources": [s.as_dict() for s in self.sources],
        }


class _DryRun(Exception):
    """Raised inside a unit of work to roll it back (dry runs)."""


async def ingest(
    db: Database,
    options: IngestOptions,
    *,
    client: httpx.AsyncClient,
    clock: Clock = system_clock,
    sleep: Callable[[float], Any] = asyncio.sleep,
    progress: Progress | None = None,
) -> IngestReport:
    """Run the pipeline over `options.sources`; see the module docstring."""
    progress = progress or _Quiet()
    started = clock()
    report = IngestReport(None, options.dry_run, started)
    if not options.dry_run:
        with db.unit_of_work() as uow:
            uow.ingest.abandon_running(started)
            names = [s.value for s in options.sources]
            report.run_id = uow.ingest.start_run(started, names, False)
    with db.unit_of_work(read_only=True) as uow:
        state = IngestState.load(uow)
        caches = {s: uow.ingest.cached_responses(s.value) for s in options.sources}
    outcome = "failed"
    try:
        for source in options.sources:
            one = _SourceRun(db, state, source, options, client, clock, sleep, progress)
            report.sources.append(await one.run(caches[source]))
            state = one.state
        outcome = "finished"
    finally:
        report.finished_at = clock()
        if report.run_id is not None:
            summary = [s.as_dict() for s in report.sources]
            with db.unit_of_work() as uow:
                uow.ingest.finish_run(report.run_id, report.finished_at, outcome, summary)
    return report


@dataclass
class _SourceRun:
    db: Database
    state: IngestState
    source: SourceName
    options: IngestOptions
    client: httpx.AsyncClient
    clock: Clock
    sleep: Callable[[float], Any]
    progress: Progress

    async def run(self, cache: dict[str, CachedResponse]) -> SourceReport:
        report = SourceReport(self.source.value)
        began = time.perf_counter()
        self.progress.started(self.source.value)
        config = self.options.configs[self.source]
        http = SourceHttp(
            self.client,
            self.source.value,
            config.policy,
            headers=config.headers,
            cache=cache,
            sleep=self.sleep,
            clock=self.clock,
            on_request=lambda url: self.progress.request(self.source.value, url),
            record_dir=self.options.record_dir,
            base_url=config.base_url,
        )
        try:
            batch = await FETCHERS[self.source](http, config.base_url, self.state.targets())
            report.requests = http.requests_made
            batch.cache = list(http.new_cache.values())
            report.records = batch.records
            report.not_modified = batch.not_modified
            report.rejected = len(batch.rejected)
            report.rejections = batch.rejected[:20]
            report.notes.extend(batch.notes)
            self._write(batch, report)
        except DropscopeError as exc:
            report.requests = http.requests_made
            report.state = "error"
            report.error = exc.message
            if not isinstance(exc, SourceUnavailable):
                report.error = f"{self.source.value}: {exc.message}"
        except Exception as exc:  # a bug must not take the other sources down with it
            report.requests = http.requests_made
            report.state = "error"
            report.error = f"{self.source.value}: unexpected {type(exc).__name__}: {exc}"
        report.seconds = time.perf_counter() - began
        self.progress.finished(report)
        return report

    def _write(self, batch: Any, report: SourceReport) -> None:
        now = self.clock()
        work = self.state.copy()
        try:
            with self.db.unit_of_work() as uow:
                applied = apply_batch(uow, work, batch, now)
                uow.ingest.save_cached(batch.cache)
                uow.session.flush()
                changes = record_status_changes(uow, touched_projects(work, applied.touched), now)
                changed = (
                    applied.counts["new"]
                    or applied.counts["updated"]
                    or applied.changed
                    or applied.investors_created
                    or changes
                )
                if changed:
                    uow.meta.bump_data_version()
                report.new = applied.counts["new"]
                report.updated = applied.counts["updated"]
                report.unchanged = applied.counts["unchanged"]
                report.conflicts = len(applied.conflicts)
                report.notes.extend(applied.notes)
                report.status_changes = list(changes)
                if self.options.dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        self.state = work


def run_ingest(
    db: Database,
    options: IngestOptions,
    *,
    clock: Clock = system_clock,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> IngestReport:
    """`ingest` with its own HTTP client (for the CLI): one event loop, one run."""

    async def main() -> IngestReport:
        async with httpx.AsyncClient(
            transport=transport,
            follow_redirects=True,
            headers={"User-Agent": f"dropscope/{__version__} (+https://github.com/dropscope)"},
        ) as client:
            return await ingest(db, options, client=client, clock=clock, progress=progress)

    return asyncio.run(main())


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """'1h', '30m', '1h30m', '90s', '2d' → seconds."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise InvalidInput(f"--every takes a duration like 1h, 30m, 1h30m or 90s, not {text!r}")
    return sum(float(n) * _UNIT[u] for n, u in parts)


def watch(
    run_once: Callable[[], IngestReport | None],
    every_seconds: float,
    *,
    max_runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_report: Callable[[IngestReport], None] | None = None,
) -> int:
    """Run `run_once` every `every_seconds` (measured from each start) until interrupted
    (Ctrl-C) or `max_runs` runs; how many ran. A run that returns None (it failed and said
    so) is not reported; the next one still comes."""
    runs = 0
    while max_runs is None or runs < max_runs:
        began = time.monotonic()
        report = run_once()
        runs += 1
        if on_report is not None and report is not None:
            on_report(report)
        if max_runs is not None and runs >= max_runs:
            break
        sleep(max(0.0, every_seconds - (time.monotonic() - began)))
    return runs


__all__ = [
    "IngestOptions",
    "IngestReport",
    "Progress",
    "ProjectSources",
    "SourceConfig",
    "SourceReport",
    "ingest",
    "options_from_settings",
    "parse_every",
    "parse_sources",
    "project_sources",
    "run_ingest",
    "watch",
]


@dataclass(frozen=True, slots=True)
class ProjectSources:
    """What ingestion knows about one project: when each part was last verified and by which
    source, the disagreements kept, its DefiLlama listings, token market and repository."""

    verifications: tuple[Verification, ...]
    conflicts: tuple[StoredConflict, ...]
    listings: tuple[MatchedListing, ...]
    markets: tuple[StoredMarket, ...]
    repository: StoredRepo | None

    def __bool__(self) -> bool:
        return bool(self.verifications or self.conflicts or self.listings or self.markets)


def project_sources(uow: UnitOfWork, slug: str) -> ProjectSources:
    return ProjectSources(
        verifications=tuple(uow.ingest.verifications(slug)),
        conflicts=tuple(uow.ingest.conflicts(slug)),
        listings=tuple(uow.ingest.listings_for(slug)),
        markets=tuple(uow.ingest.latest_markets(slug)),
        repository=uow.ingest.repo_metrics(slug),
    )
