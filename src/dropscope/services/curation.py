"""Curating one project at a time: create it, patch it, add evidence to it.

The write side the REST API calls. Each function runs inside the caller's unit of work and

- checks its input against the database with the same checks the data files get
  (`ingest.curated.check_project`), raising `InvalidInput` that names every field at fault
  (the message lists them; `fields` holds the (path, message) pairs);
- raises `NotFound` with close slugs for an unknown project and `Conflict` for a duplicate
  (a slug, or a name or alias another project already answers to);
- records a status change when the project's derived status moved (`status_log`);
- bumps the data version once when it wrote anything.

When one raises, the unit of work rolls back, so nothing is half-written.

A patch is an RFC 7396 JSON merge patch of the project's document form (the shape of a file
in `data/projects/`, see `ingest.curated.project_to_document`): objects merge key by key,
`null` removes a key (so an optional field returns to its default), anything else, lists
included, replaces the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from dropscope.domain.classify import Classification
from dropscope.domain.models import Project
from dropscope.domain.names import Named, clashes, keys
from dropscope.domain.status import StatusChange
from dropscope.domain.text import closest
from dropscope.errors import Conflict, InvalidInput, NotFound
from dropscope.ingest.curated import check_project, project_from_file, project_to_document
from dropscope.ingest.curated_project import (
    FieldProblem,
    References,
    check_evidence,
    evidence_from,
    validation_problems,
)
from dropscope.ingest.curated_schema import EvidenceIn, ProjectFile
from dropscope.services.database import UnitOfWork
from dropscope.services.status_log import record_status_change


def create_project(uow: UnitOfWork, doc: ProjectFile, now: datetime) -> Project:
    """Save a new project from its document and record its first status.

    `Conflict` when the slug is taken by a project or a peer, or when its slug, name or an
    alias is another project's slug, name or alias (`_refuse_clashes`); `InvalidInput` for
    unknown sources, investors or competitors, repeated funding or evidence ids, dates after
    `now.date()`, or a claim window on evidence that is not `claim_open`.
    """
    refs = _references(uow)
    if doc.slug in refs.projects:
        raise Conflict(f"project {doc.slug!r} already exists")
    if doc.slug in refs.peers:
        raise Conflict(
            f"{doc.slug!r} is already a peer (a competitor that is not researched); "
            "a slug names a project or a peer, not both"
        )
    _raise_if_any("project", check_project(doc, refs, now.date()))
    _refuse_clashes(uow, doc)
    project = project_from_file(doc)
    uow.projects.save(project, now)
    record_status_change(uow, project, now)
    uow.meta.bump_data_version()
    return project


def patch_project(uow: UnitOfWork, slug: str, patch: Mapping[str, Any], now: datetime) -> Project:
    """Apply a JSON merge patch to project `slug` (see the module docstring) and save it.

    The result is validated like a data file (`InvalidInput` naming the field, e.g.
    `scores[0].value`) and its references checked against the database. `slug` cannot be
    changed; a new name or alias that another project answers to is a `Conflict`
    (`_refuse_clashes`). A status change is recorded when the status moved. A patch that
    changes nothing writes nothing and leaves the data version as it was.
    """
    if not isinstance(patch, Mapping):
        raise InvalidInput("a merge patch must be a JSON object")
    project = _get(uow, slug)
    if "slug" in patch and patch["slug"] != slug:
        msg = "cannot be changed; create a new project instead"
        raise InvalidInput(f"slug: {msg} (it is {slug!r})", fields=(("slug", msg),))
    try:
        document = project_to_document(project)
    except ValueError as exc:
        raise Conflict(f"cannot patch: {exc}") from None
    merged = merge_patch(document, patch)
    try:
        doc = ProjectFile.model_validate(merged)
    except ValidationError as exc:
        _raise_if_any("project", validation_problems(exc))
        raise  # pragma: no cover (a ValidationError always has errors)
    _raise_if_any("project", check_project(doc, _references(uow), now.date()))
    _refuse_clashes(uow, doc, project)
    updated = project_from_file(doc)
    written = uow.projects.save(updated, now) != "unchanged"
    _, change = record_status_change(uow, updated, now)
    if written or change is not None:
        uow.meta.bump_data_version()
    return updated


def add_evidence(
    uow: UnitOfWork, slug: str, item: EvidenceIn, now: datetime
) -> tuple[Project, Classification, StatusChange | None]:
    """Append `item` to project `slug`'s evidence; classify it again on `now.date()`.

    Returns the project, its classification, and the status change recorded (None when the
    status is the one recorded last). `Conflict` for an evidence id the project already has;
    `InvalidInput` (fields relative to the item, e.g. `cite.source`) for an unknown source,
    a date after `now.date()` or a misplaced claim window.
    """
    project = _get(uow, slug)
    if any(e.id == item.id for e in project.evidence):
        raise Conflict(f"project {slug!r} already has evidence {item.id!r}")
    _raise_if_any("evidence", check_evidence(item, _references(uow), now.date()))
    updated = replace(project, evidence=(*project.evidence, evidence_from(item)))
    uow.projects.save(updated, now)
    classification, change = record_status_change(uow, updated, now)
    uow.meta.bump_data_version()
    return updated, classification, change


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: `patch` applied to `target`, as a new value (neither is changed).

    >>> merge_patch({"a": 1, "b": {"c": 2}}, {"a": None, "b": {"d": 3}})
    {'b': {'c': 2, 'd': 3}}
    """
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _refuse_clashes(uow: UnitOfWork, doc: Named, stored: Named | None = None) -> None:
    """`Conflict` naming the fields of `doc` whose text another stored project answers to
    (`domain.names.clashes`): a project's name must never take over another's lookups.

    A clash `stored` (the copy being replaced) already had is let be, so a project that came
    to share a name before this check existed can still be patched; a new one is refused.
    """
    had = keys(stored) if stored is not None else set()
    found = [c for c in clashes(doc, uow.projects.list_all()) if c.key not in had]
    if found:
        listed = "; ".join(f"{c.field}: {c.message}" for c in found)
        raise Conflict(f"names must be unique across projects: {listed}")


def _get(uow: UnitOfWork, slug: str) -> Project:
    project = uow.projects.get(slug)
    if project is None:
        raise NotFound(f"no project {slug!r}", closest(slug, uow.projects.slugs()))
    return project


def _references(uow: UnitOfWork) -> References:
    return References(
        sources={s.id for s in uow.sources.list_all()},
        investors={i.slug for i in uow.investors.list_all()},
        projects=set(uow.projects.slugs()),
        peers={p.slug for p in uow.peers.list_all()},
    )


def _raise_if_any(what: str, problems: list[FieldProblem]) -> None:
    if problems:
        listed = "; ".join(f"{field}: {msg}" for field, msg in problems)
        raise InvalidInput(f"invalid {what}: {listed}", fields=tuple(problems))
