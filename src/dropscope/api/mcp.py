"""`/mcp`: the MCP server (streamable HTTP) inside the API app, behind the same keys.

The gate in front of every route (`api/gate.py`) already refuses a request without a usable
key (401) and counts the rest against the key's plan; this endpoint also needs the `read`
scope (403 without it), like every research route. Errors before the
MCP server runs are the API's problem+json; tool errors are MCP's (`mcp/errors.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from dropscope.api.errors import error_response, problem
from dropscope.config import Settings
from dropscope.domain.access import Caller, Scope
from dropscope.errors import Forbidden, Unauthorized
from dropscope.mcp.context import ToolContext
from dropscope.mcp.http import McpHttp
from dropscope.mcp.server import build_server
from dropscope.services.database import Database
from dropscope.services.key_auth import MISSING_KEY

PATH = "/mcp"


class RequireRead:
    """Lets a POST through to `app` only when its caller's key has the `read` scope. Other
    methods get 405: the server is stateless (`mcp/http.py`), so it has no session to end
    (DELETE) and nothing to push on a standing event stream (GET), which would otherwise
    stay open, idle, for as long as the client keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        caller = scope.get("state", {}).get("caller")
        response: Response
        if not isinstance(caller, Caller):
            response = await error_response(scope, Unauthorized(MISSING_KEY))
        elif not caller.can(Scope.READ):
            response = await error_response(scope, Forbidden("this API key lacks the 'read' scope"))
        elif scope["method"] != "POST":
            detail = f"{scope['method']} is not supported here: send JSON-RPC messages by POST"
            response = problem(405, detail, request=Request(scope), headers={"Allow": "POST"})
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def mount_mcp(
    app: FastAPI, settings: Settings, db: Database, clock: Callable[[], datetime]
) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Add the `/mcp` route to `app`; returns the context manager its lifespan must enter."""
    http = McpHttp(build_server(ToolContext(settings, db, clock)))
    app.router.routes.append(Route(PATH, RequireRead(http.app), include_in_schema=False))
    return http.running
