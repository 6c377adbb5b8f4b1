"""`dropscope mcp` as a desktop client runs it: a subprocess spoken to over stdio by the
SDK's stdio client, configured only through the environment."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from dropscope.services.database import Database
from tests.mcp.conftest import DATA

pytestmark = pytest.mark.anyio

DROPSCOPE = str(Path(sys.executable).with_name("dropscope"))


def params(database_url: str, tmp: Path) -> StdioServerParameters:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "DROPSCOPE_DATABASE_URL": database_url,
        "DROPSCOPE_DATA_DIR": str(DATA),
        "DROPSCOPE_ASSISTANT_GENERATOR": "extractive",
        "DROPSCOPE_ASSISTANT_DENSE": "false",
        "DROPSCOPE_ASSISTANT_CACHE_DIR": str(tmp / "cache"),
    }
    return StdioServerParameters(command=DROPSCOPE, args=["mcp"], env=env, cwd=str(tmp))


async def test_tools_and_resources_over_stdio(loaded_db: Database, tmp_path: Path):
    async with Client(params(loaded_db.url, tmp_path), mode="legacy") as client:
        assert client.server_info is not None
        assert client.server_info.name == "dropscope"
        assert "resolve" in (client.instructions or "")
        hit = await client.call_tool("resolve", {"name": "zk sync"})
        assert hit.structured_content is not None
        assert hit.structured_content["matches"][0]["slug"] == "zksync"
        answer = await client.call_tool("ask", {"question": "Who invested in Movement?"})
        assert not answer.is_error
        assert answer.structured_content is not None
        assert answer.structured_content["citations"]
        error = await client.call_tool("compare_projects", {"projects": ["taiko", "nope-x"]})
        assert error.is_error
        read = await client.read_resource("project://scroll")
        assert json.loads(read.contents[0].text)["name"] == "Scroll"  # type: ignore[union-attr]


async def test_an_empty_database_is_loaded_first_and_stdout_stays_protocol(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    async with Client(params(url, tmp_path)) as client:  # auto: probes, then falls back
        board = await client.call_tool("list_airdrops", {"limit": 3})
        assert not board.is_error
        assert board.structured_content is not None
        assert board.structured_content["count"] == 3
