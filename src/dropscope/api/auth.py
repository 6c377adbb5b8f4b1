"""Authentication as pure-ASGI middleware, and the scope each route requires.

`Authenticate` (outside the rate limiter) takes the key from ``Authorization: Bearer <key>``
or, failing that, ``X-API-Key: <key>``, verifies it (`services.key_auth.KeyVerifier`) and
puts the `Caller` in ``scope["state"]["caller"]``. Open without a key: ``/healthz``,
``/readyz``, ``/docs``, ``/v1/openapi.json`` and ``POST /v1/accounts`` (sign-up, 404 unless
enabled). Anything else without a usable key is answered here, before any route runs: 401
problem+json with ``WWW-Authenticate: Bearer`` (missing, malformed, unknown, disabled,
revoked or expired key: one message, so nothing tells a guesser which it was), or 403 from
an address outside the key's allowlist. Paths outside ``/v1/`` under one of the `public`
prefixes given to it (the web dashboard's pages) are open too; ``/v1`` requests never look
at that list.

Every authenticated response says ``Vary: Authorization, X-API-Key``; when the key came in
``X-API-Key`` (which shared caches do not know to be a credential) it also says
``Cache-Control: private``.

`KeysVersionGate` (inside the rate limiter) is installed when the keys version comes from
Redis: it compares the version the rate limiter's call returned (``Decision.keys_version``)
with the one the cache was filled at, and on a change verifies the request again.

Routes declare `requires(Scope.X)`: 403 when the key lacks the scope (admin does not imply
read or write). It also declares both schemes in OpenAPI.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from dropscope.api.errors import error_response
from dropscope.domain.access import Caller, Scope
from dropscope.errors import DropscopeError, Forbidden, Unauthorized
from dropscope.services.key_auth import MISSING_KEY, KeyVerifier

OPEN_PREFIXES: tuple[str, ...] = ("/healthz", "/readyz", "/docs", "/v1/openapi.json")
OPEN_ROUTES: frozenset[tuple[str, str]] = frozenset({("POST", "/v1/accounts")})
VARY = b"Authorization, X-API-Key"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="`Authorization: Bearer dsk_…`",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKey",
    description="`X-API-Key: dsk_…` (responses then say `Cache-Control: private`)",
)


def is_open(method: str, path: str) -> bool:
    if (method, path) in OPEN_ROUTES:
        return True
    return any(path == p or path.startswith(p + "/") for p in OPEN_PREFIXES)


def is_public(path: str, prefixes: tuple[str, ...]) -> bool:
    """`path` is outside /v1/ and is one of `prefixes` or below one (e.g. /projects/x)."""
    if path.startswith("/v1/"):
        return False
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def presented_key(scope: AsgiScope) -> tuple[str | None, bool]:
    """(the key, whether it came in X-API-Key). A Bearer credential wins over X-API-Key."""
    api_key: str | None = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credential.strip():
                return credential.strip(), False
        elif name == b"x-api-key" and value.strip():
            api_key = value.decode("latin-1").strip()
    return api_key, api_key is not None


def client_ip(scope: AsgiScope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class Authenticate:
    """Puts the verified `Caller` in the scope, or answers 401/403 (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: KeyVerifier,
        clock: Callable[[], datetime],
        public: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.clock = clock
        self.public = public

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or is_open(scope["method"], scope["path"])
            or is_public(scope["path"], self.public)
        ):
            await self.app(scope, receive, send)
            return
        key, via_header = presented_key(scope)
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        try:
            if key is None:
                raise Unauthorized(MISSING_KEY)
            state["caller"] = await self.verifier.verify(key, client_ip(scope), self.clock())
        except DropscopeError as exc:
            response = await error_response(scope, exc)
            response.raw_headers.append((b"vary", VARY))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, _private_send(send, private=via_header))


class KeysVersionGate:
    """Re-verifies a request when the Redis keys version the rate limiter read differs from
    the one the verified-key cache was filled at (remote mode only)."""

    def __init__(
        self, app: ASGIApp, *, verifier: KeyVerifier, clock: Callable[[], datetime]
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.clock = clock

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        state = scope.get("state") or {}
        decision = state.get("ratelimit")
        if scope["type"] != "http" or "caller" not in state or decision is None:
            await self.app(scope, receive, send)
            return
        if not self.verifier.confirm_remote(getattr(decision, "keys_version", None)):
            key, _ = presented_key(scope)
            assert key is not None  # it was verified a moment ago
            try:
                state["caller"] = await self.verifier.verify(
                    key, client_ip(scope), self.clock(), count=False
                )
            except DropscopeError as exc:
                await (await error_response(scope, exc))(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _private_send(send: Send, *, private: bool) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            _merge_vary(headers)
            if private:
                _make_private(headers)
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _merge_vary(headers: list[tuple[bytes, bytes]]) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            headers[i] = (b"vary", value + b", " + VARY)
            return
    headers.append((b"vary", VARY))


def _make_private(headers: list[tuple[bytes, bytes]]) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"cache-control":
            if b"private" not in value and b"no-store" not in value:
                headers[i] = (b"cache-control", b"private, " + value)
            elif b"private" not in value:
                headers[i] = (b"cache-control", value + b", private")
            return
    headers.append((b"cache-control", b"private"))


def requires(scope: Scope | None = None) -> Callable[..., Caller]:
    """A route dependency: the caller, if its key has `scope` (else 403); with no scope,
    any valid key (e.g. /v1/usage, which shows the caller its own use)."""

    def dependency(
        request: Request,
        _bearer: Annotated[object, Security(bearer_scheme)] = None,
        _api_key: Annotated[object, Security(api_key_scheme)] = None,
    ) -> Caller:
        caller = request.scope.get("state", {}).get("caller")
        if not isinstance(caller, Caller):
            raise Unauthorized(MISSING_KEY)
        if scope is not None and not caller.can(scope):
            raise Forbidden(f"this API key lacks the '{scope.value}' scope")
        return caller

    return dependency
