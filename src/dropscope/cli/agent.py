"""`dropscope agent "question"`: Claude answers by calling dropscope's MCP tools (needs
ANTHROPIC_API_KEY; `dropscope ask` answers offline without it)."""

from __future__ import annotations

import anyio
import typer

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.mcp.agent import agent_answer
from dropscope.mcp.context import ToolContext


def register(app: typer.Typer) -> None:
    @app.command("agent")
    @handle_errors
    def agent(
        ctx: typer.Context,
        question: str = typer.Argument(..., help="A question about projects and airdrops."),
    ) -> None:
        """Ask Claude, which looks the facts up with dropscope's MCP tools (the same ones
        `dropscope mcp` serves) before answering. Needs ANTHROPIC_API_KEY."""
        app_ctx: AppContext = ctx.obj
        tools = ToolContext(app_ctx.settings, app_ctx.db())

        async def run() -> None:
            answer = await agent_answer(tools, question)
            for call in answer.tool_calls:
                mark = "[red]error[/red]" if call.is_error else "ok"
                app_ctx.err.print(f"[dim]tool {call.name} {call.arguments} → {mark}[/dim]")
            app_ctx.out.print(answer.text, highlight=False, markup=False, soft_wrap=True)

        anyio.run(run)
