"""The MCP server's one translation of the error tree.

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
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError

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


def tool_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a tool so a `DropscopeError` becomes an MCP tool error (see the module)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DropscopeError as exc:
            raise ToolError(describe(exc)) from None

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
