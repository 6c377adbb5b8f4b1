"""The keys version pushed to each worker over Redis pub/sub, for requests that make no
Redis call.

With PostgreSQL and Redis, a worker learns that API keys changed from ``<prefix>:keys_version``,
which the rate limiter's script returns with every call (`services.ratelimit`). A request
admitted from a lease makes no call, so the version must come another way: every key change
INCRs the counter and PUBLISHes the new value on the channel of the same name, in one
script (`services.keys.redis_notifier`), and each worker keeps a subscription open.

Why this enforces a revocation on the next request: Redis writes the message to the
subscriber when it runs PUBLISH, before the revoking process gets its reply and so before the
client who revoked gets its answer; a request sent after that answer reaches the worker's
socket after the message reached the other one. The worker reads both in an event-loop
step; `RedisWire` hands the message over from the I/O step itself, before the request's task
(woken in that same step) runs. A message that comes later belongs to a revocation that
came after the request.

While the subscription is not up (not yet made, lost, being made again), `up` is False and
the limiter makes one call per request again, which carries the version. After each
(re)subscription the version is read once more (`read_version`), since a change published
while nobody listened reaches nobody. The connection is checked with a PING every
`ping_every` seconds: one that stops answering is dropped within `timeout` more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from dropscope.services.redis_wire import RedisReplyError, RedisUnavailable, RedisWire

log = logging.getLogger("dropscope.ratelimit")

FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 5.0


class KeysWatch:
    """One worker's subscription to the keys-version channel."""

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        on_version: Callable[[str], None],
        read_version: Callable[[], Awaitable[str | None]],
        timeout: float = 1.0,
        ping_every: float = 1.0,
    ) -> None:
        self.url = url
        self.channel = channel
        self.up = False  # subscribed, and the version read since: pushes can be trusted
        self._on_version = on_version
        self._read_version = read_version
        self._timeout = timeout
        self._ping_every = ping_every
        self._task: asyncio.Task[None] | None = None
        self._wire: RedisWire | None = None
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
            wire = self._wire = RedisWire(
                self.url, timeout=self._timeout, on_push=self._push, on_lost=self._lost
            )
            self._gone.clear()
            try:
                await wire.call("SUBSCRIBE", self.channel)
                version = await self._read_version()
                if version is not None:
                    self._on_version(version)
                self.up, pause = True, FIRST_RETRY_SECONDS
                while self.up:
                    with contextlib.suppress(TimeoutError):  # woken early when it is lost
                        await asyncio.wait_for(self._gone.wait(), self._ping_every)
                    if self.up:
                        await wire.call("PING")
            except (RedisUnavailable, RedisReplyError) as exc:
                if self.up:
                    log.warning("keys-version subscription lost (%s); retrying", exc)
            finally:
                self.up = False
                await wire.aclose()
            await asyncio.sleep(pause)
            pause = min(MAX_RETRY_SECONDS, pause * 2)

    def _push(self, data: bytes) -> None:
        self._on_version(data.decode())

    def _lost(self) -> None:
        self.up = False
        self._gone.set()
