"""The HTTP/1.1 protocol `dropscope serve` runs: uvicorn's httptools protocol with the limits
uvicorn lacks, so that clients that connect and say little cannot hold the server.

uvicorn closes a keep-alive connection that stays idle (`timeout_keep_alive`) and can refuse
requests over `limit_concurrency`, but it arms no timer before a request's headers are in,
does not bound their size (httptools gathers a header of any length) and accepts every
connection it is offered. So ten thousand half-open connections held every file descriptor
and `/healthz` failed for everyone; a 50 MB header was read whole. This subclass adds, per
worker (`HttpLimits`, from the settings):

* **connections** (`http_max_connections`): a connection over the cap is answered 503 and
  closed as soon as it is accepted, before anything is read, so the cap holds however slowly
  the others send;
* **header timeout** (`http_header_timeout`): a request's line and headers must be in within
  this many seconds of the connection being made, or of the first byte of a later request on
  a kept-alive connection: one deadline, which bytes trickling in do not push back
  (slowloris). On expiry: 408 and close;
* **body timeout** (`http_body_timeout`): the body must then be in within this many seconds
  (a stalled upload is closed; the app sees a disconnect);
* **header size** (`http_max_header_bytes`): request line and headers together, counted on
  the bytes as they arrive, before httptools buffers them: over it, 431 and close.

Between requests uvicorn's own keep-alive timeout applies (`http_keep_alive_seconds`), and
request bodies are limited in the app (`api.middleware.BodyLimit`, 413). Time in the app (a
slow query, an event stream) is never limited here: only the client's sending is.

The limits reach the protocol through the app's lifespan state (`HTTP_LIMITS`), which uvicorn
hands to every protocol instance it makes; without it (an app that was not built by
`create_app`), the defaults apply.
"""

from __future__ import annotations

import asyncio
import http
from asyncio import TimerHandle
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from dropscope.api.errors import PROBLEM, TYPE_BASE
from dropscope.api.json import dumps
from dropscope.config import Settings

HTTP_LIMITS = "dropscope_http_limits"  # the key of the limits in the lifespan state
_HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one worker allows its clients (see the module docstring)."""

    max_connections: int = 1000
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 65_536

    @classmethod
    def of(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_connections=settings.http_max_connections,
            header_timeout=settings.http_header_timeout,
            body_timeout=settings.http_body_timeout,
            max_header_bytes=settings.http_max_header_bytes,
        )


def raw_problem(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 response (problem+json, `connection: close`), for the protocol to
    write where no app runs."""
    phrase = http.HTTPStatus(status).phrase
    title = phrase[0] + phrase[1:].lower()  # "Request timeout", as api.errors titles them
    body = dumps(
        {"type": TYPE_BASE + str(status), "title": title, "status": status, "detail": detail}
    )
    head = (
        f"HTTP/1.1 {status} {title}\r\ncontent-type: {PROBLEM}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a connection cap, header and body deadlines and a
    header size limit. `dropscope serve` runs it (`uvicorn.run(http=...)`)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = app_state.get(HTTP_LIMITS)
        self.limits = limits if isinstance(limits, HttpLimits) else HttpLimits()
        self._deadline: TimerHandle | None = None
        self._in_head = True  # the next bytes belong to a request's line and headers
        self._head_bytes = 0  # of the head being read
        self._tail = b""  # the last bytes of the head so far (its end may span two reads)
        self._refused = False

    # -- the connection cap
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self.transport = transport
            self._refuse(503, "too many connections; try again shortly")
            return
        super().connection_made(transport)
        self._arm(self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- the head: size and deadline
    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            if self._deadline is None:  # the first byte of a request on a kept-alive connection
                self._arm(self.limits.header_timeout)
            self._head_bytes += self._head_part(data)
            if self._head_bytes > self.limits.max_header_bytes:
                limit = self.limits.max_header_bytes
                self._refuse(431, f"the request line and headers exceed {limit} bytes")
                return
        super().data_received(data)

    def _head_part(self, data: bytes) -> int:
        """How many bytes of `data` belong to the head being read: up to its blank line."""
        if not self._head_bytes:  # blank lines before a request line: the parser skips them
            data = data.lstrip(b"\r\n")
        across = (self._tail + data[:3]).find(_HEAD_END)
        if across >= 0:
            return across + len(_HEAD_END) - len(self._tail)
        end = data.find(_HEAD_END)
        if end >= 0:
            return end + len(_HEAD_END)
        self._tail = (self._tail + data)[-3:]
        return len(data)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes, self._tail = False, 0, b""
        self._arm(self.limits.body_timeout)  # until on_message_complete, often at once
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True
        super().on_message_complete()

    # -- timers and refusals
    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse(408, "the request's headers did not arrive in time")
        else:  # the body is late: the app waiting for it sees a disconnect
            self.logger.info("closing a connection whose request body did not arrive in time")
            self._refused = True
            self.transport.close()

    def _refuse(self, status: int, detail: str) -> None:
        """Answer `status` unless a response is under way on this connection, and close it."""
        self._refused = True
        self._disarm()
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.transport.is_closing():
            self.transport.write(raw_problem(status, detail))
        self.transport.close()
