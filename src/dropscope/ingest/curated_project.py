"""One curated project: its document (file) form ⇄ the domain `Project`, and its checks.

- `project_from_file` maps a validated `ProjectFile` to a `Project`; `project_to_document`
  is its exact inverse: `project_from_file(ProjectFile.model_validate(project_to_document(p)))
  == p` for every project a file can describe.
- `check_project` checks everything in one project that points outside it (sources,
  investors, competitors) or that the shape alone cannot check (unique ids, dates not in the
  future, claim windows). The data-folder loader and the curation services both use it, with
  the references taken from the files or from the database.

Problems are (field path, message) pairs, the path written like `funding[0].cite.source`.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from dropscope.domain.models import (
    Citation,
    Evidence,
    EvidenceKind,
    FundingRound,
    Programme,
    Project,
    Score,
    ScoreMethod,
    Token,
)
from dropscope.domain.text import closest
from dropscope.ingest.curated_schema import CiteIn, EvidenceIn, ProgrammeIn, ProjectFile

FieldProblem = tuple[str, str]


def field_path(loc: tuple[int | str, ...]) -> str:
    """('scores', 0, 'value') → 'scores[0].value'; an empty location → '(file)'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def validation_problems(exc: ValidationError) -> list[FieldProblem]:
    """Each pydantic error as (field path, message)."""
    return [(field_path(err["loc"]), err["msg"]) for err in exc.errors(include_url=False)]


# --- file → domain -----------------------------------------------------------------------


def citation_from(c: CiteIn) -> Citation:
    return Citation(c.source, c.as_of, c.quote)


def _programme(p: ProgrammeIn | None) -> Programme | None:
    return None if p is None else Programme(p.name, citation_from(p.cite), p.url)


def evidence_from(e: EvidenceIn) -> Evidence:
    return Evidence(
        id=e.id,
        kind=e.kind,
        occurred_on=e.occurred_on,
        public_on=e.public_on,
        summary=e.summary,
        citation=citation_from(e.cite),
        official=e.official,
        window_end=e.window_end,
    )


def project_from_file(f: ProjectFile) -> Project:
    return Project(
        slug=f.slug,
        name=f.name,
        summary=f.summary,
        sector=f.sector,
        citation=citation_from(f.profile_cite),
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
                citation=citation_from(r.cite),
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
            Score(s.kind, s.value, ScoreMethod.CURATED, s.label, citation_from(s.cite))
            for s in f.scores
        ),
        evidence=tuple(evidence_from(e) for e in f.evidence),
    )


# --- domain → file -----------------------------------------------------------------------


def _cite_doc(c: Citation) -> dict[str, Any]:
    return {"source": c.source_id, "as_of": c.as_of, "quote": c.quote}


def _programme_doc(p: Programme | None) -> dict[str, Any] | None:
    return None if p is None else {"name": p.name, "url": p.url, "cite": _cite_doc(p.citation)}


def _score_doc(slug: str, s: Score) -> dict[str, Any]:
    if s.method is not ScoreMethod.CURATED or s.breakdown or s.citation is None:
        raise ValueError(
            f"project {slug!r}: its {s.kind.value} score is {s.method.value}; the document "
            "form holds only curated scores with a citation"
        )
    return {"kind": s.kind.value, "value": s.value, "label": s.label, "cite": _cite_doc(s.citation)}


def _funding_doc(r: FundingRound) -> dict[str, Any]:
    return {
        "id": r.id,
        "round": r.round,
        "announced_on": r.announced_on,
        "amount_usd": r.amount_usd,
        "amount_qualifier": r.amount_qualifier,
        "valuation_usd": r.valuation_usd,
        "lead_investors": list(r.lead_investors),
        "other_investors": list(r.other_investors),
        "note": r.note,
        "cite": _cite_doc(r.citation),
    }


def evidence_to_document(e: Evidence) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "occurred_on": e.occurred_on,
        "public_on": e.public_on,
        "official": e.official,
        "window_end": e.window_end,
        "summary": e.summary,
        "cite": _cite_doc(e.citation),
    }


