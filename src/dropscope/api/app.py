"""`create_app(settings)`: the FastAPI application, its middleware and routes.

Workers started by `dropscope serve` call `create_app_from_env()`, which reads the
settings from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi import Depends, FastAPI

from dropscope import __version__
from dropscope.api import errors
from dropscope.api.auth import requires
from dropscope.api.cache import ResponseCache
from dropscope.api.deps import Api, reject_unknown_params
from dropscope.api.fastpath import CachedReads
from dropscope.api.gate import Gate
from dropscope.api.mcp import mount_mcp
from dropscope.api.middleware import BodyLimit, ConditionalGet, RequestContext
from dropscope.api.routes import (
    accounts,
    airdrops,
    ask,
    curation,
    events,
    health,
    investors,
    keys,
    projects,
    watchlists,
    webhooks,
)
from dropscope.api.server import HTTP_LIMITS, HttpLimits
from dropscope.clock import Clock, system_clock
from dropscope.config import Settings
from dropscope.domain.access import Scope
from dropscope.errors import DropscopeError
from dropscope.services import assistant as assistant_service
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database
from dropscope.services.key_auth import verifier_for
from dropscope.services.keys import keys_service
from dropscope.services.public_ask import budget_for
from dropscope.services.ratelimit import Limiter, build_limiter
from dropscope.services.webhook_dispatch import DispatchConfig, Dispatcher
from dropscope.web import Site, dashboard_routes, docs_routes

DESCRIPTION = """
Open crypto airdrop research: projects, funding, investors and past airdrops, every fact
with its source and date; airdrop statuses derived from dated evidence, with the rule that
fired; transparent scores.

Conventions: errors are RFC 9457 `application/problem+json`; lists use cursor pagination
(`limit` ≤ 100, `cursor` from `next_cursor`, also in `Link: rel="next"`); every GET has an
`ETag` (send `If-None-Match` for a 304); unknown query parameters are rejected with 400;
every response carries `X-Request-ID`. Not financial advice.

