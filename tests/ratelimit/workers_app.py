"""A small ASGI app for the multi-process test: the rate-limit middleware on Redis, with a
fixed caller (so it does not depend on API keys), answering each request with the id of the
worker process that served it.

Run by test_workers.py as `uvicorn tests.ratelimit.workers_app:app --workers 4`; configured
by DROPSCOPE_TEST_REDIS_URL, RATELIMIT_TEST_PREFIX and RATELIMIT_TEST_PER_MINUTE.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from starlette.types import Receive, Scope, Send

from dropscope.api.ratelimit import RateLimit
from dropscope.domain.access import Caller, Plan
from dropscope.domain.access import Scope as Permission
from dropscope.services.ratelimit import RedisLimiter

PLAN = Plan("test", per_minute=int(os.environ["RATELIMIT_TEST_PER_MINUTE"]), per_month=10**6)
CALLER = Caller("workers-test", "acct", frozenset({Permission.READ}), PLAN)
PID = str(os.getpid()).encode()


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    leased = str(limiter.leased_hits).encode()  # hits this worker admitted from leases
    headers = [(b"content-type", b"text/plain"), (b"x-worker-pid", PID), (b"x-leased", leased)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


limiter = RedisLimiter.from_url(
    os.environ["DROPSCOPE_TEST_REDIS_URL"], prefix=os.environ["RATELIMIT_TEST_PREFIX"]
)
_limited = RateLimit(_answer, limiter=limiter, clock=lambda: datetime.now(UTC))


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await limiter.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
    scope.setdefault("state", {})["caller"] = CALLER  # what the auth middleware would do
    await _limited(scope, receive, send)