def project_to_document(p: Project) -> dict[str, Any]:
    """`p` as the document a data file holds: every key of `ProjectFile`, in its order.

    Values are plain Python, as a YAML file loads them, except that amounts stay `Decimal`:
    str, bool, float, Decimal, date, None, lists and dicts. Raises `ValueError` for what a
    file cannot hold: a computed score (with method and breakdown) or one without citation.
    """
    return {
        "slug": p.slug,
        "name": p.name,
        "aliases": list(p.aliases),
        "summary": p.summary,
        "sector": p.sector,
        "website": p.website,
        "official_domains": list(p.official_domains),
        "chains": list(p.chains),
        "narratives": list(p.narratives),
        "competitors": list(p.competitors),
        "profile_cite": _cite_doc(p.citation),
        "token": {"symbol": p.token.symbol, "coingecko_id": p.token.coingecko_id},
        "testnet": _programme_doc(p.testnet),
        "points_program": _programme_doc(p.points_program),
        "scores": [_score_doc(p.slug, s) for s in p.scores],
        "funding": [_funding_doc(r) for r in p.funding_rounds],
        "evidence": [evidence_to_document(e) for e in p.evidence],
    }


# --- reference checks --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class References:
    """What a project may refer to: source ids, investor slugs, and the slugs of researched
    projects and of peers (a competitor is one or the other)."""

    sources: Set[str]
    investors: Set[str]
    projects: Set[str]
    peers: Set[str]


def check_project(f: ProjectFile, refs: References, today: date) -> list[FieldProblem]:
    """Every problem of `f` that its schema cannot see; empty when it is sound.

    Checks: cited sources exist and `as_of` is not after `today`; investors exist;
    competitors are projects or peers and not `f` itself; funding and evidence ids are
    unique; no announcement or public date after `today`; claim windows only on `claim_open`
    evidence and not ending before the claim opened.
    """
    c = FieldChecks(refs, today)
    c.cite("profile_cite", f.profile_cite)
    for i, slug in enumerate(f.competitors):
        if slug == f.slug:
            c.fail(f"competitors[{i}]", "a project cannot compete with itself")
        elif slug not in refs.projects and slug not in refs.peers:
            c.unknown(f"competitors[{i}]", slug, "project or peer", refs.projects | refs.peers)
    for key, prog in (("testnet", f.testnet), ("points_program", f.points_program)):
        if prog:
            c.cite(f"{key}.cite", prog.cite)
    for i, s in enumerate(f.scores):
        c.cite(f"scores[{i}].cite", s.cite)
    c.unique("funding", [r.id for r in f.funding])
    for i, r in enumerate(f.funding):
        c.cite(f"funding[{i}].cite", r.cite)
        for role in ("lead_investors", "other_investors"):
            for j, inv in enumerate(getattr(r, role)):
                if inv not in refs.investors:
                    c.unknown(f"funding[{i}].{role}[{j}]", inv, "investor", refs.investors)
        if r.announced_on and r.announced_on > today:
            c.fail(f"funding[{i}].announced_on", f"{r.announced_on} is in the future")
    c.unique("evidence", [e.id for e in f.evidence])
    for i, e in enumerate(f.evidence):
        c.evidence(f"evidence[{i}]", e)
    return c.problems


def check_evidence(e: EvidenceIn, refs: References, today: date) -> list[FieldProblem]:
    """The checks `check_project` makes of each evidence item, with paths relative to it."""
    c = FieldChecks(refs, today)
    c.evidence("", e)
    return c.problems


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class FieldChecks:
    """Collects (field path, message) problems of one record; each method checks one kind
    of value. Also used by the loader for past airdrops."""

    def __init__(self, refs: References, today: date) -> None:
        self.refs, self.today = refs, today
        self.problems: list[FieldProblem] = []

    def fail(self, field: str, msg: str) -> None:
        self.problems.append((field, msg))

    def unknown(self, field: str, value: str, what: str, known: Set[str]) -> None:
        hint = closest(value, known, n=1)
        suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
        self.fail(field, f"unknown {what} {value!r}{suffix}")

    def cite(self, field: str, c: CiteIn) -> None:
        if c.source not in self.refs.sources:
            self.unknown(f"{field}.source", c.source, "source", self.refs.sources)
        if c.as_of > self.today:
            self.fail(f"{field}.as_of", f"{c.as_of} is in the future")

    def unique(self, field: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for i, v in enumerate(ids):
            if v in seen:
                self.fail(f"{field}[{i}].id", f"duplicate id {v!r}")
            seen.add(v)

    def evidence(self, prefix: str, e: EvidenceIn) -> None:
        self.cite(_join(prefix, "cite"), e.cite)
        if e.public_on > self.today:
            self.fail(_join(prefix, "public_on"), f"{e.public_on} is in the future")
        if e.window_end is not None and e.kind is not EvidenceKind.CLAIM_OPEN:
            self.fail(_join(prefix, "window_end"), "only claim_open evidence has a window")
        if e.window_end is not None and e.window_end < e.occurred_on:
            self.fail(_join(prefix, "window_end"), "ends before the claim opened")
