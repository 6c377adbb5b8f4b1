"""`create_app(settings)`: the FastAPI application, its middleware and routes.

Workers started by `dropscope serve` call `create_app_from_env()`, which reads the
settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import Depends, FastAPI

from dropscope import __version__
from dropscope.api import errors
from dropscope.api.cache import ResponseCache
from dropscope.api.deps import Api, reject_unknown_params
from dropscope.api.middleware import ConditionalGet, RequestContext
from dropscope.api.routes import airdrops, curation, health, investors, projects
from dropscope.config import Settings
from dropscope.services.database import Database

DESCRIPTION = """
Open crypto airdrop research: projects, funding, investors and past airdrops, every fact
with its source and date; airdrop statuses derived from dated evidence, with the rule that
fired; transparent scores.

Conventions: errors are RFC 9457 `application/problem+json`; lists use cursor pagination
(`limit` ≤ 100, `cursor` from `next_cursor`, also in `Link: rel="next"`); every GET has an
`ETag` (send `If-None-Match` for a 304); unknown query parameters are rejected with 400;
every response carries `X-Request-ID`. Not financial advice.
"""


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Callable[[], datetime] = _now,
) -> FastAPI:
    """Build the app. Pass `database` to share one (tests); `clock` to fix "today"."""
    db = database or Database(settings.database_url, echo=settings.sql_echo)

    def read_version() -> int:
        with db.unit_of_work(read_only=True) as uow:
            return uow.meta.data_version()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if database is None:
            db.close()

    app = FastAPI(
        title="dropscope API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_params)],
    )
    app.state.dropscope = Api(
        settings=settings,
        db=db,
        clock=clock,
        cache=ResponseCache(read_version, recheck_seconds=settings.api_cache_recheck_seconds),
    )
    errors.install(app)
    for module in (health, airdrops, projects, curation, investors):
        app.include_router(module.router)
    app.add_middleware(ConditionalGet)
    app.add_middleware(RequestContext)
    return app


def create_app_from_env() -> FastAPI:
    """The factory `dropscope serve` gives to uvicorn (each worker builds its own app)."""
    return create_app(Settings())
