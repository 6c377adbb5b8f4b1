"""JSON for the API: fast encoding of responses (pydantic-core), shared by routes and error
bodies; and the parsing of request bodies, which refuses duplicate keys (`StrictJsonRoute`,
the route class of every API router; `loads`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic_core import to_json
from starlette.responses import Response

from dropscope.errors import InvalidInput


def dumps(value: Any) -> bytes:
    """Compact JSON bytes; dates as ISO strings, Decimals as numbers."""
    return to_json(value, by_alias=True)


# -- request bodies ------------------------------------------------------------------------


class DuplicateKeyError(ValueError):
    """A JSON object that names `key` twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def loads(data: bytes | str) -> Any:
    """JSON text to Python, refusing an object that names a key twice (`DuplicateKeyError`):
    RFC 8259 leaves its meaning open (Python keeps the last, some parsers the first), so a
    proxy, a signature check or a log could read another request than the server does."""
    return json.loads(data, object_pairs_hook=_unique)


_UNREAD: Any = object()


class _StrictJsonRequest(Request):
    """A request whose `json()` is `loads` (FastAPI reads request bodies through it)."""

    _parsed: Any = _UNREAD

    async def json(self) -> Any:
        if self._parsed is _UNREAD:
            self._parsed = loads(await self.body())
        return self._parsed


def _is_json(content_type: str | None) -> bool:
    """What FastAPI parses as JSON: application/json or application/*+json."""
    if content_type is None:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class StrictJsonRoute(APIRoute):
    """The route class of every API router: a JSON request body that names a key twice in
    one object is refused, 400 problem+json naming the key, before FastAPI validates it.
    A body that is not JSON at all is left to FastAPI (400, as before)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:  # the route reads no body
            return handler

        async def strict_json(request: Request) -> Response:
            request = _StrictJsonRequest(request.scope, request.receive)
            if _is_json(request.headers.get("content-type")):
                try:
                    await request.json()
                except DuplicateKeyError as exc:
                    msg = f"names {exc.key!r} twice in one object; send each key once"
                    raise InvalidInput(
                        f"the JSON body {msg}", fields=(("body", f"the key {msg}"),)
                    ) from None
                except (ValueError, RecursionError):
                    pass  # not JSON: FastAPI answers it as it always has
            return await handler(request)

        return strict_json
