"""Rate limits and quotas at the edge: the headers and the 429 refusal (used by
`api.gate.Gate`, which counts every authenticated request), and `RateLimit`, the same as a
pure-ASGI middleware of its own, for a caller that another layer put in the scope.

For a request whose scope carries a caller (``scope["state"]["caller"]``, a
`dropscope.domain.access.Caller` put there by another layer), it counts one hit of
``caller.key_id`` against ``caller.plan`` and

- adds ``RateLimit-Policy`` and ``RateLimit`` to the response, whatever its status (200, 304,
  404, 400 ...): every response to a limited request carries them;
- refuses with 429 problem+json (``Retry-After``, ``violated-policies``), built by
  `dropscope.api.errors` from `RateLimited`, without calling the app;
- answers 503 problem+json when the counters cannot be reached (fail closed, see
  `dropscope.services.ratelimit`).

Requests without a caller (health, docs, or anything auth let through anonymously) and the
exempt paths (health, docs, OpenAPI) are not counted and carry no rate-limit headers.

The decision is left in ``scope["state"]["ratelimit"]`` (a `Decision`) for routes such as
/v1/usage. If that slot is already filled when this middleware runs, it is used as is and no
second hit is counted.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropscope.api.errors import error_response
from dropscope.domain.access import Caller
from dropscope.domain.ratelimit import Decision
from dropscope.errors import RateLimited, StorageError
from dropscope.services.ratelimit import Limiter

EXEMPT_PATHS: tuple[str, ...] = ("/healthz", "/readyz", "/docs", "/v1/openapi.json")


def is_exempt(path: str, exempt: tuple[str, ...] = EXEMPT_PATHS) -> bool:
    """`path` is one of `exempt` or below one of them (e.g. /docs/oauth2-redirect)."""
    if not path.startswith(exempt):  # the common case, in one C call
        return False
    return any(path == p or path.startswith(p + "/") for p in exempt)


def limit_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """``RateLimit-Policy`` and ``RateLimit`` for a response counted by `decision`."""
    return [
        (b"ratelimit-policy", decision.policy.encode()),
        (b"ratelimit", decision.limit.encode()),
    ]


async def forward_counted(
    app: ASGIApp,
    decision: Decision,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    mark: Callable[[list[tuple[bytes, bytes]]], None] | None = None,
) -> None:
    """Answer a counted request: the 429 problem+json (``Retry-After``,
    ``violated-policies``) when `decision` refused it, else `app`; either way with the
    rate-limit headers, and whatever `mark` adds to the response's headers."""
    extra = limit_headers(decision)
    if not decision.allowed:
        assert decision.retry_after is not None
        assert decision.violated is not None
        refused = RateLimited(decision.message, decision.retry_after, decision.violated)
        response = await error_response(scope, refused)
        response.raw_headers.extend(extra)
        if mark is not None:
            mark(response.raw_headers)
        await response(scope, receive, send)
        return

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message["headers"] = [*message.get("headers", ()), *extra]
            if mark is not None:
                mark(headers)
        await send(message)

    await app(scope, receive, send_with_headers)


class RateLimit:
    """Counts each request of an authenticated caller and enforces its plan."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: Limiter,
        clock: Callable[[], datetime],
        exempt: tuple[str, ...] = EXEMPT_PATHS,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.clock = clock
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        caller = state.get("caller")
        if not isinstance(caller, Caller) or is_exempt(scope["path"], self.exempt):
            await self.app(scope, receive, send)
            return
        decision = state.get("ratelimit")
        if not isinstance(decision, Decision):
            try:
                decision = await self.limiter.hit(caller.key_id, caller.plan, self.clock())
            except StorageError as exc:
                await (await error_response(scope, exc))(scope, receive, send)
                return
            state["ratelimit"] = decision
        await forward_counted(self.app, decision, scope, receive, send)
