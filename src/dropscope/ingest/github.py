"""GitHub: the statistics of each project's main repository, inputs of the tech sub-scores.

Per project, the first target is used: an `owner/name` repository, or an organisation, whose
public repositories are listed (`GET {base}/orgs/{org}/repos?per_page=100`) to pick the
most-starred one that is neither a fork nor archived. Then:

- `GET {base}/repos/{owner}/{name}`: `stargazers_count`, `forks_count`,
  `open_issues_count`, `pushed_at`, `archived`;
- `GET {base}/repos/{owner}/{name}/stats/commit_activity`: 52 weeks of `{"week","total",
  "days"}`; GitHub answers 202 while it computes them, then the activity is unknown this run;
- `GET {base}/repos/{owner}/{name}/contributors?per_page=100`: the contributor count (when a
  `Link: rel="last"` header says there are more pages, a lower bound from the page count).

Without a token GitHub allows 60 requests an hour (a project costs 3–4), hence the budget;
the primary rate limit answers 403 with `X-RateLimit-Remaining: 0`, handled like a 429.
A token (`Authorization: Bearer`) raises the limit to 5,000. ETags are sent back, and a 304
does not count against GitHub's limit.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from dropscope.domain.ingested import (
    AbsurdValue,
    Provenance,
    RepoMetrics,
    SourceName,
    check_day,
)
from dropscope.errors import SourceUnavailable
from dropscope.ingest._http import BudgetExhausted, SourceHttp
from dropscope.ingest._records import SourceBatch, Targets, expect_list, expect_object

SOURCE = SourceName.GITHUB
_LAST_PAGE = re.compile(r'[?&]page=(\d+)[^>]*>;\s*rel="last"')


class _Repo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    full_name: str
    stargazers_count: int
    forks_count: int
    open_issues_count: int = 0
    pushed_at: datetime | None = None
    archived: bool = False
    fork: bool = False


class _Week(BaseModel):
    model_config = ConfigDict(extra="ignore")

    week: int
    total: int


def _count(field: str, value: int) -> int:
    if value < 0:
        raise AbsurdValue(f"{field}: {value} is negative")
    return value


def parse_repo(data: Any, url: str) -> _Repo:
    repo = _Repo.model_validate(expect_object(SOURCE, url, data, "repository"))
    _count("stargazers_count", repo.stargazers_count)
    _count("forks_count", repo.forks_count)
    _count("open_issues_count", repo.open_issues_count)
    return repo


def parse_commit_activity(data: Any, url: str) -> tuple[int, ...]:
    weeks = [_Week.model_validate(w) for w in expect_list(SOURCE, url, data, "weeks")]
    weeks.sort(key=lambda w: w.week)
    return tuple(_count("total", w.total) for w in weeks[-52:])


def pick_repository(data: Any, url: str) -> str | None:
    """The most-starred public repository that is neither a fork nor archived."""
    repos = [_Repo.model_validate(r) for r in expect_list(SOURCE, url, data, "repositories")]
    usable = [r for r in repos if not r.fork and not r.archived]
    if not usable:
        return None
    return max(usable, key=lambda r: (r.stargazers_count, r.full_name)).full_name


async def fetch(http: SourceHttp, base_url: str, targets: Targets) -> SourceBatch:
    """Metrics of each project's main repository; see the module docstring."""
    base = base_url.rstrip("/")
    batch = SourceBatch(SOURCE)
    failures: list[str] = []
    skipped = 0
    for slug, wanted in sorted(targets.github.items()):
        if not wanted:
            continue
        try:
            metrics = await _project_repo(http, base, wanted[0])
        except BudgetExhausted:
            skipped += 1
            continue
        except (SourceUnavailable, AbsurdValue, ValueError) as exc:
            failures.append(f"{slug} ({wanted[0]}): {getattr(exc, 'message', exc)}")
            continue
        if metrics is None:
            batch.notes.append(f"{slug}: no usable repository under {wanted[0]}")
            continue
        batch.repos[slug] = metrics
    if failures and not batch.repos and not skipped:
        raise SourceUnavailable(f"{SOURCE}: every repository failed; first: {failures[0]}")
    batch.rejected.extend(failures)
    if skipped:
        batch.notes.append(f"request budget used up: {skipped} project(s) not fetched")
    return batch


async def _project_repo(http: SourceHttp, base: str, target: str) -> RepoMetrics | None:
    repo = target
    if "/" not in target:
        listing = await http.get_json(
            f"{base}/orgs/{target}/repos", {"per_page": "100", "type": "public"}
        )
        picked = pick_repository(listing.data, listing.url)
        if picked is None:
            return None
        repo = picked
    response = await http.get_json(f"{base}/repos/{repo}")
    info = parse_repo(response.data, response.url)
    provenance = Provenance(SOURCE, response.url, response.fetched_at)
    if info.pushed_at is not None:
        check_day("pushed_at", info.pushed_at.date(), provenance.day, future_days=1)
    activity = await http.get_json(
        f"{base}/repos/{repo}/stats/commit_activity", accept_status=(202, 204)
    )
    weeks = None if activity.data is None else parse_commit_activity(activity.data, activity.url)
    people = await http.get_json(
        f"{base}/repos/{repo}/contributors", {"per_page": "100"}, accept_status=(204,)
    )
    contributors = None
    if people.data is not None or people.status == 204:
        listed = len(expect_list(SOURCE, people.url, people.data or [], "contributors"))
        last = _LAST_PAGE.search(people.headers.get("Link", ""))
        contributors = (int(last.group(1)) - 1) * 100 + 1 if last else listed
    return RepoMetrics(
        repo=info.full_name,
        provenance=provenance,
        stars=info.stargazers_count,
        forks=info.forks_count,
        open_issues=info.open_issues_count,
        pushed_at=info.pushed_at,
        archived=info.archived,
        weekly_commits=weeks,
        contributors=contributors,
    )
