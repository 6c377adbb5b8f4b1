"""Pure-ASGI middleware: request ids with structured access logs, and conditional GET.

Pure ASGI (not BaseHTTPMiddleware) so nothing is copied or re-wrapped on the hot path.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable, MutableMapping
from typing import Any

from pydantic_core import to_json
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropscope.api.accesslog import BufferedLineHandler
from dropscope.api.errors import problem

access_log = logging.getLogger("dropscope.access")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContext:
    """Gives every request an id (the client's X-Request-ID if it is safe, else a new one),
    echoes it in the response, and logs one JSON line per request: no query string, no
    headers, so no secret can reach the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._write: Callable[[str], None] | None = None
        self._resolved = False

    def _writer(self) -> Callable[[str], None] | None:
        """Where access lines go: straight to the buffered handlers when those are all the
        access logger has (as `dropscope serve` configures it), else through `logging`;
        None when the access log is off. Resolved on the first request, once logging is set."""
        if not access_log.isEnabledFor(logging.INFO):
            return None
        handlers = access_log.handlers
        if handlers and all(isinstance(h, BufferedLineHandler) for h in handlers):
            writers = [h.write_line for h in handlers if isinstance(h, BufferedLineHandler)]

            def write_all(line: str) -> None:
                for write in writers:
                    write(line)

            return writers[0] if len(writers) == 1 else write_all
        return access_log.info

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._resolved:
            self._write, self._resolved = self._writer(), True
        given = _header(scope, b"x-request-id")
        rid = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self._write is not None:
                client = scope.get("client")
                line = to_json(
                    {
                        "request_id": rid,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "ms": round((time.perf_counter() - start) * 1000, 2),
                        "client": client[0] if client else None,
                    }
                )
                self._write(line.decode())


class BodyLimit:
    """Refuses a request body over `max_bytes` with 413 problem+json, before the app reads or
    parses any of it: on its Content-Length, before a byte of the body is read; a chunked
    body (no length given) is read here up to the limit, and refused as soon as it passes
    it, else handed on whole. The 413 closes the connection, so the rest of the body is
    never read. One limit for every path: /v1, /mcp and the dashboard."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked = None, False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is not None:  # the server sends no more than it says
            if length.isdigit() and int(length) > self.max_bytes:
                await self._refuse(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if not chunked and scope.get("http_version") != "2":  # HTTP/1: no length, no body
            await self.app(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        whole: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def replay() -> Message:
            return whole.pop() if whole else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body exceeds {self.max_bytes} bytes"
        response = problem(
            413, detail, request=Request(scope), kind="too-large", headers={"Connection": "close"}
        )
        await response(scope, receive, send)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list against `etag`."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


_KEEP_ON_304 = {b"etag", b"cache-control", b"vary", b"content-location", b"x-request-id"}


class ConditionalGet:
    """Adds a strong ETag to every 200 GET/HEAD response that lacks one and answers a
    matching If-None-Match with 304, carrying the same ETag, Cache-Control and Vary."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = _header(scope, b"if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def capture(message: Message) -> None:
            nonlocal start, passthrough
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                ctype = next((v for k, v in headers if k == b"content-type"), b"")
                if message["status"] != 200 or ctype.startswith(b"text/event-stream"):
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            if passthrough:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            body = b"".join(chunks)
            headers = list(start.get("headers", ()))
            etag = next((v.decode() for k, v in headers if k == b"etag"), None)
            if etag is None:
                etag = etag_of(body)
                headers.append((b"etag", etag.encode()))
            if if_none_match is not None and etag_matches(if_none_match, etag):
                kept = [(k, v) for k, v in headers if k in _KEEP_ON_304]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
