"""The MCP server's translation of the error tree: one line per error, what to try next."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from pydantic import BaseModel

from dropscope.errors import (
    Conflict,
    DataFileError,
    DropscopeError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    SourceUnavailable,
    StorageError,
    Unauthorized,
)
from dropscope.mcp.errors import describe, resource_errors, tool_call


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (InvalidInput("limit must be at least 1"), "invalid input: limit must be at least 1"),
        (
            InvalidInput("bad body", (("scores[0].value", "must be ≤ 100"),)),
            "invalid input: bad body (scores[0].value: must be ≤ 100)",
        ),
        (DataFileError([("a.yaml", "slug", "missing")]), "invalid input: a.yaml: slug: missing"),
        (NotFound("no project 'x'"), "not found: no project 'x'"),
        (
            NotFound("no project 'scrol'", ("scroll", "scroll-1")),
            "not found: no project 'scrol' (did you mean scroll or scroll-1?)",
        ),
        (Unauthorized("no key"), "not allowed: no key"),
        (Forbidden("lacks read"), "not allowed: lacks read"),
        (RateLimited("too many", 12, "p"), "rate limited: too many (retry after 12 s)"),
        (SourceUnavailable("Claude is down"), "unavailable: Claude is down"),
        (StorageError("database unreachable"), "unavailable: database unreachable"),
        (Conflict("exists"), "error: exists"),
    ],
)
def test_each_error_is_one_line(error: DropscopeError, text: str) -> None:
    assert describe(error) == text
    assert "\n" not in describe(error)


def test_tool_and_resource_wrappers() -> None:
    @tool_call
    def tool(key: str) -> str:
        raise NotFound(f"no project {key!r}", ("starknet",))

    with pytest.raises(ToolError, match=r"not found: no project 'x' \(did you mean starknet\?\)"):
        tool("x")

    @resource_errors
    def missing() -> str:
        raise NotFound("no project 'y'")

    @resource_errors
    def broken() -> str:
        raise StorageError("database unreachable")

    with pytest.raises(ResourceNotFoundError, match="not found"):
        missing()
    with pytest.raises(ResourceError, match="unavailable: database unreachable") as caught:
        broken()
    assert not isinstance(caught.value, ResourceNotFoundError)

    class Out(BaseModel):
        name: str
        n: int

    @tool_call
    def fine(n: int) -> Out:
        return Out(name="Ünïcode", n=n + 1)

    result = fine(1)
    assert result.structured_content == {"name": "Ünïcode", "n": 2}
    assert result.content[0].text == '{"name":"Ünïcode","n":2}'  # type: ignore[union-attr]
    assert not result.is_error
