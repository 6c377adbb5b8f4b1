"""The MCP server over streamable HTTP, for mounting at `/mcp` in the API app.

Stateless, with JSON responses: each POST carries one JSON-RPC message and gets its answer
as ``application/json``; no session is kept between requests, so any worker of `dropscope
serve --workers N` can answer any request, and nothing a client left open holds memory.
The tools are read-only and never call back into the client, which is all that sessions
would add.

DNS-rebinding protection (Host/Origin allow-lists) is off: the app in front of it requires
an API key in a request header on every request, which a page served from another origin
cannot supply. Authentication, scopes and rate limits are the API app's (`api/mcp.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp


class McpHttp:
    """The ASGI endpoint of one MCP server, and the lifespan its session manager needs."""

    def __init__(self, server: MCPServer) -> None:
        server.streamable_http_app(  # builds the server's session manager
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self._manager = server.session_manager
        self.app: ASGIApp = StreamableHTTPASGIApp(self._manager)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the session manager's task group: enter once, in the app's lifespan."""
        async with self._manager.run():
            yield
