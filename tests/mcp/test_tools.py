"""Every tool and the project resource through a real MCP client session in process: over the
SDK's in-memory streams (JSON-RPC framing, initialize handshake) and over its direct
dispatcher (the 2026 per-request protocol), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.server.mcpserver import MCPServer
from mcp.types import ResourceTemplateReference

pytestmark = pytest.mark.anyio


TOOLS = {
    "search_projects",
    "get_project",
    "list_airdrops",
    "compare_projects",
    "past_airdrops",
    "resolve",
    "search",
    "fetch",
    "ask",
}


@pytest.fixture(params=["legacy", "auto"])
async def client(server: MCPServer, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    async with Client(server, mode=request.param) as c:
        yield c


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The tool's structured result, checked against its JSON text."""
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content
    structured = result.structured_content
    assert isinstance(structured, dict)
    text = result.content[0].text  # type: ignore[union-attr]
    assert json.loads(text) == structured
    assert "\n" not in text  # compact: fewer tokens for the agent
    return structured


async def failure(client: Client, name: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text
    return text


async def test_every_tool_is_listed_read_only_with_a_description_and_schema(client):
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for t in tools.values():
        assert len(t.description or "") > 80, t.name
        assert t.annotations is not None, t.name
        assert t.annotations.read_only_hint, t.name
        assert t.input_schema["type"] == "object"
        assert t.output_schema is not None, t.name
        for name, prop in t.input_schema["properties"].items():
            assert prop.get("description"), (t.name, name)
    assert tools["get_project"].input_schema["required"] == ["project"]
    status = tools["list_airdrops"].input_schema["properties"]["status"]
    assert "confirmed" in json.dumps(status)


async def test_list_airdrops_is_the_board_of_upcoming_airdrops(client):
    board = await call(client, "list_airdrops", {})
    assert board["as_of"] == "2026-11-27"
    statuses = {p["status"] for p in board["projects"]}
    assert statuses <= {"possible", "likely", "confirmed", "snapshot_taken", "claimable"}
    assert all(p["listed"] for p in board["projects"])
    confirmed = await call(
        client, "list_airdrops", {"status": ["confirmed"], "sort": ["-tech", "name"]}
    )
    names = [p["slug"] for p in confirmed["projects"]]
    assert names[:3] == ["taiko", "peaq", "dymension"]
    assert confirmed["projects"][0]["tech_score"] == 90
    assert confirmed["projects"][0]["uri"] == "project://taiko"


async def test_list_airdrops_as_of_an_earlier_date(client):
    then = await call(client, "list_airdrops", {"as_of": "2023-12-15", "status": ["distributed"]})
    now = await call(client, "list_airdrops", {"status": ["distributed"]})
    assert then["as_of"] == "2023-12-15"
    assert then["count"] < now["count"]


async def test_search_projects_covers_every_project_with_filters(client):
    found = await call(client, "search_projects", {"investor": "paradigm", "limit": 50})
    assert found["count"] >= 1
    assert all("paradigm" in p["investors"] for p in found["projects"])
    high = await call(client, "search_projects", {"min_tech": 88, "sort": ["-tech"]})
    assert all(p["tech_score"] >= 88 for p in high["projects"])
    every = await call(client, "search_projects", {"limit": 100})
    assert every["count"] == 16
    assert "distributed" in {p["status"] for p in every["projects"]}  # not only upcoming
    text = await call(client, "search_projects", {"text": "Move VM"})
    assert [p["slug"] for p in text["projects"]] == ["movement"]


async def test_get_project_is_the_sourced_profile(client):
    p = await call(client, "get_project", {"project": "Star Knet"})
    assert p["slug"] == "starknet"
    assert p["evidence"]
    assert p["funding_rounds"]
    assert p["scores"]
    cited = {e["cite"]["source"] for e in p["evidence"]}
    assert cited <= set(p["sources"])
    assert all(s["title"] for s in p["sources"].values())
    assert p["status_history"][-1]["new"] == p["status"]


async def test_compare_projects_in_the_order_given(client):
    c = await call(client, "compare_projects", {"projects": ["scroll", "taiko", "linea"]})
    assert [p["slug"] for p in c["projects"]] == ["scroll", "taiko", "linea"]


async def test_past_airdrops_with_their_figures(client):
    every = await call(client, "past_airdrops", {})
    assert every["count"] == 8
    arb = await call(client, "past_airdrops", {"name": "ARB"})
    assert [a["slug"] for a in arb["airdrops"]] == ["arbitrum"]
    recipients = [f for f in arb["airdrops"][0]["figures"] if f["metric"] == "recipients"]
    assert recipients[0]["value"] == 625143
    assert recipients[0]["cite"]["source"] in arb["sources"]
    by_project = await call(client, "past_airdrops", {"name": "starknet"})
    assert [a["slug"] for a in by_project["airdrops"]] == ["starknet-1"]


async def test_resolve_hits_and_misses(client):
    hit = await call(client, "resolve", {"name": "zkSync"})
    assert hit["found"]
    assert {"kind": "project", "slug": "zksync"} in [
        {"kind": m["kind"], "slug": m["slug"]} for m in hit["matches"]
    ]
    investor = await call(client, "resolve", {"name": "Paradigm"})
    assert investor["matches"][0]["kind"] == "investor"
    assert investor["matches"][0]["uri"] is None
    miss = await call(client, "resolve", {"name": "Starkwere"})
    assert not miss["found"]
    assert miss["matches"] == []
    assert miss["suggestions"][0]["slug"] == "starknet"
    nothing = await call(client, "resolve", {"name": "qqqqqqqq"})
    assert nothing == {"query": "qqqqqqqq", "found": False, "matches": [], "suggestions": []}


async def test_search_fetch_and_ask(client):
    hits = await call(client, "search", {"query": "Movement investors", "limit": 3})
    assert 1 <= len(hits["results"]) <= 3
    assert set(hits["results"][0]) == {"id", "title", "text", "url"}
    assert any("movement" in h["id"] for h in hits["results"])
    doc = await call(client, "fetch", {"id": hits["results"][0]["id"]})
    assert doc["id"] == hits["results"][0]["id"]
    assert hits["results"][0]["text"].split("\n")[0][:40] in doc["text"]
    answer = await call(
        client, "ask", {"question": "Which confirmed airdrops have the highest tech score?"}
    )
    assert "Taiko" in answer["answer"]
    assert "[1]" in answer["answer"]
    assert answer["citations"][0]["id"] == "project://taiko"
    assert "financial advice" in answer["answer"].lower()


async def test_errors_of_ours_are_tool_errors_an_agent_can_act_on(client):
    text = await failure(client, "get_project", {"project": "starknt"})
    assert "not found: no project 'starknt'" in text
    assert "did you mean starknet" in text
    text = await failure(client, "compare_projects", {"projects": ["taiko", "Taiko"]})
    assert "invalid input: compare needs distinct projects" in text
    text = await failure(client, "fetch", {"id": "note://nothing-here"})
    assert "not found" in text
    text = await failure(client, "ask", {"question": "   "})
    assert "invalid input" in text


async def test_bad_arguments_are_refused_by_the_schema(client):
    await failure(client, "list_airdrops", {"status": ["soon"]})
    await failure(client, "search_projects", {"sort": ["price"]})
    await failure(client, "compare_projects", {"projects": ["taiko"]})
    await failure(client, "search_projects", {"limit": 0})


async def test_project_resource(client):
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["project://{slug}"]
    listed = (await client.list_resources()).resources
    assert len(listed) == 16
    taiko = next(r for r in listed if str(r.uri) == "project://taiko")
    assert taiko.title == "Taiko"
    assert taiko.mime_type == "application/json"
    read = await client.read_resource("project://taiko")
    body = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert body["slug"] == "taiko"
    assert body["status"] == "confirmed"
    assert read.contents[0].mime_type == "application/json"
    with pytest.raises(MCPError, match="not found: no project 'tayko'"):
        await client.read_resource("project://tayko")


async def test_project_slugs_complete(client):
    ref = ResourceTemplateReference(type="ref/resource", uri="project://{slug}")
    done = await client.complete(ref, {"name": "slug", "value": "z"})
    assert done.completion.values == ["zetachain", "zksync", "aztec", "layerzero"]  # prefix first
    assert done.completion.total == 4
    none = await client.complete(ref, {"name": "slug", "value": "qqq"})
    assert none.completion.values == []
