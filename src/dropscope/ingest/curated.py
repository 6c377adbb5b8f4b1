"""The curated data files as a source: read, validate strictly, resolve, and build a Dataset.

Layout of the data folder::

    sources.yaml              publications facts are cited from
    investors.yaml            funds and people, with the spellings sources use
    peers.yaml                competitors that are named but not researched
    projects/<slug>.yaml      one researched project per file
    past_airdrops/<slug>.yaml one past distribution per file

Everything is checked before anything is returned, and every problem is reported with its
file and field, so a bad file can never half-load: `read_dataset` either returns the whole
Dataset or raises `DataFileError` listing all problems. Names and aliases are lookup keys:
one project's may not be another's slug, name or alias (`domain.names.clashes`).

The mapping of one project both ways (`project_from_file`, `project_to_document`) and its
reference checks (`check_project`, also used by the curation services against the database)
live in `curated_project.py` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from dropscope.domain.models import Dataset, Figure, Investor, PastAirdrop, Peer, Source
from dropscope.domain.names import clashes
from dropscope.domain.past import with_derived_figures
from dropscope.errors import DataFileError, NotFound
from dropscope.ingest.curated_project import (
    FieldChecks,
    References,
    check_project,
    citation_from,
    project_from_file,
    project_to_document,
    validation_problems,
)
from dropscope.ingest.curated_schema import (
    InvestorsFile,
    PastAirdropFile,
    PeersFile,
    ProjectFile,
    SourcesFile,
)

__all__ = ["check_project", "project_from_file", "project_to_document", "read_dataset"]

Problem = tuple[str, str, str]
M = TypeVar("M", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key written twice in one mapping (YAML keeps the last)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


class _Reader:
    """Collects problems while reading files, so that all are reported at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def read(self, path: Path, model: type[M]) -> M | None:
        name = self.name(path)
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
        except OSError as exc:
            self.problems.append((name, "(file)", f"cannot read: {exc.strerror}"))
            return None
        except UnicodeDecodeError:
            self.problems.append((name, "(file)", "not UTF-8 text"))
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "(file)"
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.problems.append((name, where, f"invalid YAML: {what}"))
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            self.problems.extend((name, field, msg) for field, msg in validation_problems(exc))
            return None


def _past(f: PastAirdropFile) -> PastAirdrop:
    figures = tuple(
        Figure(g.metric, g.value, citation_from(g.cite), g.qualifier, note=g.note)
        for g in f.figures
    )
    return with_derived_figures(
        PastAirdrop(
            slug=f.slug,
            name=f.name,
            token_symbol=f.token_symbol,
            citation=citation_from(f.cite),
            project_slug=f.project,
            snapshot_on=f.snapshot_on,
            claim_start=f.claim_start,
            claim_end=f.claim_end,
            figures=figures,
            notes=tuple(f.notes),
        )
    )


def read_dataset(root: Path, *, today: date) -> Dataset:
    """Read and validate the whole data folder. Raises DataFileError listing every problem,
    NotFound when the folder does not exist. `today` bounds dates ("public" in the future is
    an error)."""
    if not root.is_dir():
        raise NotFound(f"data folder not found: {root}")
    r = _Reader(root)
    sources = r.read(root / "sources.yaml", SourcesFile)
    investors = r.read(root / "investors.yaml", InvestorsFile)
    peers = r.read(root / "peers.yaml", PeersFile)
    projects = {p: r.read(p, ProjectFile) for p in sorted((root / "projects").glob("*.yaml"))}
    pasts = {p: r.read(p, PastAirdropFile) for p in sorted((root / "past_airdrops").glob("*.yaml"))}
    if not projects:
        r.problems.append((r.name(root / "projects"), "(folder)", "no project files (*.yaml)"))
    if r.problems or sources is None or investors is None or peers is None:
        raise DataFileError(r.problems)
    _check_references(r, sources, investors, peers, projects, pasts, today)
    if r.problems:
        raise DataFileError(r.problems)
    return Dataset(
        sources=tuple(
            Source(s.id, s.title, s.publisher, s.url, s.published_on, s.note)
            for s in sources.sources
        ),
        investors=tuple(
            Investor(i.slug, i.name, tuple(i.aliases), i.website) for i in investors.investors
        ),
        peers=tuple(Peer(p.slug, p.name, tuple(p.aliases), p.website) for p in peers.peers),
        projects=tuple(project_from_file(f) for f in projects.values() if f is not None),
        past_airdrops=tuple(_past(f) for f in pasts.values() if f is not None),
    )


def _unique(r: _Reader, file: str, field: str, values: list[str]) -> set[str]:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            r.problems.append((file, f"{field}[{i}]", f"duplicate {v!r}"))
        seen.add(v)
    return seen


def _check_references(
    r: _Reader,
    sources: SourcesFile,
    investors: InvestorsFile,
    peers: PeersFile,
    projects: dict[Path, ProjectFile | None],
    pasts: dict[Path, PastAirdropFile | None],
    today: date,
) -> None:
    root = r.root
    refs = References(
        sources=_unique(
            r, r.name(root / "sources.yaml"), "sources", [s.id for s in sources.sources]
        ),
        investors=_unique(
            r, r.name(root / "investors.yaml"), "investors", [i.slug for i in investors.investors]
        ),
        projects={f.slug for f in projects.values() if f},
        peers=_unique(r, r.name(root / "peers.yaml"), "peers", [p.slug for p in peers.peers]),
    )
    for slug in sorted(refs.peers & refs.projects):
        r.problems.append((r.name(root / "peers.yaml"), "peers", f"{slug!r} is also a project"))
    seen_projects: dict[str, str] = {}
    for path, f in projects.items():
        assert f is not None
        name = r.name(path)
        if path.stem != f.slug:
            r.problems.append((name, "slug", f"{f.slug!r} does not match the file name"))
        if f.slug in seen_projects:
            r.problems.append((name, "slug", f"duplicate slug, also in {seen_projects[f.slug]}"))
        seen_projects[f.slug] = name
        r.problems.extend((name, field, msg) for field, msg in check_project(f, refs, today))
    _check_clashes(r, projects)
    for path, p in pasts.items():
        assert p is not None
        name = r.name(path)
        check = FieldChecks(refs, today)
        if path.stem != p.slug:
            check.fail("slug", f"{p.slug!r} does not match the file name")
        if p.project is not None and p.project not in refs.projects:
            check.unknown("project", p.project, "project", refs.projects)
        check.cite("cite", p.cite)
        if p.claim_start and p.claim_end and p.claim_end < p.claim_start:
            check.fail("claim_end", "ends before claim_start")
        for i, g in enumerate(p.figures):
            check.cite(f"figures[{i}].cite", g.cite)
        r.problems.extend((name, field, msg) for field, msg in check.problems)


def _check_clashes(r: _Reader, projects: dict[Path, ProjectFile | None]) -> None:
    """A problem for each project name, alias or slug another project already answers to
    (`domain.names.clashes`): names are lookup keys, so they must be unique."""
    files = [(r.name(path), f) for path, f in projects.items() if f is not None]
    for name, f in files:
        others = [g for _, g in files if g is not f]
        r.problems.extend((name, c.field, c.message) for c in clashes(f, others))
