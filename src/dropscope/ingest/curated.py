"""The curated data files as a source: read, validate strictly, resolve, and build a Dataset.

Layout of the data folder::

    sources.yaml              publications facts are cited from
    investors.yaml            funds and people, with the spellings sources use
    peers.yaml                competitors that are named but not researched
    projects/<slug>.yaml      one researched project per file
    past_airdrops/<slug>.yaml one past distribution per file

Everything is checked before anything is returned, and every problem is reported with its
file and field, so a bad file can never half-load: `read_dataset` either returns the whole
Dataset or raises `DataFileError` listing all problems.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from dropscope.domain.models import (
    Citation,
    Dataset,
    Evidence,
    EvidenceKind,
    Figure,
    FundingRound,
    Investor,
    PastAirdrop,
    Peer,
    Programme,
    Project,
    Score,
    ScoreMethod,
    Source,
    Token,
)
from dropscope.domain.past import with_derived_figures
from dropscope.domain.text import closest
from dropscope.errors import DataFileError, NotFound
from dropscope.ingest.curated_schema import (
    CiteIn,
    InvestorsFile,
    PastAirdropFile,
    PeersFile,
    ProgrammeIn,
    ProjectFile,
    SourcesFile,
)

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


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


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
            for err in exc.errors(include_url=False):
                self.problems.append((name, _loc(err["loc"]), err["msg"]))
            return None


def _cite(c: CiteIn) -> Citation:
    return Citation(c.source, c.as_of, c.quote)


def _programme(p: ProgrammeIn | None) -> Programme | None:
    return None if p is None else Programme(p.name, _cite(p.cite), p.url)


def _project(f: ProjectFile) -> Project:
    return Project(
        slug=f.slug,
        name=f.name,
        summary=f.summary,
        sector=f.sector,
        citation=_cite(f.profile_cite),
        website=f.website,
        official_domains=tuple(f.official_domains),
        chains=tuple(f.chains),
        narratives=tuple(f.narratives),
        competitors=tuple(f.competitors),
        aliases=tuple(f.aliases),
        token=Token(f.token.symbol, f.token.coingecko_id),
        testnet=_programme(f.testnet),
        points_program=_programme(f.points_program),
        funding_rounds=tuple(
            FundingRound(
                id=r.id,
                round=r.round,
                citation=_cite(r.cite),
                announced_on=r.announced_on,
                amount_usd=r.amount_usd,
                amount_qualifier=r.amount_qualifier,
                valuation_usd=r.valuation_usd,
                lead_investors=tuple(r.lead_investors),
                other_investors=tuple(r.other_investors),
                note=r.note,
            )
            for r in f.funding
        ),
        scores=tuple(
            Score(s.kind, s.value, ScoreMethod.CURATED, s.label, _cite(s.cite)) for s in f.scores
        ),
        evidence=tuple(
            Evidence(
                id=e.id,
                kind=e.kind,
                occurred_on=e.occurred_on,
                public_on=e.public_on,
                summary=e.summary,
                citation=_cite(e.cite),
                official=e.official,
                window_end=e.window_end,
            )
            for e in f.evidence
        ),
    )


def _past(f: PastAirdropFile) -> PastAirdrop:
    figures = tuple(
        Figure(g.metric, g.value, _cite(g.cite), g.qualifier, note=g.note) for g in f.figures
    )
    return with_derived_figures(
        PastAirdrop(
            slug=f.slug,
            name=f.name,
            token_symbol=f.token_symbol,
            citation=_cite(f.cite),
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
        projects=tuple(_project(f) for f in projects.values() if f is not None),
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
    source_ids = _unique(
        r, r.name(root / "sources.yaml"), "sources", [s.id for s in sources.sources]
    )
    investor_slugs = _unique(
        r, r.name(root / "investors.yaml"), "investors", [i.slug for i in investors.investors]
    )
    peer_slugs = _unique(r, r.name(root / "peers.yaml"), "peers", [p.slug for p in peers.peers])
    project_slugs = {f.slug for f in projects.values() if f}
    for slug in sorted(peer_slugs & project_slugs):
        r.problems.append((r.name(root / "peers.yaml"), "peers", f"{slug!r} is also a project"))
    seen_projects: dict[str, str] = {}
    for path, f in projects.items():
        assert f is not None
        name = r.name(path)
        check = _Checker(r, name, source_ids, today)
        if path.stem != f.slug:
            r.problems.append((name, "slug", f"{f.slug!r} does not match the file name"))
        if f.slug in seen_projects:
            r.problems.append((name, "slug", f"duplicate slug, also in {seen_projects[f.slug]}"))
        seen_projects[f.slug] = name
        check.cite("profile_cite", f.profile_cite)
        for i, c in enumerate(f.competitors):
            if c == f.slug:
                check.fail(f"competitors[{i}]", "a project cannot compete with itself")
            elif c not in project_slugs and c not in peer_slugs:
                check.unknown(f"competitors[{i}]", c, "project or peer", project_slugs | peer_slugs)
        for key, prog in (("testnet", f.testnet), ("points_program", f.points_program)):
            if prog:
                check.cite(f"{key}.cite", prog.cite)
        for i, s in enumerate(f.scores):
            check.cite(f"scores[{i}].cite", s.cite)
        _unique(r, name, "funding.id", [x.id for x in f.funding])
        for i, fr in enumerate(f.funding):
            check.cite(f"funding[{i}].cite", fr.cite)
            for role in ("lead_investors", "other_investors"):
                for j, inv in enumerate(getattr(fr, role)):
                    if inv not in investor_slugs:
                        check.unknown(f"funding[{i}].{role}[{j}]", inv, "investor", investor_slugs)
            if fr.announced_on and fr.announced_on > today:
                check.fail(f"funding[{i}].announced_on", f"{fr.announced_on} is in the future")
        _unique(r, name, "evidence.id", [x.id for x in f.evidence])
        for i, e in enumerate(f.evidence):
            check.cite(f"evidence[{i}].cite", e.cite)
            if e.public_on > today:
                check.fail(f"evidence[{i}].public_on", f"{e.public_on} is in the future")
            if e.window_end is not None and e.kind is not EvidenceKind.CLAIM_OPEN:
                check.fail(f"evidence[{i}].window_end", "only claim_open evidence has a window")
            if e.window_end is not None and e.window_end < e.occurred_on:
                check.fail(f"evidence[{i}].window_end", "ends before the claim opened")
    for path, p in pasts.items():
        assert p is not None
        name = r.name(path)
        check = _Checker(r, name, source_ids, today)
        if path.stem != p.slug:
            r.problems.append((name, "slug", f"{p.slug!r} does not match the file name"))
        if p.project is not None and p.project not in project_slugs:
            check.unknown("project", p.project, "project", project_slugs)
        check.cite("cite", p.cite)
        if p.claim_start and p.claim_end and p.claim_end < p.claim_start:
            check.fail("claim_end", "ends before claim_start")
        for i, g in enumerate(p.figures):
            check.cite(f"figures[{i}].cite", g.cite)


class _Checker:
    """Reference checks for one file, recording problems on the reader."""

    def __init__(self, r: _Reader, name: str, source_ids: set[str], today: date) -> None:
        self.r, self.name, self.source_ids, self.today = r, name, source_ids, today

    def fail(self, field: str, msg: str) -> None:
        self.r.problems.append((self.name, field, msg))

    def unknown(self, field: str, value: str, what: str, known: set[str]) -> None:
        hint = closest(value, known, n=1)
        suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
        self.fail(field, f"unknown {what} {value!r}{suffix}")

    def cite(self, field: str, c: CiteIn) -> None:
        if c.source not in self.source_ids:
            self.unknown(f"{field}.source", c.source, "source", self.source_ids)
        if c.as_of > self.today:
            self.fail(f"{field}.as_of", f"{c.as_of} is in the future")
