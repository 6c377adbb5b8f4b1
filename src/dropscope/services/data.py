"""Curated data use cases: validate the files, and load them idempotently.

Facts added by ingestion (`services/ingest.py`) are kept: each project read from its file is
merged with the ingested part of its stored copy under the same precedence rule
(`ingest_apply.reapply_ingested`), so loading after ingesting drops nothing.

Loading reads and validates every file first (nothing is written if any file is bad, or if
a file's project would take a name or alias a project kept in the database answers to), then
saves all of it in one transaction, and finally records each project whose derived status
differs from the last recorded one, with the time it was noticed (`services/status_log.py`).
When anything was written, the same transaction bumps the data version once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dropscope.domain.ingested import MatchedListing, StoredMarket
from dropscope.domain.models import Dataset, Project
from dropscope.domain.names import clashes, keys
from dropscope.domain.status import StatusChange
from dropscope.errors import DataFileError
from dropscope.ingest.curated import read_dataset
from dropscope.services.database import Database
from dropscope.services.ingest_apply import reapply_ingested
from dropscope.services.status_log import record_status_changes


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load changed: per kind, how many were created, updated or unchanged."""

    counts: dict[str, Counter[str]]
    status_changes: tuple[StatusChange, ...] = ()
    not_in_files: tuple[str, ...] = ()
    pruned: tuple[str, ...] = ()
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def anything_changed(self) -> bool:
        return bool(self.changed or self.status_changes or self.pruned)


def validate(data_dir: Path, now: datetime) -> Dataset:
    """Read and check every data file; raises DataFileError naming file and field."""
    return read_dataset(data_dir, today=now.date())


def load(db: Database, data_dir: Path, now: datetime, *, prune: bool = False) -> LoadReport:
    """Validate, then save everything in one transaction; see the module docstring.

    Projects in the database but not in the files are kept (they may come from another
    source) and listed, unless `prune` is set.
    """
    dataset = validate(data_dir, now)
    counts: dict[str, Counter[str]] = {}
    changed: dict[str, list[str]] = {}

    def tally(kind: str, key: str, outcome: str) -> None:
        counts.setdefault(kind, Counter())[outcome] += 1
        if outcome != "unchanged":
            changed.setdefault(kind, []).append(key)

    with db.unit_of_work() as uow:
        if not prune:  # pruning deletes the projects not in the files
            _refuse_clashes(data_dir, dataset, uow.projects.list_all())
        for s in dataset.sources:
            tally("sources", s.id, uow.sources.save(s))
        for i in dataset.investors:
            tally("investors", i.slug, uow.investors.save(i))
        for p in dataset.peers:
            tally("peers", p.slug, uow.peers.save(p))
        # Ingested facts (services/ingest.py) live in the same projects: merge them back in.
        stored = {p.slug: p for p in uow.projects.list_all()}
        listed: dict[str, list[MatchedListing]] = {}
        for m in uow.ingest.listings(matched=True):
            listed.setdefault(m.project_slug or "", []).append(m)
        traded: dict[str, list[StoredMarket]] = {}
        for sm in uow.ingest.latest_markets():
            traded.setdefault(sm.project_slug or "", []).append(sm)
        for pr in dataset.projects:
            merged, conflicts = reapply_ingested(
                pr, stored.get(pr.slug), listed.get(pr.slug, []), traded.get(pr.slug, [])
            )
            uow.ingest.record_conflicts(conflicts, now)
            tally("projects", pr.slug, uow.projects.save(merged, now))
        for a in dataset.past_airdrops:
            tally("past_airdrops", a.slug, uow.past_airdrops.save(a, now))
        in_files = {p.slug for p in dataset.projects}
        extra = tuple(s for s in uow.projects.slugs() if s not in in_files)
        pruned: tuple[str, ...] = ()
        if prune:
            for slug in extra:
                uow.projects.delete(slug)
            pruned, extra = extra, ()
        uow.session.flush()
        recorded = record_status_changes(uow, uow.projects.list_all(), now)
        report = LoadReport(counts, recorded, extra, pruned, changed)
        if report.anything_changed:
            uow.meta.bump_data_version()
    return report


def _refuse_clashes(data_dir: Path, dataset: Dataset, projects: list[Project]) -> None:
    """`DataFileError` for each name, alias or slug of a file's project that a project kept
    in the database but not in the files (made through the API) answers to
    (`domain.names.clashes`). A clash the stored copy of that project already had is let be,
    as in `curation.patch_project`."""
    stored = {p.slug: p for p in projects}
    in_files = {p.slug for p in dataset.projects}
    kept = [p for p in projects if p.slug not in in_files]
    problems: list[tuple[str, str, str]] = []
    for p in dataset.projects:
        had = keys(stored[p.slug]) if p.slug in stored else set()
        file = str(Path(data_dir.name, "projects", f"{p.slug}.yaml"))
        for c in clashes(p, kept):
            if c.key not in had:
                problems.append((file, c.field, f"{c.message} (in the database, not in the files)"))
    if problems:
        raise DataFileError(problems)
