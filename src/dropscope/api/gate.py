"""The gate every `/v1` request passes: API key, rate limit and keys version, in ONE
pure-ASGI layer.

For a request under ``/v1`` or ``/mcp`` (`api.auth.is_protected`: every such path, served
or not, so that a caller without a key learns nothing of the API's routes; every other path,
the dashboard's pages, docs, health or a 404, passes untouched) that is not open
(`api.auth.is_open`: the OpenAPI document, sign-up):

1. **Key**: taken from ``Authorization: Bearer <key>`` or ``X-API-Key``, verified by the
   worker's `KeyVerifier` (format and checksum, keyed hash, state, expiry, IP allowlist).
   Refusals: 401 problem+json with ``WWW-Authenticate: Bearer`` and one message whatever was
   wrong (missing, malformed, unknown, disabled, revoked, expired), or 403 from an address
   outside the key's allowlist. The `Caller` goes to ``scope["state"]["caller"]``.
2. **Rate limit**: one hit of the key against its plan (`Limiter.hit`: in-process, or one
   Redis round trip). 429 problem+json with ``Retry-After`` when a policy is used up; 503
   when the counters cannot be reached (fail closed). The `Decision` goes to
   ``scope["state"]["ratelimit"]`` (for /v1/usage).
3. **Keys version** (Redis mode only, `KeyVerifier.remote`): the rate limiter's reply also
   carries the Redis keys version; when it differs from the one the verified-key cache was
   filled at, the key is verified again, so a revocation by any process is enforced on the
   next request without a second round trip.

Every response to an authenticated request then carries ``RateLimit-Policy`` and
``RateLimit`` (whatever its status: 200, 304, 400, 404 ...), ``Vary: Authorization,
X-API-Key``, and ``Cache-Control: private`` when the key came in ``X-API-Key`` (which shared
caches do not know to be a credential).

Why one layer rather than three (authenticate, limit, re-check): each pure-ASGI layer costs a
coroutine frame and a ``send`` wrapper per message; together the three cost about 8 µs a
request, a fifth of what keys and limits cost in all (`bench/ratelimit.py`). The steps stay
separate functions (`api.auth`, `api.ratelimit`) and are tested apart.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from dropscope.api.auth import (
    PROTECTED_PREFIXES,
    VARY,
    client_ip,
    credential_headers,
    is_open,
    is_protected,
    presented_key,
)
from dropscope.api.errors import error_response
from dropscope.api.ratelimit import forward_counted, limit_headers
from dropscope.domain.ratelimit import Decision
from dropscope.errors import DropscopeError, Unauthorized
from dropscope.services.key_auth import MISSING_KEY, KeyVerifier
from dropscope.services.ratelimit import Limiter


class Gate:
    """API key, rate limit and keys version for every request that is not open."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: KeyVerifier,
        limiter: Limiter,
        clock: Callable[[], datetime],
        protected: tuple[str, ...] = PROTECTED_PREFIXES,
    ) -> None:
        self.app = app
        self.protected = protected  # path prefixes that need a key (/v1, /mcp)
        self.verifier = verifier
        self.limiter = limiter
        self.clock = clock  # one reading per request, for the key check and the limit

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not is_protected(scope["path"], self.protected)
            or is_open(scope["method"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        decision: Decision | None = None
        via_header = False
        try:
            key, via_header = presented_key(scope)  # 401 for a malformed Authorization
            if key is None:
                raise Unauthorized(MISSING_KEY)
            ip, now = client_ip(scope), self.clock()
            caller = state["caller"] = await self.verifier.verify(key, ip, now)
            decision = state["ratelimit"] = await self.limiter.hit(caller.key_id, caller.plan, now)
            if self.verifier.remote and not self.verifier.confirm_remote(decision.keys_version):
                state["caller"] = await self.verifier.verify(key, ip, now, count=False)
        except DropscopeError as exc:
            response = await error_response(scope, exc)
            if decision is None:  # refused before it was counted: no rate-limit headers
                response.raw_headers.append((b"vary", VARY))
            else:
                response.raw_headers.extend(limit_headers(decision))
                credential_headers(response.raw_headers, private=via_header)
            await response(scope, receive, send)
            return
        mark = _private if via_header else _shared  # the key came in X-API-Key / Authorization
        await forward_counted(self.app, decision, scope, receive, send, mark=mark)


def _shared(headers: list[tuple[bytes, bytes]]) -> None:
    credential_headers(headers, private=False)


def _private(headers: list[tuple[bytes, bytes]]) -> None:
    credential_headers(headers, private=True)
