"""Limits and answers at the edge of the app, through ASGITransport: request bodies over
`http_max_body_bytes` (413 before they are read or parsed, on every path), which paths need
a key (only /v1 and /mcp; an unknown path elsewhere is a 404), the methods a 405 lists, and
trailing-slash redirects that never name the client's Host. The server-level limits
(connections, timeouts, header size, forwarded headers) are in test_serve_limits.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError

from dropscope.config import Settings
from dropscope.services.database import Database
from tests.api.conftest import client_for

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"
LIMIT = 2000


async def test_a_body_over_the_limit_is_refused_before_it_is_parsed(
    shared_loaded: Database,
) -> None:
    not_json = b"{" + b"x" * (LIMIT + 10)  # parsed, it would be a 400
    async with client_for(shared_loaded, http_max_body_bytes=LIMIT) as c:
        for path in ("/v1/projects", "/v1/ask", "/mcp", "/v1/accounts", "/nowhere"):
            r = await c.post(path, content=not_json, headers={"content-type": "application/json"})
            assert r.status_code == 413, (path, r.text)
            assert r.headers["content-type"] == PROBLEM
            assert r.headers["connection"] == "close"
            body = r.json()
            assert body["status"] == 413
            assert body["detail"] == f"the request body exceeds {LIMIT} bytes"
            assert body["instance"] == path
        # without a key too: the body is refused before the gate looks at the key
        r = await c.post("/v1/projects", content=not_json, headers={"authorization": ""})
        assert r.status_code == 413
        # at the limit, the body is read and parsed: the same bad JSON is then a 400
        r = await c.post(
            "/v1/projects", content=not_json[:LIMIT], headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, r.text


async def test_a_chunked_body_is_counted_as_it_streams(shared_loaded: Database) -> None:
    async def chunks(n: int) -> AsyncIterator[bytes]:
        for _ in range(n):
            yield b"x" * 500

    async with client_for(shared_loaded, http_max_body_bytes=LIMIT) as c:
        r = await c.post("/v1/projects", content=chunks(5))  # 2500 bytes, no Content-Length
        assert "content-length" not in r.request.headers
        assert r.status_code == 413
        assert r.headers["content-type"] == PROBLEM
        r = await c.post(
            "/v1/projects", content=chunks(4), headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, r.text  # 2000 bytes: handed on whole, and parsed


async def test_only_v1_and_mcp_need_a_key_and_other_unknown_paths_are_404(
    shared_loaded: Database,
) -> None:
    async with client_for(shared_loaded, scopes=None) as c:
        for path in ("/nope", "/wp-admin/setup.php", "/v1x", "/mcpx", "/projects/x/y/z"):
            r = await c.get(path)
            assert r.status_code == 404, path
            assert r.headers["content-type"] == PROBLEM
            assert r.json()["detail"] == f"no resource at {path}"
            assert "www-authenticate" not in r.headers
        # under /v1 and /mcp, served or not, a key is needed first: nothing tells a caller
        # without one which API routes exist
        for path in ("/v1", "/v1/", "/v1/nope", "/v1/projects", "/mcp", "/mcp/x"):
            r = await c.get(path)
            assert r.status_code == 401, path
            assert r.headers["content-type"] == PROBLEM
        for path in ("/", "/projects/starknet", "/healthz", "/docs"):
            assert (await c.get(path)).status_code == 200, path


async def test_a_405_lists_every_method_the_path_takes(shared_loaded: Database) -> None:
    async with client_for(shared_loaded, scopes=("read", "write", "admin")) as c:
        r = await c.put("/v1/webhooks/wh_nothing")  # three routes: GET, PATCH and DELETE
        assert r.status_code == 405
        assert r.headers["content-type"] == PROBLEM
        assert r.headers["allow"] == "GET, PATCH, DELETE"
        r = await c.delete("/v1/keys")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, POST"
        r = await c.post("/projects/starknet")  # a dashboard page
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, HEAD"


async def test_trailing_slash_redirects_are_relative_whatever_the_host(
    shared_loaded: Database,
) -> None:
    evil = {"host": "evil.example"}
    async with client_for(shared_loaded) as c:
        r = await c.get("/v1/projects/?limit=2", headers=evil)
        assert r.status_code == 307
        assert r.headers["location"] == "/v1/projects?limit=2"
        r = await c.get("/projects/", headers=evil)
        assert r.status_code == 307
        assert r.headers["location"] == "/projects"
        r = await c.get("/history/", headers=evil)
        assert r.headers["location"] == "/history"
        followed = await c.get("/v1/projects/?limit=2", follow_redirects=True)
        assert followed.status_code == 200
        assert len(followed.json()["data"]) == 2
        # no route at either spelling: a 404, no redirect; never a //host Location
        for path in ("/nothing/", "//evil.example/", "//evil.example"):
            r = await c.get(f"http://test{path}", headers=evil)
            assert r.request.url.path == path
            assert r.status_code == 404, path
            assert "location" not in r.headers


def test_forwarded_allow_ips_takes_addresses_and_networks_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DROPSCOPE_FORWARDED_ALLOW_IPS", raising=False)
    assert Settings().forwarded_allow_ips == ""  # the default: no proxy believed
    given = Settings(forwarded_allow_ips=" 127.0.0.1, 10.1.2.3/8,::1 ")
    assert given.forwarded_allow_ips == "127.0.0.1,10.0.0.0/8,::1"  # as uvicorn reads them
    assert Settings(forwarded_allow_ips="*").forwarded_allow_ips == "*"
    for wrong in ("proxy.local", "127.0.0.1,*", "10.0.0.0/33"):
        with pytest.raises(ValidationError, match="forwarded_allow_ips"):
            Settings(forwarded_allow_ips=wrong)
