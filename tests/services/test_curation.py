"""Creating and patching projects and adding evidence, on SQLite and PostgreSQL: what is
saved, which status change is recorded, every refusal, and the data version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dropscope.domain.models import EvidenceKind
from dropscope.domain.status import AirdropStatus
from dropscope.errors import Conflict, InvalidInput, NotFound
from dropscope.ingest.curated import project_from_file
from dropscope.ingest.curated_schema import ProjectFile
from dropscope.services.curation import add_evidence, create_project, merge_patch, patch_project
from dropscope.services.database import Database
from tests.factories import (
    DAY,
    REFERENCE_INVESTORS,
    REFERENCE_SOURCES,
    make_cite_document,
    make_evidence_document,
    make_evidence_in,
    make_peer,
    make_project_document,
    make_project_file,
)

NOW = datetime(2024, 1, 5, 12, 0, tzinfo=UTC)
S = AirdropStatus
Doc = dict[str, Any]


@pytest.fixture
def db(database: Database) -> Database:
    """A database holding the reference sources and investors and the peer `arbitrum`."""
    with database.unit_of_work() as uow:
        for source in REFERENCE_SOURCES:
            uow.sources.save(source)
        for investor in REFERENCE_INVESTORS:
            uow.investors.save(investor)
        uow.peers.save(make_peer())
    return database


@pytest.fixture
def nova(db: Database) -> Database:
    """`db` with project "nova" created (status likely)."""
    with db.unit_of_work() as uow:
        create_project(uow, make_project_file(), NOW)
    return db


def version(db: Database) -> int:
    with db.unit_of_work() as uow:
        return uow.meta.data_version()


def recorded(db: Database, slug: str = "nova") -> list[tuple[S | None, S]]:
    with db.unit_of_work() as uow:
        return [(c.old, c.new) for c in uow.status_changes.for_project(slug)]


def invalid(db: Database, write: Callable[[Any], object]) -> InvalidInput:
    """Run `write(uow)` expecting InvalidInput; check it wrote nothing; return the error."""
    before = version(db)
    with pytest.raises(InvalidInput) as info, db.unit_of_work() as uow:
        write(uow)
    assert version(db) == before
    return info.value


# --- create ------------------------------------------------------------------------------


def test_create_saves_the_project_records_its_status_and_bumps_once(db: Database) -> None:
    before = version(db)
    with db.unit_of_work() as uow:
        project = create_project(uow, make_project_file(), NOW)
    with db.unit_of_work() as uow:
        assert uow.projects.get("nova") == project
        (change,) = uow.status_changes.for_project("nova")
    assert project.funding_rounds[0].lead_investors == ("paradigm",)
    assert (change.old, change.new, change.rule) == (None, S.LIKELY, "incentive_program")
    assert (change.effective_on, change.recorded_at) == (date(2023, 11, 2), NOW)
    assert version(db) == before + 1


def test_a_competitor_may_be_another_project_or_a_peer(nova: Database) -> None:
    with nova.unit_of_work() as uow:
        orbit = create_project(
            uow,
            make_project_file(
                slug="orbit", name="Orbit", aliases=[], competitors=["nova", "arbitrum"]
            ),
            NOW,
        )
    assert orbit.competitors == ("nova", "arbitrum")


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


UNKNOWN = [
    pytest.param(
        _set(("profile_cite", "source"), "artcle"),
        "profile_cite.source",
        "unknown source 'artcle' (did you mean 'article'?)",
        id="source",
    ),
    pytest.param(
        _set(("funding", 0, "lead_investors"), ["paradgm"]),
        "funding[0].lead_investors[0]",
        "unknown investor 'paradgm' (did you mean 'paradigm'?)",
        id="investor",
    ),
    pytest.param(
        _set(("competitors",), ["arbitrun"]),
        "competitors[0]",
        "unknown project or peer 'arbitrun' (did you mean 'arbitrum'?)",
        id="competitor",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), UNKNOWN)
def test_create_names_an_unknown_reference_and_suggests(
    db: Database, change: Callable[[Doc], None], field: str, message: str
) -> None:
    doc = make_project_document()
    change(doc)
    err = invalid(db, lambda uow: create_project(uow, ProjectFile.model_validate(doc), NOW))
    assert err.fields == ((field, message),)
    assert f"{field}: {message}" in err.message
    with db.unit_of_work() as uow:
        assert uow.projects.get("nova") is None


UNSOUND = [
    pytest.param(_set(("competitors",), ["nova"]), "competitors[0]", "itself", id="itself"),
    pytest.param(
        _set(("evidence",), [make_evidence_document(), make_evidence_document()]),
        "evidence[1].id",
        "duplicate id 'points'",
        id="evidence-id",
    ),
    pytest.param(
        lambda d: d["funding"].append(d["funding"][0]),
        "funding[1].id",
        "duplicate id 'seed'",
        id="funding-id",
    ),
    pytest.param(
        _set(("evidence", 0, "window_end"), date(2024, 1, 1)),
        "evidence[0].window_end",
        "only claim_open",
        id="window",
    ),
    pytest.param(
        _set(("evidence", 0, "public_on"), date(2024, 1, 6)),
        "evidence[0].public_on",
        "2024-01-06 is in the future",
        id="future-public",
    ),
    pytest.param(
        _set(("scores", 0, "cite", "as_of"), date(2025, 1, 1)),
        "scores[0].cite.as_of",
        "in the future",
        id="future-as-of",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), UNSOUND)
def test_create_refuses_an_unsound_document(
    db: Database, change: Callable[[Doc], None], field: str, message: str
) -> None:
    doc = make_project_document()
    change(doc)
    err = invalid(db, lambda uow: create_project(uow, ProjectFile.model_validate(doc), NOW))
    assert [f for f, _ in err.fields] == [field]
    assert message in err.fields[0][1]


def test_create_refuses_a_taken_slug(nova: Database) -> None:
    before = version(nova)
    with pytest.raises(Conflict, match="project 'nova' already exists"), nova.unit_of_work() as uow:
        create_project(uow, make_project_file(summary="Another."), NOW)
    with pytest.raises(Conflict, match="'arbitrum' is already a peer"), nova.unit_of_work() as uow:
        create_project(uow, make_project_file(slug="arbitrum", competitors=[]), NOW)
    assert version(nova) == before
    with nova.unit_of_work() as uow:
        assert uow.projects.get("nova") == project_from_file(make_project_file())


# --- patch -------------------------------------------------------------------------------


def test_patch_merges_validates_and_saves(nova: Database) -> None:
    before = version(nova)
    patch = {"summary": "Now a validium.", "testnet": None, "token": {"symbol": "NOVA"}}
    with nova.unit_of_work() as uow:
        patched = patch_project(uow, "nova", patch, NOW)
    with nova.unit_of_work() as uow:
        assert uow.projects.get("nova") == patched
    assert patched.summary == "Now a validium."
    assert patched.testnet is None
    assert (patched.token.symbol, patched.token.coingecko_id) == ("NOVA", None)
    assert patched.name == "Nova"
    assert version(nova) == before + 1
    assert recorded(nova) == [(None, S.LIKELY)]


@pytest.mark.parametrize("patch", [{}, {"slug": "nova", "name": "Nova"}], ids=["empty", "same"])
def test_a_patch_that_changes_nothing_writes_nothing(nova: Database, patch: Doc) -> None:
    before = version(nova)
    with nova.unit_of_work() as uow:
        unchanged = uow.projects.get("nova")
        assert patch_project(uow, "nova", patch, NOW) == unchanged
    assert version(nova) == before


def test_patch_cannot_change_the_slug(nova: Database) -> None:
    err = invalid(nova, lambda uow: patch_project(uow, "nova", {"slug": "nova-2"}, NOW))
    assert [f for f, _ in err.fields] == ["slug"]
    assert err.message.startswith("slug: cannot be changed")


BAD_PATCHES = [
    pytest.param(
        {
            "scores": [
                {"kind": "tech", "value": "ninety", "label": "x", "cite": make_cite_document()}
            ]
        },
        "scores[0].value",
        "valid number",
        id="wrong-type",
    ),
    pytest.param({"tvl": 5}, "tvl", "Extra inputs are not permitted", id="unknown-key"),
    pytest.param({"name": None}, "name", "Field required", id="required-removed"),
    pytest.param(
        {"funding": [make_project_document()["funding"][0] | {"other_investors": ["a16"]}]},
        "funding[0].other_investors[0]",
        "unknown investor 'a16' (did you mean 'a16z'?)",
        id="unknown-investor",
    ),
    pytest.param(
        {"evidence": [make_evidence_document(cite=make_cite_document(source="blg"))]},
        "evidence[0].cite.source",
        "unknown source 'blg' (did you mean 'blog'?)",
        id="unknown-source",
    ),
]


@pytest.mark.parametrize(("patch", "field", "message"), BAD_PATCHES)
def test_patch_names_the_field_at_fault(
    nova: Database, patch: Doc, field: str, message: str
) -> None:
    err = invalid(nova, lambda uow: patch_project(uow, "nova", patch, NOW))
    assert [f for f, _ in err.fields] == [field]
    assert message in err.fields[0][1]
    assert field in err.message


def test_patch_that_moves_the_status_records_the_change(nova: Database) -> None:
    before = version(nova)
    announcement = make_evidence_document(
        id="announced",
        kind="announcement",
        occurred_on="2024-01-03",
        public_on="2024-01-04",
        cite=make_cite_document(as_of="2024-01-04"),
    )
    patch = {"evidence": [make_evidence_document(), announcement]}
    with nova.unit_of_work() as uow:
        patched = patch_project(uow, "nova", patch, NOW)
        latest = uow.status_changes.latest("nova")
    assert [e.id for e in patched.evidence] == ["points", "announced"]
    assert latest is not None
    assert (latest.old, latest.new, latest.rule) == (S.LIKELY, S.CONFIRMED, "announced")
    assert (latest.effective_on, latest.evidence_ids) == (date(2024, 1, 4), ("announced",))
    assert recorded(nova) == [(None, S.LIKELY), (S.LIKELY, S.CONFIRMED)]
    assert version(nova) == before + 1


def test_patch_of_an_unknown_project_suggests(nova: Database) -> None:
    with pytest.raises(NotFound) as info, nova.unit_of_work() as uow:
        patch_project(uow, "nva", {"summary": "x"}, NOW)
    assert info.value.suggestions == ("nova",)


def test_a_patch_must_be_an_object(nova: Database) -> None:
    err = invalid(nova, lambda uow: patch_project(uow, "nova", ["summary"], NOW))  # type: ignore[arg-type]
    assert "JSON object" in err.message


# --- evidence ----------------------------------------------------------------------------


def test_add_evidence_reclassifies_and_records_the_change(nova: Database) -> None:
    before = version(nova)
    item = make_evidence_in(
        id="announced", kind="announcement", occurred_on=DAY, public_on=DAY, official=True
    )
    with nova.unit_of_work() as uow:
        project, classification, change = add_evidence(uow, "nova", item, NOW)
    with nova.unit_of_work() as uow:
        assert uow.projects.get("nova") == project
    assert [e.id for e in project.evidence] == ["points", "announced"]
    assert (classification.status, classification.rule) == (S.CONFIRMED, "announced")
    assert change is not None
    assert (change.old, change.new, change.recorded_at) == (S.LIKELY, S.CONFIRMED, NOW)
    assert recorded(nova) == [(None, S.LIKELY), (S.LIKELY, S.CONFIRMED)]
    assert version(nova) == before + 1


def test_evidence_that_keeps_the_status_records_no_change(nova: Database) -> None:
    before = version(nova)
    item = make_evidence_in(id="rumour", kind="rumour", official=False)
    with nova.unit_of_work() as uow:
        project, classification, change = add_evidence(uow, "nova", item, NOW)
    assert project.evidence[-1].kind is EvidenceKind.RUMOUR
    assert classification.status is S.LIKELY
    assert change is None
    assert recorded(nova) == [(None, S.LIKELY)]
    assert version(nova) == before + 1


def test_add_evidence_refuses_a_duplicate_id(nova: Database) -> None:
    before = version(nova)
    with pytest.raises(Conflict, match="already has evidence 'points'"), nova.unit_of_work() as uow:
        add_evidence(uow, "nova", make_evidence_in(summary="Again."), NOW)
    assert version(nova) == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param(
            {"cite": make_cite_document(source="artcle")},
            "cite.source",
            "unknown source 'artcle' (did you mean 'article'?)",
            id="source",
        ),
        pytest.param(
            {"public_on": date(2024, 2, 1)}, "public_on", "2024-02-01 is in the future", id="future"
        ),
    ],
)
def test_add_evidence_names_the_field_at_fault(
    nova: Database, overrides: Doc, field: str, message: str
) -> None:
    item = make_evidence_in(id="new", **overrides)
    err = invalid(nova, lambda uow: add_evidence(uow, "nova", item, NOW))
    assert err.fields == ((field, message),)
    with nova.unit_of_work() as uow:
        project = uow.projects.get("nova")
    assert project is not None
    assert [e.id for e in project.evidence] == ["points"]


def test_add_evidence_to_an_unknown_project_suggests(nova: Database) -> None:
    with pytest.raises(NotFound) as info, nova.unit_of_work() as uow:
        add_evidence(uow, "novaa", make_evidence_in(id="x"), NOW)
    assert info.value.suggestions == ("nova",)


# --- merge patch (RFC 7396, appendix A) --------------------------------------------------


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target: Any, patch: Any, result: Any) -> None:
    original = repr(target)
    assert merge_patch(target, patch) == result
    assert repr(target) == original  # the target is not changed
