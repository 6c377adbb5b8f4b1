"""`dropscope mcp`: the MCP server over stdio, for desktop AI clients (Claude Desktop, IDEs).

The client starts it as a subprocess and speaks JSON-RPC on its stdin/stdout; nothing else
is written to stdout (notices go to stderr). The database comes from DROPSCOPE_DATABASE_URL,
migrated and, when empty, loaded with the curated data first; the assistant's index is built
in the background from the start, so the first `search` or `ask` does not wait for it.
"""

from __future__ import annotations

import anyio
import typer

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.mcp.context import ToolContext
from dropscope.mcp.server import build_server


def register(app: typer.Typer) -> None:
    @app.command("mcp")
    @handle_errors
    def mcp(ctx: typer.Context) -> None:
        """Serve dropscope's research to an AI client over MCP (stdio): read-only tools
        (search_projects, get_project, list_airdrops, compare_projects, past_airdrops,
        resolve, search, fetch, ask) and project://<slug> resources."""
        app_ctx: AppContext = ctx.obj
        tools = ToolContext(app_ctx.settings, app_ctx.db())
        tools.warm()  # the assistant's index, while the client starts up
        anyio.run(build_server(tools).run_stdio_async)
