"""What routes share: the API state, strict query parameters, and cached JSON responses.

Query parameters are strict: an undeclared one is refused (`reject_unknown_params`), and so
is any value holding a control character (NUL, TAB, ESC, DEL, U+0080–U+009F …: a NUL in a
text search would otherwise match everything); a date is `IsoDate`, YYYY-MM-DD only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dropscope.api.cache import CachedResponse, ResponseCache, request_key
from dropscope.api.json import dumps
from dropscope.api.middleware import etag_of
from dropscope.config import Settings
from dropscope.domain.assess import AssessParams
from dropscope.errors import InvalidInput
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database, UnitOfWork
from dropscope.services.key_auth import KeyVerifier
from dropscope.services.keys import KeysService

T = TypeVar("T")
DATA_CACHE_CONTROL = "no-cache"  # always revalidate: cheap with ETag, never stale after a write
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD (or a `date`, for defaults): pydantic's `date` alone also takes a
    number as a Unix time (``as_of=0`` would be 1970-01-01) and other spellings."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("expected a date as YYYY-MM-DD, e.g. 2024-01-05")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


@dataclass
class Api:
    """Everything a route needs, built once per worker by `create_app`."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime]
    cache: ResponseCache
    keys: KeysService
    verifier: KeyVerifier
    assistant: Assistant | None = None  # given to create_app (tests); else the process's

    @property
    def params(self) -> AssessParams:
        return AssessParams(
            min_tech=self.settings.min_tech, solid_fundamentals=self.settings.solid_fundamentals
        )

    def today(self) -> date:
        return self.clock().date()


def get_api(request: Request) -> Api:
    api: Api = request.app.state.dropscope
    return api


_ALLOWED: dict[int, frozenset[str]] = {}


def reject_unknown_params(request: Request) -> None:
    """400 for a query parameter the route does not declare (a typo would otherwise be
    ignored silently, and the client would get an unfiltered answer), and for a name or
    value holding a control character (no parameter takes one)."""
    for name, value in request.query_params.multi_items():
        if _CONTROL.search(name) or _CONTROL.search(value):
            shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)[:40]
            raise InvalidInput(
                f"query parameter {shown!r} holds a control character; none is allowed",
                fields=((f"query.{shown}", "contains a control character"),),
            )
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _ALLOWED.get(id(route))
    if allowed is None:
        allowed = frozenset(_query_aliases(dependant))
        _ALLOWED[id(route)] = allowed
    unknown = sorted(set(request.query_params.keys()) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise InvalidInput(
            f"unknown query parameter(s): {', '.join(unknown)}; this endpoint takes: {expected}"
        )


def _query_aliases(dependant: Any) -> set[str]:
    """Names of the query parameters a route and its dependencies declare."""
    names = {str(p.alias) for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_aliases(sub)
    return names


def run_uow(api: Api, work: Callable[[UnitOfWork], T]) -> T:
    with api.db.unit_of_work(read_only=True) as uow:
        return work(uow)


async def cached_json(
    request: Request,
    api: Api,
    build: Callable[[UnitOfWork], tuple[Any, dict[str, str]]],
    *,
    cache_control: str = DATA_CACHE_CONTROL,
) -> Response:
    """Answer a GET from the response cache, or build it in a worker thread inside one unit
    of work, encode it once, and cache it under the current data version. `build` returns
    the payload (a pydantic model or plain data) and extra headers (e.g. Link).

    Only for research data, which every tenant shares: the cache key holds no caller.
    Per-account answers (keys, usage, audit) must never come through here."""
    key = request_key(request.url.path, request.scope.get("query_string", b""), api.today())
    version = await api.cache.version()
    hit = api.cache.get(key, version)
    if hit is None:

        def work() -> CachedResponse:
            payload, headers = run_uow(api, build)
            body = dumps(payload)
            return CachedResponse(body, etag_of(body), tuple(headers.items()))

        hit = await run_in_threadpool(work)
        api.cache.put(key, version, hit)
    headers = {"etag": hit.etag, "cache-control": cache_control, **dict(hit.headers)}
    return Response(hit.body, media_type="application/json", headers=headers)


def next_link(request: Request, cursor: str | None) -> dict[str, str]:
    """A `Link: <…>; rel="next"` header for the next page, if there is one."""
    if cursor is None:
        return {}
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    items.append(("cursor", cursor))
    return {"link": f'<{request.url.path}?{urlencode(items)}>; rel="next"'}
