"""dropscope's own app with authentication and rate limiting taken out, for bench/api.py.

The same routes, cache, fast path, JSON access log and database as `dropscope serve`; a fixed
caller with the read scope stands where a verified key would. Measured beside the real
server in the same run, it gives what keys and limits cost. Never serve it.

    uvicorn noauth_app:create --factory --app-dir bench --workers 2
"""

from __future__ import annotations

import logging.config

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from dropscope.api.app import create_app
from dropscope.api.gate import Gate
from dropscope.cli.serve import log_config
from dropscope.config import Settings
from dropscope.domain.access import Caller, Plan
from dropscope.domain.access import Scope as Access

CALLER = Caller("key_bench", "acct_bench", frozenset({Access.READ}), Plan("bench", 10**9, 10**12))


class StaticCaller:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["caller"] = CALLER
        await self.app(scope, receive, send)


def create() -> FastAPI:
    logging.config.dictConfig(log_config("info"))  # the same access log as `dropscope serve`
    app = create_app(Settings())
    app.user_middleware = [m for m in app.user_middleware if m.cls is not Gate]
    app.add_middleware(StaticCaller)
    return app
