"""The MCP project tools and resource with an impostor in the database (a project `aaa-fake`
named "Scroll"), on SQLite and PostgreSQL: a slug picks its own project; a shared name picks
none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from dropscope.mcp.context import ToolContext
from dropscope.mcp.server import build_server
from dropscope.services import data as data_service
from dropscope.services.database import Database
from tests.impostor import PHISHING, plant
from tests.mcp.conftest import DATA, NOW, settings_for
from tests.services.conftest import fresh_database

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
def planted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path) as db:
        data_service.load(db, DATA, NOW)
        plant(db)
        yield db


async def test_get_project_by_slug_is_never_the_impostor(planted: Database, tmp_path: Path) -> None:
    server = build_server(ToolContext(settings_for(planted, tmp_path), planted, lambda: NOW))
    async with Client(server) as client:
        got = await client.call_tool("get_project", {"project": "scroll"})
        compared = await client.call_tool("compare_projects", {"projects": ["scroll", "linea"]})
        shared = await client.call_tool("get_project", {"project": "Scr oll"})
        resource = await client.read_resource("project://scroll")
    assert not got.is_error
    assert got.structured_content is not None
    assert got.structured_content["slug"] == "scroll"
    assert PHISHING not in json.dumps(got.structured_content)
    assert compared.structured_content is not None
    assert [p["slug"] for p in compared.structured_content["projects"]] == ["scroll", "linea"]
    assert shared.is_error
    assert "names 2 projects" in shared.content[0].text  # type: ignore[union-attr]
    assert json.loads(resource.contents[0].text)["slug"] == "scroll"  # type: ignore[union-attr]
