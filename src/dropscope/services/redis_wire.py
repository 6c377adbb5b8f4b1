"""A small pipelined Redis client for the rate limiter's one call per request.

Why not redis-py here: on the hot path its asyncio client spends about 50 µs per command
encoding arguments and parsing the reply (measured with cProfile, `bench/ratelimit.py`), more
than the rest of authentication and rate limiting together; `hiredis` did not change that.
This module speaks just enough RESP2 for one job: send commands on one connection, in call
order, and hand each caller its own reply.

- **Pipelined by construction.** Commands issued in the same event-loop turn are written
  together (one ``write`` per turn); Redis answers in order, so replies are matched to
  callers first in, first out. Many concurrent requests of one worker share one write and
  one read.
- **Bounded waits.** A reply not received within `timeout` seconds closes the connection and
  fails every pending call with `RedisUnavailable`; so does a refused or lost connection.
  The next call reconnects (one attempt, bounded by `timeout`).
- **Errors** from Redis (``-ERR ...``, ``-NOSCRIPT ...``) come back as `RedisReplyError`; the
  caller decides (the limiter reloads its script on NOSCRIPT).

- **Subscriptions.** A connection given `on_push` hands each pub/sub ``message`` it reads to
  that callback (channel, data), at once, from the event loop's I/O step (before any task
  that the same step wakes runs); other replies still go to their callers in order.
  `on_lost` is told when the connection fails or closes, and with `reconnect=False` a call
  after that fails instead of opening a new (unsubscribed) connection.

URLs: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` (TLS, verified with the
system's certificates) and ``unix:///path/to.sock[?db=N]``; the password may also come as
``?password=``. Only what the limiter needs: no RESP3, no cluster.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_CRLF = b"\r\n"
_INCOMPLETE = object()

Reply = bytes | int | str | list[Any] | None


class RedisUnavailable(Exception):
    """The connection could not be made, was lost, or a reply did not come in time."""


class RedisReplyError(Exception):
    """Redis answered a command with an error reply (``-ERR ...``)."""

    @property
    def code(self) -> str:
        """The error's first word, e.g. ``NOSCRIPT``."""
        return str(self).split(" ", 1)[0]


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int
    path: str | None
    db: int
    username: str | None
    password: str | None
    tls: bool


