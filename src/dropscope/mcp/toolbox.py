"""An MCP client session as the `Toolbox` of `services.agent`: Claude's tool calls go
through the MCP protocol to the server's tools, exactly as an outside agent's would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp.types import TextContent

from dropscope.mcp.context import ToolContext
from dropscope.mcp.server import build_server
from dropscope.services.agent import ToolOutcome, ToolSpec


class McpToolbox:
    """The tools of the server behind `client` (an entered `mcp.Client`)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def specs(self) -> Sequence[ToolSpec]:
        listed = await self.client.list_tools()
        return [ToolSpec(t.name, t.description or "", dict(t.input_schema)) for t in listed.tools]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        result = await self.client.call_tool(name, arguments)
        if result.structured_content is not None and not result.is_error:
            text = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
        else:
            text = "\n".join(c.text for c in result.content if isinstance(c, TextContent))
        return ToolOutcome(text, bool(result.is_error))


@asynccontextmanager
async def local_toolbox(ctx: ToolContext) -> AsyncIterator[McpToolbox]:
    """The dropscope MCP server over `ctx`, in process, behind a real client session."""
    async with Client(build_server(ctx)) as client:
        yield McpToolbox(client)
