"""Project names over HTTP (SQLite and PostgreSQL): a new project cannot take over another's
slug, name or alias; a slug always serves its own project; no control or format character
in a name."""

from __future__ import annotations

from typing import Any

import pytest

from dropscope.services.database import Database
from tests.api.conftest import client_for
from tests.impostor import PHISHING, impostor, plant

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"
MERGE = {"content-type": "application/merge-patch+json"}


async def test_the_impostor_is_refused_and_scroll_stays_scroll(loaded: Database) -> None:
    async with client_for(loaded) as c:
        r = await c.post("/v1/projects", json=impostor())
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == PROBLEM
        assert "name: 'Scroll' is already the slug of project 'scroll'" in r.json()["detail"]
        assert (await c.get("/v1/projects/aaa-fake")).status_code == 404
        profile = (await c.get("/v1/projects/scroll")).json()
        compared = (await c.get("/v1/compare", params={"slugs": "scroll,linea"})).json()
    assert profile["slug"] == "scroll"
    assert PHISHING not in str(profile)
    assert [p["slug"] for p in compared["data"]] == ["scroll", "linea"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "S-C-R-O-L-L"}, "name"),  # another's slug and name, normalised
        ({"name": "Aaa Fake", "aliases": ["Tyco"]}, "aliases[0]"),  # taiko's alias
        ({"slug": "tyco", "name": "Tyco Chain"}, "slug"),  # a slug that is taiko's alias
        ({"name": "Aaa Fake", "aliases": ["zkSync"]}, "aliases[0]"),
    ],
    ids=["name-is-a-slug", "alias-is-an-alias", "slug-is-an-alias", "alias-is-a-name"],
)
async def test_a_name_another_project_answers_to_is_a_conflict(
    loaded: Database, change: dict[str, Any], field: str
) -> None:
    async with client_for(loaded) as c:
        r = await c.post("/v1/projects", json=impostor(**change))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == PROBLEM
    assert f"{field}: " in r.json()["detail"]


async def test_a_patch_cannot_take_another_projects_name(loaded: Database) -> None:
    async with client_for(loaded) as c:
        renamed = await c.patch("/v1/projects/linea", json={"name": "Scroll"}, headers=MERGE)
        aliased = await c.patch("/v1/projects/linea", json={"aliases": ["Taiko"]}, headers=MERGE)
        own = await c.patch(
            "/v1/projects/linea", json={"aliases": ["Linea Mainnet"]}, headers=MERGE
        )
        profile = (await c.get("/v1/projects/linea")).json()
    assert renamed.status_code == aliased.status_code == 409
    assert "name: 'Scroll' is already the slug of project 'scroll'" in renamed.json()["detail"]
    assert own.status_code == 200, own.text
    assert profile["name"] == "Linea"


async def test_a_planted_impostor_cannot_answer_for_scroll(loaded: Database) -> None:
    """A database that already holds the impostor (written before names were checked)."""
    plant(loaded)
    async with client_for(loaded) as c:
        profile = (await c.get("/v1/projects/scroll")).json()
        evidence = (await c.get("/v1/projects/scroll/evidence")).json()
        history = (await c.get("/v1/projects/scroll/status-history")).json()
        compared = (await c.get("/v1/compare", params={"slugs": "scroll,aaa-fake"})).json()
        fake = (await c.get("/v1/projects/aaa-fake")).json()
        # the impostor can still be corrected; it may not take a further name
        fixed = await c.patch("/v1/projects/aaa-fake", json={"summary": "Fake."}, headers=MERGE)
        worse = await c.patch("/v1/projects/aaa-fake", json={"aliases": ["Linea"]}, headers=MERGE)
    assert (profile["slug"], profile["name"]) == ("scroll", "Scroll")
    assert PHISHING not in str(profile) + str(evidence)
    assert evidence["project"] == history["project"] == "scroll"
    assert [p["slug"] for p in compared["data"]] == ["scroll", "aaa-fake"]
    assert fake["slug"] == "aaa-fake"
    assert fixed.status_code == 200, fixed.text
    assert worse.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Scroll\u202e"}, "name"),  # RIGHT-TO-LEFT OVERRIDE
        ({"name": "Scr\u200boll"}, "name"),  # ZERO WIDTH SPACE
        ({"name": "New\u0085Chain"}, "name"),  # NEXT LINE, a C1 control
        ({"name": "\ufeffNew Chain"}, "name"),  # BYTE ORDER MARK
        ({"name": "New\tChain"}, "name"),
        ({"name": "New Chain", "aliases": ["ok", "\u2066Scroll\u2069"]}, "aliases.1"),
    ],
    ids=["rlo", "zwsp", "nel", "bom", "tab", "alias-isolate"],
)
async def test_control_and_format_characters_in_names_are_refused(
    loaded: Database, change: dict[str, Any], field: str
) -> None:
    async with client_for(loaded) as c:
        r = await c.post("/v1/projects", json=impostor(slug="newchain", **change))
        patched = await c.patch("/v1/projects/linea", json=change, headers=MERGE)
        assert (await c.get("/v1/projects/newchain")).status_code == 404
    assert r.status_code == patched.status_code == 400, r.text + patched.text
    assert r.headers["content-type"] == patched.headers["content-type"] == PROBLEM
    created = {".".join(e["loc"]): e["msg"] for e in r.json()["errors"]}
    assert "control or format character" in created[f"body.{field}"]
    detail = patched.json()["detail"]
    assert f"{field.replace('.1', '[1]')}: Value error, contains a control or format" in detail
