"""The middleware: headers on every limited response, 429 and 503 problem+json, exempt
paths; alone (a tiny ASGI app with a fixed caller, standing in for the auth middleware) and
wired into the real app by `create_app`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from dropscope.api.app import create_app
from dropscope.api.middleware import ConditionalGet
from dropscope.api.ratelimit import RateLimit, is_exempt
from dropscope.domain.access import DEFAULT_PLANS, Caller, Plan
from dropscope.domain.access import Scope as Permission
from dropscope.domain.ratelimit import seconds_to_month_end
from dropscope.services.database import Database
from dropscope.services.keys import Actor, KeySpec, keys_service
from dropscope.services.ratelimit import InProcessLimiter, Limiter, RedisLimiter
from tests.api.conftest import NOW, settings_for
from tests.ratelimit.conftest import Clock, unique_prefix
from tests.services.conftest import fresh_database

pytestmark = pytest.mark.anyio
PLAN = Plan("tiny", per_minute=3, per_month=100)
CALLER = Caller("key_1", "acct_1", frozenset({Permission.READ}), PLAN)
PROBLEM = "application/problem+json"
SF_LIST = re.compile(r'^"[a-z]+"(;[a-z]+=\d+)+(, "[a-z]+"(;[a-z]+=\d+)+)*$')


class AsCaller:
    """Stands in for the auth middleware: puts CALLER in the scope unless the request says
    `x-anonymous: 1`."""

    def __init__(self, app: ASGIApp, caller: Caller = CALLER) -> None:
        self.app, self.caller = app, caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"x-anonymous", b"1") not in scope["headers"]:
            scope.setdefault("state", {})["caller"] = self.caller
        await self.app(scope, receive, send)


async def tiny(scope: Scope, receive: Receive, send: Send) -> None:
    """200 JSON on any path but /missing (404)."""
    status = 404 if scope["path"] == "/missing" else 200
    body = b'{"ok":true}'
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def tiny_app(limiter: Limiter, clock: Clock) -> ASGIApp:
    return AsCaller(RateLimit(ConditionalGet(tiny), limiter=limiter, clock=clock))


async def test_headers_on_every_limited_response_then_429(clock: Clock) -> None:
    async with client(tiny_app(InProcessLimiter(), clock)) as c:
        ok = await c.get("/v1/things")
        assert ok.status_code == 200
        assert ok.headers["ratelimit-policy"] == '"minute";q=3;w=60, "month";q=100;w=2592000'
        assert ok.headers["ratelimit"] == '"minute";r=2;t=60'
        clock.advance(seconds=15)
        etag = ok.headers["etag"]
        cached = await c.get("/v1/things", headers={"if-none-match": etag})
        assert cached.status_code == 304
        assert cached.headers["ratelimit"] == '"minute";r=1;t=45'
        missing = await c.get("/missing")
        assert missing.status_code == 404
        assert missing.headers["ratelimit"] == '"minute";r=0;t=45'
        clock.advance(seconds=4.5)
        refused = await c.get("/v1/things")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    assert refused.headers["retry-after"] == "41"  # 40.5 s until the first one leaves: 41
    assert refused.headers["ratelimit"] == '"minute";r=0;t=41'
    assert SF_LIST.match(refused.headers["ratelimit-policy"])
    body = refused.json()
    assert body["status"] == 429
    assert body["violated-policies"] == ["minute"]
    assert body["type"].endswith("/rate-limited")
    assert body["instance"] == "/v1/things"
    assert "3 requests per minute" in body["detail"]


def caller_with(plan: Plan) -> Caller:
    return Caller("key_2", "acct_1", frozenset({Permission.READ}), plan)


async def test_monthly_quota_through_the_middleware_rolls_over(clock: Clock) -> None:
    plan = Plan("monthly", per_minute=100, per_month=1)
    clock.now = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    app = AsCaller(RateLimit(tiny, limiter=InProcessLimiter(), clock=clock), caller_with(plan))
    async with client(app) as c:
        assert (await c.get("/v1/things")).status_code == 200
        refused = await c.get("/v1/things")
        assert refused.status_code == 429
        assert refused.json()["violated-policies"] == ["month"]
        assert refused.headers["retry-after"] == "1"
        clock.now = datetime(2027, 1, 1, tzinfo=UTC)
        fresh = await c.get("/v1/things")
    assert fresh.status_code == 200
    assert fresh.headers["ratelimit"] == f'"month";r=0;t={seconds_to_month_end(clock.now)}'


async def test_no_caller_and_exempt_paths_are_not_limited(clock: Clock) -> None:
    limiter = InProcessLimiter()
    async with client(tiny_app(limiter, clock)) as c:
        for path in ("/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/v1/openapi.json"):
            r = await c.get(path)
            assert (r.status_code, r.headers.get("ratelimit")) == (200, None), path
        anon = await c.get("/v1/things", headers={"x-anonymous": "1"})
        assert anon.status_code == 200
        assert "ratelimit-policy" not in anon.headers
    seen = await limiter.peek(CALLER.key_id, PLAN, clock())
    assert seen.states[0].used == 0
    assert not is_exempt("/docsx")
    assert not is_exempt("/v1/projects")


async def test_redis_down_answers_503_problem(clock: Clock) -> None:
    down = RedisLimiter.from_url("redis://127.0.0.1:1/0", prefix=unique_prefix())
    try:
        async with client(tiny_app(down, clock)) as c:
            r = await c.get("/v1/things")
            health = await c.get("/healthz")
    finally:
        await down.aclose()
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/storage-unavailable")
    assert "127.0.0.1:1" not in r.text  # no infrastructure detail leaks
    assert health.status_code == 200  # health stays up: it is not limited


# ---- wired into the real app, behind the real auth middleware --------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with fresh_database("sqlite", tmp_path) as database:
        yield database


@asynccontextmanager
async def real_client(
    db: Database, clock: Clock, **settings: object
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The app of `create_app` on `clock` and a client with a key on the "tiny" plan."""
    plans = (PLAN, *DEFAULT_PLANS)
    key = keys_service(settings_for(db, plans=plans), db).create(
        Actor.local(), KeySpec(name="ratelimit", plan=PLAN.name), NOW
    )
    app = create_app(
        settings_for(db, plans=plans, **settings),
        database=db,
        clock=clock,
    )
    headers = {"authorization": f"Bearer {key.secret}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
        ) as c,
    ):
        yield c, app


