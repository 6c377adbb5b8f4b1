"""The MCP server's one translation of the error tree (and how a tool's result goes out).

A tool that raises a `DropscopeError` answers an MCP tool error (``isError: true``) whose text
is one line an agent can act on: the kind, the message, and for `NotFound` the close matches
("did you mean …"). A resource read raises the SDK's resource errors instead (`NotFound` →
``-32602``, anything else of ours → ``-32603``). Anything else is a bug: the SDK logs it with
its traceback and tells the client only "Error executing tool <name>", so nothing internal
leaks.

    DropscopeError subclass     tool error text starts with
    InvalidInput                invalid input:
    NotFound                    not found:        (+ did you mean …?)
    Unauthorized / Forbidden    not allowed:
    RateLimited                 rate limited:     (+ retry after N s)
    SourceUnavailable           unavailable:
    StorageError                unavailable:
    anything else of ours       error:
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from dropscope.errors import (
    DropscopeError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    SourceUnavailable,
    StorageError,
    Unauthorized,
)

P = ParamSpec("P")
R = TypeVar("R")


def describe(error: DropscopeError) -> str:
    """One line: what kind of failure, what happened, and what to try."""
    if isinstance(error, InvalidInput):
        fields = "; ".join(f"{loc}: {msg}" for loc, msg in error.fields)
        return f"invalid input: {error.message}" + (f" ({fields})" if fields else "")
    if isinstance(error, NotFound):
        hint = f" (did you mean {' or '.join(error.suggestions)}?)" if error.suggestions else ""
        return f"not found: {error.message}{hint}"
    if isinstance(error, Unauthorized | Forbidden):
        return f"not allowed: {error.message}"
    if isinstance(error, RateLimited):
        return f"rate limited: {error.message} (retry after {error.retry_after} s)"
    if isinstance(error, SourceUnavailable | StorageError):
        return f"unavailable: {error.message}"
    return f"error: {error.message}"


def tool_call(fn: Callable[P, BaseModel]) -> Callable[P, CallToolResult]:
    """Wrap a tool: a `DropscopeError` becomes an MCP tool error (see the module); its
    result goes out as structured content plus the same JSON as compact text (the SDK would
    indent it: a quarter more tokens for an agent to read). The wrapper keeps the tool's
    signature, so the SDK still derives the input and output schemas from it."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> CallToolResult:
        try:
            result = fn(*args, **kwargs)
        except DropscopeError as exc:
            raise ToolError(describe(exc)) from None
        data = result.model_dump(mode="json")
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=data
        )

    return wrapper


def resource_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a resource reader: `NotFound` → resource not found, other errors of ours →
    resource error, each with the same one-line text as a tool error."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except NotFound as exc:
            raise ResourceNotFoundError(describe(exc)) from None
        except DropscopeError as exc:
            raise ResourceError(describe(exc)) from None

    return wrapper
