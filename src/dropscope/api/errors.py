"""The one place where errors become HTTP: RFC 9457 problem+json for every error response.

    DropscopeError subclass   status
    InvalidInput              400   (DataFileError too)
    Unauthorized              401   (WWW-Authenticate: Bearer)
    Forbidden                 403
    NotFound                  404   (with `suggestions`)
    IdempotencyMismatch       422
    Conflict                  409
    RateLimited               429   (Retry-After, `violated-policies`)
    SourceUnavailable         503
    StorageError              503
    anything else             500   (no details leak; the request id is in the body)

Request validation errors (bad query values, bad bodies) answer 400 with an `errors` list of
`{loc, msg}`; unknown routes 404 and wrong methods 405, in the same format. A 405's `Allow`
lists every method the path takes (Starlette's names only those of the first route that
matched the path). A path that no route serves but would with its trailing slash added or
removed is redirected (307) there with a relative `Location` (Starlette's `redirect_slashes`,
off, built an absolute URL from the request's `Host` header: whatever host the client named).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match
from starlette.types import Scope

from dropscope.api.json import dumps
from dropscope.errors import (
    Conflict,
    DropscopeError,
    Forbidden,
    IdempotencyMismatch,
    InvalidInput,
    NotFound,
    RateLimited,
    SourceUnavailable,
    StorageError,
    Unauthorized,
)

log = logging.getLogger("dropscope.api")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://dropscope.dev/problems/"

_STATUS: list[tuple[type[DropscopeError], int, str]] = [
    (InvalidInput, 400, "invalid-input"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (IdempotencyMismatch, 422, "idempotency-key-reused"),
    (Conflict, 409, "conflict"),
    (RateLimited, 429, "rate-limited"),
    (SourceUnavailable, 503, "source-unavailable"),
    (StorageError, 503, "storage-unavailable"),
]

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """A problem+json response: type, title, status, detail, instance, plus extensions."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or str(status)),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        rid = request.scope.get("state", {}).get("request_id")
        if rid:
            body["request_id"] = rid
    body.update({k.replace("_", "-"): v for k, v in extensions.items()})
    return Response(dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


def status_of(error: DropscopeError) -> tuple[int, str]:
    for cls, status, kind in _STATUS:
        if isinstance(error, cls):
            return status, kind
    return 500, "internal"


async def _dropscope_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DropscopeError)
    status, kind = status_of(exc)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput) and exc.fields:
        extra["errors"] = [{"loc": loc.split("."), "msg": msg} for loc, msg in exc.fields]
    if isinstance(exc, NotFound) and exc.suggestions:
        extra["suggestions"] = list(exc.suggestions)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="dropscope"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
        extra["violated_policies"] = [exc.policy]
    if status >= 500:
        log.error("dropscope error %s: %s", kind, exc.message)
    return problem(status, exc.message, request=request, kind=kind, headers=headers, **extra)


async def error_response(scope: Scope, error: DropscopeError) -> Response:
    """The problem+json response for `error`, for pure-ASGI middleware (auth, rate limits),
    which runs outside the app's exception handlers: the same mapping as those handlers."""
    return await _dropscope_error(Request(scope), error)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    where = ", ".join(".".join(e["loc"]) for e in errors[:3])
    return problem(
        400, f"invalid request: {where}", request=request, kind="invalid-input", errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == "Not Found":  # the router's: no route matched
        if (elsewhere := _with_other_slash(request)) is not None:
            return RedirectResponse(elsewhere)
        detail = f"no resource at {request.url.path}"
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request.scope)) or headers.get("Allow", "")
    return problem(exc.status_code, detail, request=request, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _matches(scope: Scope, method: str, path: str, want: Match) -> bool:
    """Whether a route of the app matches `method` and `path` at least as well as `want`."""
    probe = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": scope.get("root_path", ""),
    }
    probe.update(headers=[], query_string=b"")
    routes = getattr(scope.get("router"), "routes", ())
    return any(route.matches(probe)[0].value >= want.value for route in routes)


def _allowed_methods(scope: Scope) -> list[str]:
    """Every method some route takes at the request's path."""
    return [m for m in _METHODS if _matches(scope, m, scope["path"], Match.FULL)]


def _with_other_slash(request: Request) -> str | None:
    """The request's path and query with the trailing slash added or removed, when a route
    serves that path; else None. Relative, and never `//…` (another host)."""
    path: str = request.scope["path"]
    if path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if not other or other.startswith("//"):
        return None
    if not _matches(request.scope, request.method, other, Match.PARTIAL):
        return None
    query = request.scope.get("query_string", b"").decode("latin-1")
    return other + (f"?{query}" if query else "")  # the path includes any root_path


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "an unexpected error occurred; it has been logged", request=request)


def install(app: FastAPI) -> None:
    """Register the handlers on `app` (and redirect trailing slashes from the 404 one)."""
    app.router.redirect_slashes = False  # absolute, from the Host header: `_with_other_slash`
    app.add_exception_handler(DropscopeError, _dropscope_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