def parse_url(url: str) -> Address:
    """The parts of a Redis URL this client understands; ValueError for anything else."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    password = unquote(parts.password) if parts.password else query.get("password")
    username = unquote(parts.username) if parts.username else None
    if parts.scheme in ("redis", "rediss"):
        db_text = parts.path.strip("/") or query.get("db", "0")
        return Address(
            parts.hostname or "127.0.0.1",
            parts.port or 6379,
            None,
            int(db_text),
            username,
            password,
            parts.scheme == "rediss",
        )
    if parts.scheme == "unix":
        return Address("", 0, parts.path, int(query.get("db", "0")), username, password, False)
    raise ValueError(f"unsupported Redis URL scheme {parts.scheme!r}")


def bulk(args: tuple[bytes | str | int, ...]) -> bytes:
    """`args` as RESP bulk strings, without the array header (see `encode`)."""
    out = []
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def encode(args: tuple[bytes | str | int, ...]) -> bytes:
    """One command as a RESP array of bulk strings. A caller that sends many commands with a
    common start may encode that start once with `bulk` and add ``b"*<n>\\r\\n"`` itself."""
    return b"*%d\r\n" % len(args) + bulk(args)


def parse(buf: bytearray, pos: int) -> tuple[Any, int]:
    """One reply starting at `pos`: (reply, position after it), or (_INCOMPLETE, pos) when
    the buffer does not hold all of it yet. Error replies are returned as RedisReplyError."""
    end = buf.find(_CRLF, pos)
    if end < 0:
        return _INCOMPLETE, pos
    kind, line, after = buf[pos], bytes(buf[pos + 1 : end]), end + 2
    if kind == 0x24:  # $ bulk string
        n = int(line)
        if n < 0:
            return None, after
        if len(buf) < after + n + 2:
            return _INCOMPLETE, pos
        return bytes(buf[after : after + n]), after + n + 2
    if kind == 0x3A:  # : integer
        return int(line), after
    if kind == 0x2B:  # + simple string
        return line.decode(), after
    if kind == 0x2D:  # - error
        return RedisReplyError(line.decode(errors="replace")), after
    if kind == 0x2A:  # * array
        n = int(line)
        if n < 0:
            return None, after
        items: list[Any] = []
        for _ in range(n):
            item, after = parse(buf, after)
            if item is _INCOMPLETE:
                return _INCOMPLETE, pos
            items.append(item)
        return items, after
    raise RedisUnavailable(f"unexpected reply type {chr(kind)!r} from Redis")


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: RedisWire) -> None:
        self._owner = owner
        self._buf = bytearray()
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._owner._transport is not self._transport:
            return  # an older connection, already failed and replaced
        buf = self._buf
        buf += data
        pos = 0
        waiters = self._owner._waiting
        try:
            while pos < len(buf):
                reply, pos = parse(buf, pos)
                if reply is _INCOMPLETE:
                    break
                push = self._owner.on_push
                if push is not None and isinstance(reply, list) and reply[:1] == [b"message"]:
                    push(reply[1], reply[2])  # a published message: nobody's reply
                    continue
                if not waiters:
                    raise RedisUnavailable("a reply came from Redis that nobody asked for")
                waiter = waiters.popleft()[0]
                if not waiter.done():  # a request that went away no longer waits
                    if isinstance(reply, RedisReplyError):
                        waiter.set_exception(reply)
                    else:
                        waiter.set_result(reply)
        except (RedisUnavailable, ValueError) as exc:
            self._owner._fail(RedisUnavailable(f"bad reply from Redis: {exc}"))
            return
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._owner._transport is self._transport:  # not an older, replaced connection
            lost = RedisUnavailable(f"the connection to Redis was lost: {exc or 'closed'}")
            self._owner._fail(lost)


class RedisWire:
    """One pipelined connection (see the module docstring). Not thread-safe: one event loop."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 1.0,
        on_push: Callable[[bytes, bytes], None] | None = None,
        on_lost: Callable[[], None] | None = None,
        reconnect: bool = True,
    ) -> None:
        self.address = parse_url(url)
        self.reconnect = reconnect  # False: one connection only (a subscription's)
        self._connected_once = False
        self.timeout = timeout
        self.on_push = on_push
        self.on_lost = on_lost
        self.sent = 0  # commands written, for tests and benchmarks (round trips)
        self._transport: asyncio.Transport | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self._out: list[bytes] = []
        self._watchdog: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def call(self, *args: bytes | str | int) -> Any:
        """Send one command; its reply (bytes, int, str, list or None)."""
        return await self.call_encoded(encode(args))

    async def call_encoded(self, command: bytes) -> Any:
        """Send one command already encoded as RESP (`encode`)."""
        if self._transport is None or self._transport.is_closing():
            if self._connected_once and not self.reconnect:
                raise RedisUnavailable("the connection to Redis was lost")
            await self._connect()
        return await self._send(command)

    async def aclose(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._fail(RedisUnavailable("the client was closed"))

    # -- internals ---------------------------------------------------------------------

    def _send(self, command: bytes) -> asyncio.Future[Any]:
        loop = self._loop
        if loop is None or self._transport is None:  # lost between connecting and sending
            raise RedisUnavailable("the connection to Redis was lost")
        waiter: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((waiter, loop.time()))
        self._out.append(command)
        self.sent += 1
        if len(self._out) == 1:
            loop.call_soon(self._flush)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.timeout, self._check)
        return waiter

    def _flush(self) -> None:
        out, self._out = self._out, []
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(out))

    def _check(self) -> None:
        """Runs every `timeout` while replies are awaited: fail all when the oldest is late."""
        self._watchdog = None
        if not self._waiting or self._loop is None:
            return
        waited = self._loop.time() - self._waiting[0][1]
        if waited >= self.timeout:
            self._fail(RedisUnavailable(f"no reply from Redis within {self.timeout:g} s"))
            return
        self._watchdog = self._loop.call_later(self.timeout - waited, self._check)

    def _fail(self, error: Exception) -> None:
        if self.on_lost is not None:
            self.on_lost()
        transport, self._transport = self._transport, None
        waiting, self._waiting = self._waiting, collections.deque()
        self._out = []
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if transport is not None:
            transport.abort()
        for waiter, _ in waiting:
            if not waiter.done():
                waiter.set_exception(error)

    async def _connect(self) -> None:
        """Connect (callers arriving meanwhile share the attempt), then AUTH and SELECT."""
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_task(self._open())
        task = self._connecting
        try:
            await asyncio.shield(task)
        finally:
            if self._connecting is task and task.done():
                self._connecting = None

    async def _open(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        a = self.address
        try:
            if a.path is not None:
                connecting = loop.create_unix_connection(lambda: _Protocol(self), a.path)
            else:
                context = ssl.create_default_context() if a.tls else None
                connecting = loop.create_connection(
                    lambda: _Protocol(self), a.host, a.port, ssl=context
                )
            transport, _ = await asyncio.wait_for(connecting, self.timeout)
        except (OSError, TimeoutError) as exc:
            raise RedisUnavailable(f"cannot connect to Redis: {exc or 'timed out'}") from exc
        self._transport = transport
        self._connected_once = True
        setup: list[asyncio.Future[Any]] = []
        if a.password is not None:
            auth = (a.username, a.password) if a.username else (a.password,)
            setup.append(self._send(encode(("AUTH", *auth))))
        if a.db:
            setup.append(self._send(encode(("SELECT", a.db))))
        try:
            for step in setup:
                await step
        except RedisReplyError as exc:
            self._fail(RedisUnavailable(f"Redis refused the connection setup: {exc}"))
            raise RedisUnavailable(f"Redis refused the connection setup: {exc}") from exc
