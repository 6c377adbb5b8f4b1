"""Serve cached GET responses before the framework runs.

The first request for a URL goes through FastAPI: validation, the service, encoding, and
the response lands in the `ResponseCache` (see `deps.cached_json`). Every later request for
the same URL (same path, same query, same "today", same data version) is answered here, after
authentication and rate limiting but without routing, dependency injection or validation:
only a query that was valid once is ever cached, under its exact text. A matching
`If-None-Match` gets a 304, as `ConditionalGet` would give.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from dropscope.api.cache import ResponseCache, request_key
from dropscope.api.deps import DATA_CACHE_CONTROL
from dropscope.api.middleware import etag_matches
from dropscope.domain.access import Caller, Scope


class CachedReads:
    def __init__(self, app: ASGIApp, *, cache: ResponseCache, today: Callable[[], date]) -> None:
        self.app = app
        self.cache = cache
        self.today = today

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        caller = scope.get("state", {}).get("caller")
        if not isinstance(caller, Caller) or not caller.can(Scope.READ):
            await self.app(scope, receive, send)
            return
        key = request_key(scope["path"], scope.get("query_string", b""), self.today())
        hit = self.cache.get(key, await self.cache.version())
        if hit is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"etag", hit.etag.encode()),
            (b"cache-control", DATA_CACHE_CONTROL.encode()),
            *((k.encode(), v.encode()) for k, v in hit.headers),
        ]
        if_none_match = next(
            (v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"if-none-match"),
            None,
        )
        if if_none_match is not None and etag_matches(if_none_match, hit.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(hit.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": hit.body})
