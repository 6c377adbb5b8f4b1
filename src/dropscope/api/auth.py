"""API keys at the edge: which requests are open, where the key is read from, the headers
that mark an authenticated response, and the scope each route requires.

The checks themselves run in `api.gate.Gate` (key, rate limit, keys version in one layer).
A key is needed for every path under ``/v1`` and ``/mcp`` (`is_protected`), whether or not a
route serves it, so an unauthenticated caller learns nothing about which API routes exist;
of those, ``/v1/openapi.json`` and ``POST /v1/accounts`` (sign-up, 404 unless enabled) are
open (`is_open`). Every other path is public: the web dashboard's pages, ``/docs``,
``/healthz``, ``/readyz``, and, for a path no route serves, a 404. A key comes in
``Authorization: Bearer <key>`` or, failing that, ``X-API-Key: <key>``.

Routes declare `requires(Scope.X)`: 403 when the key lacks the scope (admin does not imply
read or write). It also declares both schemes in OpenAPI.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.types import Scope as AsgiScope

from dropscope.domain.access import Caller, Scope
from dropscope.errors import Forbidden, Unauthorized
from dropscope.services.key_auth import MISSING_KEY

OPEN_PREFIXES: tuple[str, ...] = ("/healthz", "/readyz", "/docs", "/v1/openapi.json")
OPEN_ROUTES: frozenset[tuple[str, str]] = frozenset({("POST", "/v1/accounts")})
PROTECTED_PREFIXES: tuple[str, ...] = ("/v1", "/mcp")  # a key needed, unless open
VARY = b"Authorization, X-API-Key"
MALFORMED_AUTHORIZATION = (
    "the Authorization header is malformed: send 'Authorization: Bearer <key>' (the word "
    "Bearer, a space, the key)"
)
_BEARER = re.compile(r"bearer +([A-Za-z0-9._~+/-]+=*)", re.IGNORECASE)  # RFC 6750 §2.1

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
    if not path.startswith(OPEN_PREFIXES):  # the common case, in one C call
        return False
    return any(path == p or path.startswith(p + "/") for p in OPEN_PREFIXES)


def is_protected(path: str, prefixes: tuple[str, ...] = PROTECTED_PREFIXES) -> bool:
    """`path` is one of `prefixes` or below one (``/v1``, ``/v1/x``; not ``/v1x``)."""
    if not path.startswith(prefixes):  # the dashboard's pages, in one C call
        return False
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def presented_key(scope: AsgiScope) -> tuple[str | None, bool]:
    """(the key, whether it came in X-API-Key). A Bearer credential wins over X-API-Key.

    ``Authorization: Bearer <key>`` is the scheme in any case, one or more spaces (RFC 9110
    §11.4 allows nothing else: no tab) and a token68. A header that starts with the Bearer
    scheme but is not that (a tab after it, no key, a key with a space in it) is refused,
    `Unauthorized` with `MALFORMED_AUTHORIZATION`: ignoring it would answer "no key" to a
    client that sent one. Another scheme (``Basic`` for a proxy in front) is left alone."""
    api_key: str | None = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1").strip(" \t")
            if (bearer := _BEARER.fullmatch(text)) is not None:
                return bearer.group(1), False
            if text[:6].lower() == "bearer":
                raise Unauthorized(MALFORMED_AUTHORIZATION)
        elif name == b"x-api-key" and value.strip():
            api_key = value.decode("latin-1").strip()
    return api_key, api_key is not None


def client_ip(scope: AsgiScope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def credential_headers(headers: list[tuple[bytes, bytes]], *, private: bool) -> None:
    """Mark a response to an authenticated request: ``Vary: Authorization, X-API-Key``, and
    ``Cache-Control: private`` when the key came in ``X-API-Key`` (`private`)."""
    _merge_vary(headers)
    if private:
        _make_private(headers)


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
