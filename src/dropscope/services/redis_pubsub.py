"""A worker's Redis subscription: messages that tell it, without a call of its own, what
other processes did. The rate limiter (`services.ratelimit`) uses two channels:

- ``<prefix>:rl:recall``: the limiter's script publishes a key's state name there when it
  refuses a request while workers hold leased permits of that key; each worker that holds
  one gives its unused permits back at once, so the refused request, which asks again a few
  milliseconds later, gets them (the burst over several workers still gets exactly the
  quota);
- ``<prefix>:keys_version`` (with PostgreSQL): every key change INCRs the counter and
  PUBLISHes the new value there, in one script (`services.keys.redis_notifier`). A request
  admitted from a lease makes no Redis call that could return the version, so the version
  must come this way.

Why a pushed version enforces a revocation on the next request: Redis writes the message to
the subscriber when it runs PUBLISH, before the revoking process gets its reply and so before
the client who revoked gets its answer; a request sent after that answer reaches the
worker's socket after the message reached the other one. The worker reads both in an
event-loop step; `RedisWire` hands the message over from the I/O step itself, before the
request's task (woken in that same step) runs. A message that comes later belongs to a
revocation that came after the request.

While the subscription is not up (not yet made, lost, being made again), `up` is False and
the limiter makes one call per request again (which carries the version, and needs no
recall). After each (re)subscription `on_up` runs (the limiter reads the version again: a
change published while nobody listened reaches nobody) before `up` turns True. The
connection is checked with a PING every `ping_every` seconds: one that stops answering is
dropped within `timeout` more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from dropscope.services.redis_wire import RedisReplyError, RedisUnavailable, RedisWire

log = logging.getLogger("dropscope.ratelimit")

FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 5.0


class Subscription:
    """One worker's subscription to some channels, each with its handler."""

    def __init__(
        self,
        url: str,
        handlers: Mapping[str, Callable[[bytes], None]],
        *,
        on_up: Callable[[], Awaitable[None]] | None = None,
        timeout: float = 1.0,
        ping_every: float = 1.0,
    ) -> None:
        self.url = url
        self.up = False  # subscribed (and `on_up` done): messages can be trusted to come
        self._handlers = {name.encode(): handle for name, handle in handlers.items()}
        self._on_up = on_up
        self._timeout = timeout
        self._ping_every = ping_every
        self._task: asyncio.Task[None] | None = None
        self._gone = asyncio.Event()  # set when the subscription's connection is lost

    def start(self) -> None:
        """Subscribe from a task of its own (once; needs a running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        self.up = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        pause = FIRST_RETRY_SECONDS
        while True:
            wire = RedisWire(
                self.url,
                timeout=self._timeout,
                on_push=self._push,
                on_lost=self._lost,
                reconnect=False,  # a new connection would not be subscribed
            )
            self._gone.clear()
            try:
                for channel in self._handlers:  # one at a time: one reply per channel
                    await wire.call("SUBSCRIBE", channel)
                if self._on_up is not None:
                    await self._on_up()
                if self._gone.is_set():  # lost while subscribing: not up
                    raise RedisUnavailable("the subscription was lost while it was made")
                self.up, pause = True, FIRST_RETRY_SECONDS
                while not self._gone.is_set():
                    with contextlib.suppress(TimeoutError):  # woken early when it is lost
                        await asyncio.wait_for(self._gone.wait(), self._ping_every)
                    if not self._gone.is_set():
                        await wire.call("PING")
            except (RedisUnavailable, RedisReplyError) as exc:
                if self.up:
                    log.warning("Redis subscription lost (%s); retrying", exc)
            finally:
                self.up = False
                await wire.aclose()
            await asyncio.sleep(pause)
            pause = min(MAX_RETRY_SECONDS, pause * 2)

    def _push(self, channel: bytes, data: bytes) -> None:
        handle = self._handlers.get(channel)
        if handle is not None:
            handle(data)

    def _lost(self) -> None:
        self.up = False
        self._gone.set()
