"""Opaque cursor pagination, stable under inserts.

A cursor encodes the sort key of the last item returned (plus its unique slug as the
tie-breaker) and the query it belongs to. The next page starts strictly after that key, so
items inserted or removed before it do not shift the pages that follow.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dropscope.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def fingerprint(query: dict[str, Any]) -> str:
    """A short hash of the query (without cursor and limit) a cursor is bound to."""
    text = json.dumps(query, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def encode(key: Sequence[Any], query_fp: str) -> str:
    raw = json.dumps({"k": list(key), "q": query_fp}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, query_fp: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
        key, fp = doc["k"], doc["q"]
        if not isinstance(key, list):
            raise TypeError
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidInput("cursor is not valid; start again without it") from None
    if fp != query_fp:
        raise InvalidInput("cursor belongs to a different query; start again without it")
    return key


def page(
    items: Sequence[T],
    sort_key: Callable[[T], list[Any]],
    limit: int,
    cursor: str | None,
    query_fp: str,
) -> tuple[list[T], str | None]:
    """Items after the cursor (items must already be in sort order, keys comparable in that
    order), at most `limit`, and the cursor of the next page or None."""
    if cursor is not None:
        after = decode(cursor, query_fp)
        start = next(
            (i for i, item in enumerate(items) if _after(sort_key(item), after)), len(items)
        )
        items = items[start:]
    chosen = list(items[:limit])
    more = len(items) > limit
    next_cursor = encode(sort_key(chosen[-1]), query_fp) if more and chosen else None
    return chosen, next_cursor


def _after(key: list[Any], cursor_key: list[Any]) -> bool:
    try:
        return key > cursor_key
    except TypeError:
        raise InvalidInput("cursor is not valid; start again without it") from None
