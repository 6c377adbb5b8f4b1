"""`/mcp` in the API app: an MCP client session over streamable HTTP (the SDK's client on
an httpx2 ASGI transport, the app's lifespan running), behind the API keys, scopes and rate
limits; the /v1 routes beside it unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from dropscope.api.app import create_app
from dropscope.domain.access import DEFAULT_PLANS, Plan, Scope
from dropscope.services.database import Database
from dropscope.services.keys import Actor, KeySpec, keys_service
from tests.mcp.conftest import NOW, settings_for

pytestmark = pytest.mark.anyio

TINY = Plan("tiny", per_minute=3, per_month=1000)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"accept": "application/json, text/event-stream"}


def key_for(db: Database, tmp: Path, scopes: tuple[str, ...], plan: str = "platinum") -> str:
    service = keys_service(settings_for(db, tmp, plans=(*DEFAULT_PLANS, TINY)), db)
    spec = KeySpec(name="mcp", scopes=frozenset(Scope(s) for s in scopes), plan=plan)
    return service.create(Actor.local(), spec, NOW).secret


@asynccontextmanager
async def running_app(db: Database, tmp: Path) -> AsyncIterator[FastAPI]:
    settings = settings_for(db, tmp, plans=(*DEFAULT_PLANS, TINY))
    app = create_app(settings, database=db, clock=lambda: NOW)
    async with app.router.lifespan_context(app):
        yield app


def http(app: FastAPI, key: str | None = None) -> httpx2.AsyncClient:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://test", headers=headers
    )


async def test_a_session_over_http_with_a_read_key(loaded_db: Database, tmp_path: Path):
    key = key_for(loaded_db, tmp_path, ("read",))
    async with (
        running_app(loaded_db, tmp_path) as app,
        http(app, key) as raw,
        Client(streamable_http_client("http://test/mcp", http_client=raw)) as client,
    ):
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"list_airdrops", "resolve", "ask", "search", "fetch"} <= tools
        board = await client.call_tool("list_airdrops", {"status": ["confirmed"]})
        assert not board.is_error
        assert board.structured_content is not None
        assert "taiko" in {p["slug"] for p in board.structured_content["projects"]}
        missing = await client.call_tool("get_project", {"project": "nope-nope"})
        assert missing.is_error
        read = await client.read_resource("project://linea")
        assert '"slug": "linea"' in read.contents[0].text  # type: ignore[union-attr]
        # the REST API beside it is untouched
        rest = await raw.get("/v1/projects/linea")
        assert rest.status_code == 200
        assert rest.json()["slug"] == "linea"


async def test_without_a_key_401_and_without_the_read_scope_403(
    loaded_db: Database, tmp_path: Path
):
    write_only = key_for(loaded_db, tmp_path, ("write",))
    async with running_app(loaded_db, tmp_path) as app:
        async with http(app) as anonymous:
            r = await anonymous.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
            assert r.status_code == 401
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert (await anonymous.get("/mcp")).status_code == 401
        async with http(app, "dsk_not_a_real_key") as bad:
            r = await bad.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
            assert r.status_code == 401
        async with http(app, write_only) as writer:
            r = await writer.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
            assert r.status_code == 403
            assert "'read' scope" in r.json()["detail"]


async def test_mcp_requests_count_against_the_keys_rate_limit(loaded_db: Database, tmp_path: Path):
    key = key_for(loaded_db, tmp_path, ("read",), plan=TINY.name)
    async with running_app(loaded_db, tmp_path) as app, http(app, key) as raw:
        first = await raw.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        assert first.status_code == 200
        assert first.json()["result"]["serverInfo"]["name"] == "dropscope"
        assert "ratelimit" in first.headers
        assert (await raw.get("/v1/airdrops")).status_code == 200  # one plan for both
        assert (await raw.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)).status_code == 200
        limited = await raw.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        assert limited.status_code == 429
        assert "retry-after" in limited.headers


async def test_one_json_rpc_call_without_a_session_as_curl_sends_it(
    loaded_db: Database, tmp_path: Path
):
    key = key_for(loaded_db, tmp_path, ("read",))
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "resolve", "arguments": {"name": "Star Knet"}},
    }
    async with running_app(loaded_db, tmp_path) as app, http(app, key) as raw:
        r = await raw.post("/mcp", json=call, headers=MCP_HEADERS)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["id"] == 7
        assert body["result"]["structuredContent"]["matches"][0]["slug"] == "starknet"


async def test_only_post_and_bad_bodies_are_client_errors(loaded_db: Database, tmp_path: Path):
    key = key_for(loaded_db, tmp_path, ("read",))
    async with running_app(loaded_db, tmp_path) as app, http(app, key) as raw:
        for method in ("GET", "DELETE", "PUT"):  # stateless: no stream to open, no session
            r = await raw.request(method, "/mcp", headers=MCP_HEADERS)
            assert r.status_code == 405, method
            assert r.headers["allow"] == "POST"
            assert r.headers["content-type"] == "application/problem+json"
        as_json = {**MCP_HEADERS, "content-type": "application/json"}
        r = await raw.post("/mcp", content=b"{not json", headers=as_json)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == -32700
        r = await raw.post(
            "/mcp", content=b"[" + b" " * (5 * 1024 * 1024) + b"]", headers=MCP_HEADERS
        )
        assert r.status_code == 413
        # one message per request, so one tool call per rate-limit hit: batches are refused
        call = {"method": "tools/call", "params": {"name": "resolve", "arguments": {"name": "x"}}}
        batch = [{"jsonrpc": "2.0", "id": i, **call} for i in (1, 2)]
        r = await raw.post("/mcp", json=batch, headers=MCP_HEADERS)
        assert r.status_code == 400
        unknown = {"jsonrpc": "2.0", "id": 3, "method": "no/such"}
        r = await raw.post("/mcp", json=unknown, headers=MCP_HEADERS)
        assert r.json()["error"]["code"] == -32601