async def test_create_app_limits_a_caller(db: Database, clock: Clock) -> None:
    async with real_client(db, clock) as (real, _):
        first = await real.get("/v1/projects")
        assert first.status_code == 200
        assert first.headers["ratelimit"] == '"minute";r=2;t=60'
        assert "x-request-id" in first.headers
        clock.advance(seconds=1)
        etag = first.headers["etag"]
        again = await real.get("/v1/projects", headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.headers["ratelimit"] == '"minute";r=1;t=59'
        bad = await real.get("/v1/projects", params={"nope": "1"})
        assert bad.status_code == 400
        assert bad.headers["ratelimit"] == '"minute";r=0;t=59'
        refused = await real.get("/v1/projects")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "59"
        body = refused.json()
        assert body["request_id"] == refused.headers["x-request-id"]
        assert body["violated-policies"] == ["minute"]
        for path in ("/healthz", "/readyz", "/docs", "/v1/openapi.json"):
            open_ = await real.get(path)
            assert (open_.status_code, open_.headers.get("ratelimit")) == (200, None), path
        anonymous = await real.get("/v1/projects", headers={"authorization": ""})
        assert anonymous.status_code == 401
        assert "ratelimit" not in anonymous.headers  # not counted: auth refused it first
        clock.advance(seconds=59)
        assert (await real.get("/v1/projects")).status_code == 200


async def test_create_app_with_redis_down_is_503(db: Database, clock: Clock) -> None:
    async with real_client(db, clock, redis_url="redis://127.0.0.1:1/0") as (c, app):
        assert isinstance(app.state.limiter, RedisLimiter)
        r = await c.get("/v1/projects")
        health = await c.get("/healthz")
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["request_id"] == r.headers["x-request-id"]
    assert health.status_code == 200
