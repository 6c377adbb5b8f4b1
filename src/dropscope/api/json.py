"""Fast JSON encoding for responses (pydantic-core), shared by routes and error bodies."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json


def dumps(value: Any) -> bytes:
    """Compact JSON bytes; dates as ISO strings, Decimals as numbers."""
    return to_json(value, by_alias=True)