Authentication: every `/v1` endpoint but sign-up needs an API key (`dsk_…`), sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>`; scopes `read` (every GET on research
data, and the account's own watchlists, events and webhooks), `write` (curation), `admin`
(keys, audit). 401 without a usable key, 403 without the
scope.
"""


log = logging.getLogger("dropscope.api")


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Clock = system_clock,
    limiter: Limiter | None = None,
    assistant: Assistant | None = None,
) -> FastAPI:
    """Build the app. Pass `database` to share one (tests); `clock` to fix "now" for
    everything the app dates (the board's today, rate-limit windows and month quotas, usage,
    idempotency retention, the public Ask page's budget); `limiter` to count rate limits
    elsewhere; `assistant` to answer POST /v1/ask and /ask with it (tests: a fake
    generator)."""
    db = database or Database(settings.database_url, echo=settings.sql_echo)
    key_service = keys_service(settings, db)
    verifier = verifier_for(settings, db, key_service.peppers)
    # A remote verifier (PostgreSQL with Redis) checks the keys version that comes with each
    # decision; leased permits make no Redis call, so then the version is pushed to the
    # worker (services/redis_pubsub.py) and leases are used only while that is up.
    counters = limiter or build_limiter(
        settings.redis_url,
        prefix=settings.redis_prefix,
        lease_seconds=settings.ratelimit_lease_seconds,
        watch_keys=verifier.remote,
    )
    ask_budget = budget_for(settings)  # the public Ask page's paid answers (per hour, day)

    def read_version() -> int:
        with db.unit_of_work(read_only=True) as uow:
            return uow.meta.data_version()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        flusher = asyncio.create_task(_flush_usage(verifier.usage.flush, settings))
        keeper = asyncio.create_task(_housekeeping(db, settings, clock))
        if settings.assistant_warm_on_start:  # the first /v1/ask, /ask or MCP call won't wait
            assistant_service.warm(db, settings, clock)
        stop_dispatch = asyncio.Event()
        dispatcher = None
        if settings.webhook_dispatch_in_serve:  # webhooks delivered by this worker too
            dispatcher = asyncio.create_task(_dispatch(db, settings, stop_dispatch, clock))
        async with mcp_running():  # the MCP server's session manager (api/mcp.py)
            # the state goes to the server too: `dropscope serve`'s HTTP protocol reads the
            # connection limits from it (api/server.py)
            yield {HTTP_LIMITS: HttpLimits.of(settings)}
        stop_dispatch.set()
        if dispatcher is not None:
            await dispatcher
        for task in (flusher, keeper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await verifier.usage.flush()  # this worker's last batch of key usage
        verifier.close()
        ask_budget.close()
        if limiter is None:
            await counters.aclose()
        if database is None:
            db.close()

    app = FastAPI(
        title="dropscope API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # /docs is served below, from the package (web/docs.py), not a CDN
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_params)],
        # FastAPI's OpenTelemetry hooks check their configuration on every request (about
        # 20 µs); dropscope logs its own access lines, so they are off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.limiter = counters  # rate-limit counters: `await limiter.peek(...)` for usage
    app.state.dropscope = api = Api(
        settings=settings,
        db=db,
        clock=clock,
        cache=ResponseCache(read_version, recheck_seconds=settings.api_cache_recheck_seconds),
        keys=key_service,
        verifier=verifier,
        assistant=assistant,
    )
    errors.install(app)
    app.include_router(health.router)
    for module in (airdrops, projects, investors, ask):  # research data: the `read` scope
        app.include_router(
            module.router,
            dependencies=[Depends(requires(Scope.READ))],
            responses=keys.AUTH_RESPONSES,
        )
    app.include_router(curation.router, responses=keys.AUTH_RESPONSES)  # `write`, per route
    app.include_router(keys.router)
    app.include_router(accounts.router)
    for module in (watchlists, events, webhooks):  # per account, `read` scope (issue 8)
        app.include_router(module.router)
    if settings.signup == "open":
        app.include_router(accounts.signup_router)
    mcp_running = mount_mcp(app, settings, db, clock)  # /mcp: MCP over streamable HTTP
    # The dashboard (dropscope.web): public HTML pages at /, outside /v1 and the OpenAPI schema.
    site = Site(
        db=db,
        params=api.params,
        clock=clock,
        data_version=api.cache.version,
        assistant=lambda: ask.assistant(api),  # /ask: the same assistant as POST /v1/ask
        ask_budget=ask_budget,  # ... but its paid answers are limited (services/public_ask.py)
    )
    app.router.routes.extend(dashboard_routes(site))
    app.router.routes.extend(docs_routes(title=app.title, openapi_url="/v1/openapi.json"))
    # Middleware, innermost first (each add wraps the ones before it):
    # RequestContext > BodyLimit > Gate > CachedReads > ConditionalGet > routes.
    app.add_middleware(ConditionalGet)
    # -- cached GETs answered before the framework (api/fastpath.py), once the gate passed them
    app.add_middleware(CachedReads, cache=api.cache, today=api.today)
    # -- API key, rate limit and (with Redis) keys version in one layer (api/gate.py): puts
    #    the Caller in scope["state"]["caller"], or answers 401 / 403 / 429 / 503. Only
    #    paths under /v1 and /mcp need a key; the dashboard's pages, docs, health and 404s
    #    are public: no key asked, nothing counted
    app.add_middleware(
        Gate,
        verifier=verifier,
        limiter=counters,
        clock=clock,
    )
    # -- request bodies over `http_max_body_bytes`: 413 before anything reads them, key or not
    app.add_middleware(BodyLimit, max_bytes=settings.http_max_body_bytes)
    app.add_middleware(RequestContext)
    return app


HOUSEKEEPING_SECONDS = 3600.0  # how often each worker forgets expired idempotency keys


async def _housekeeping(db: Database, settings: Settings, clock: Callable[[], datetime]) -> None:
    """Forget the responses stored for Idempotency-Keys older than
    `idempotency_retention_hours`: at start, then every `HOUSEKEEPING_SECONDS`, until
    cancelled. Each worker does it; a second DELETE of the same rows finds none."""
    while True:
        cutoff = clock() - timedelta(hours=settings.idempotency_retention_hours)
        try:
            forgotten = await asyncio.to_thread(_forget_idempotency_keys, db, cutoff)
            if forgotten:
                log.info(
                    "forgot %d stored idempotent response(s) from before %s", forgotten, cutoff
                )
        except DropscopeError as exc:  # the database is busy or away: next time
            log.warning("could not forget old idempotency keys: %s", exc)
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


def _forget_idempotency_keys(db: Database, cutoff: datetime) -> int:
    with db.unit_of_work() as uow:
        return uow.idempotency.delete_before(cutoff)


async def _flush_usage(flush: Callable[[], Any], settings: Settings) -> None:
    """Write batched key usage every `usage_flush_seconds` until cancelled."""
    while True:
        await asyncio.sleep(settings.usage_flush_seconds)
        await flush()


async def _dispatch(db: Database, settings: Settings, stop: asyncio.Event, clock: Clock) -> None:
    """A webhook dispatcher for the app's lifetime (`webhook_dispatch_in_serve`), on the
    app's clock (receivers check `webhook-timestamp` against theirs: in production both are
    the wall clock)."""
    async with Dispatcher(db, DispatchConfig.of(settings), clock=clock) as dispatcher:
        await dispatcher.run(stop)


def create_app_from_env() -> FastAPI:
    """The factory `dropscope serve` gives to uvicorn (each worker builds its own app)."""
    return create_app(Settings())
