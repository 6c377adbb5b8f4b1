"""Benchmark: what the MCP server costs, and that mounting it at /mcp costs /v1 nothing.

In one process, driving the ASGI app of `create_app` directly (no HTTP server, no sockets),
on a fresh SQLite database loaded with the curated data; each pair measured alternately, call
by call, median of 5 runs:

- **/v1 with and without /mcp**: `GET /v1/projects/starknet` (cached, the cheapest real
  request) through the app as built (with the /mcp route and the MCP session manager running
  in the lifespan) and through the same app with the /mcp route removed. Target: the ratio
  within noise, ≤ 1.05.
- **an MCP tool call over HTTP**: `POST /mcp` with one JSON-RPC `tools/call` of
  `get_project {"project": "starknet"}` (auth, rate limit, the SDK's streamable-HTTP
  transport, validation, the service, JSON), against the REST profile of the same project
  uncached (`GET /v1/projects/starknet?as_of=…` with a new date each time, so the response
  cache never answers): the price of the protocol over the same service call.
- **in process**: the same tool call through an in-memory MCP client session, against the
  bare service call (`research.profile` plus the output shape).

Run: `.venv/bin/python bench/bench_mcp.py`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mcp import Client  # noqa: E402

from dropscope.api.app import create_app  # noqa: E402
from dropscope.config import Settings  # noqa: E402
from dropscope.domain.access import Plan, Scope  # noqa: E402
from dropscope.mcp.context import ToolContext  # noqa: E402
from dropscope.mcp.server import build_server  # noqa: E402
from dropscope.mcp.shapes import ProjectProfile  # noqa: E402
from dropscope.services import data as data_service  # noqa: E402
from dropscope.services import research  # noqa: E402
from dropscope.services.database import Database  # noqa: E402
from dropscope.services.keys import Actor, KeySpec, keys_service  # noqa: E402

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PEPPER = "bench-pepper-0123456789abcdef"
RUNS = 5
CALL = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get_project", "arguments": {"project": "starknet"}},
    }
).encode()


def scope_for(method: str, path: str, query: str, key: str) -> dict[str, Any]:
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode())]
    if method == "POST":
        headers += [
            (b"content-type", b"application/json"),
            (b"accept", b"application/json, text/event-stream"),
            (b"content-length", str(len(CALL)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("bench", 80),
    }


async def request(app: Any, scope: dict[str, Any], body: bytes = b"") -> tuple[int, bytes]:
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client never disconnects mid-request here
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def paired(
    one: Callable[[int], Awaitable[None]], other: Callable[[int], Awaitable[None]], n: int
) -> tuple[float, float]:
    """µs per call of each, called alternately (one, other, one, …) so that drift in the
    machine's load hits both alike; the median of RUNS runs of `n` pairs."""
    await one(0)
    await other(0)
    a, b = [], []
    clock = time.perf_counter
    for _ in range(RUNS):
        ta = tb = 0.0
        for i in range(n):
            t0 = clock()
            await one(i)
            t1 = clock()
            await other(i)
            ta += t1 - t0
            tb += clock() - t1
        a.append(ta / n * 1e6)
        b.append(tb / n * 1e6)
    return statistics.median(a), statistics.median(b)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.ensure_schema()
        data_service.load(db, ROOT / "data", NOW)
        plans = (Plan("bench", per_minute=10**9, per_month=10**12),)
        settings = Settings(
            database_url=db.url,
            data_dir=ROOT / "data",
            key_pepper=PEPPER,  # type: ignore[arg-type]
            plans=plans,
            assistant_dense=False,
            assistant_generator="extractive",
        )
        spec = KeySpec(name="bench", scopes=frozenset({Scope.READ}), plan="bench")
        key = keys_service(settings, db).create(Actor.local(), spec, NOW).secret

        with_mcp = create_app(settings, database=db, clock=lambda: NOW)
        without = create_app(settings, database=db, clock=lambda: NOW)
        without.router.routes = [
            r for r in without.router.routes if getattr(r, "path", None) != "/mcp"
        ]
        profile = scope_for("GET", "/v1/projects/starknet", "", key)
        post = scope_for("POST", "/mcp", "", key)
        days = [(date(2000, 1, 1) + timedelta(days=i)).isoformat() for i in range(9000)]

        async with (
            with_mcp.router.lifespan_context(with_mcp),
            without.router.lifespan_context(without),
        ):
            status, body = await request(with_mcp, post, CALL)
            assert status == 200, body
            assert json.loads(body)["result"]["structuredContent"]["slug"] == "starknet"

            async def v1_with(_: int) -> None:
                assert (await request(with_mcp, profile))[0] == 200

            async def v1_without(_: int) -> None:
                assert (await request(without, profile))[0] == 200

            async def mcp_http(_: int) -> None:
                assert (await request(with_mcp, post, CALL))[0] == 200

            fresh = iter(days)  # a date not asked before: the response cache cannot answer

            async def rest_uncached(_: int) -> None:
                q = scope_for("GET", "/v1/projects/starknet", f"as_of={next(fresh)}", key)
                assert (await request(with_mcp, q))[0] == 200

            us_with, us_without = await paired(v1_with, v1_without, 3000)
            us_mcp, us_rest = await paired(mcp_http, rest_uncached, 100)

        ctx = ToolContext(settings, db, lambda: NOW)

        def direct() -> None:
            with db.unit_of_work(read_only=True) as uow:
                found = research.profile(uow, "starknet", NOW.date(), ctx.params)
            ProjectProfile.of_profile(found).model_dump_json()

        async def service(_: int) -> None:
            direct()

        async with Client(build_server(ctx)) as client:

            async def in_memory(_: int) -> None:
                result = await client.call_tool("get_project", {"project": "starknet"})
                assert not result.is_error

            us_mem, us_direct = await paired(in_memory, service, 100)
        db.close()

    print(f"{'measure':<44}{'µs/call':>10}{'ratio':>9}")
    print(f"{'GET /v1/projects/starknet, /mcp mounted':<44}{us_with:>10.1f}")
    print(f"{'GET /v1/projects/starknet, /mcp removed':<44}{us_without:>10.1f}")
    print(f"{'  mounted ÷ removed (target ≤ 1.05)':<44}{'':>10}{us_with / us_without:>9.3f}")
    print(f"{'POST /mcp tools/call get_project':<44}{us_mcp:>10.1f}")
    print(f"{'GET /v1/projects/starknet uncached':<44}{us_rest:>10.1f}")
    print(f"{'  MCP over HTTP ÷ REST uncached':<44}{'':>10}{us_mcp / us_rest:>9.3f}")
    print(f"{'in-memory MCP session get_project':<44}{us_mem:>10.1f}")
    print(f"{'service call + output shape':<44}{us_direct:>10.1f}")
    print(f"{'  MCP in memory ÷ service':<44}{'':>10}{us_mem / us_direct:>9.3f}")


if __name__ == "__main__":
    asyncio.run(main())
