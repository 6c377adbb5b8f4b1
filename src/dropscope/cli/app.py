"""The `dropscope` command: a Typer app whose commands are thin shells over services.

Errors become one line on stderr and an exit code (see `cli/errors.py`).
"""

from __future__ import annotations

import typer
from rich.console import Console

from dropscope import __version__
from dropscope.cli import agent as agent_cli
from dropscope.cli import ask as ask_cli
from dropscope.cli import board, data, history, investors, keys, project, serve, watch, webhooks
from dropscope.cli import ingest as ingest_cli
from dropscope.cli import mcp as mcp_cli
from dropscope.cli.context import AppContext
from dropscope.cli.errors import settings_or_exit

app = typer.Typer(
    name="dropscope",
    help="Open crypto airdrop research: sourced data, explainable scores and statuses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dropscope {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Settings come from DROPSCOPE_* environment variables (see README)."""
    app_ctx = AppContext(settings=settings_or_exit(), out=Console(), err=Console(stderr=True))
    ctx.obj = app_ctx
    ctx.call_on_close(app_ctx.close)


board.register(app)
project.register(app)
history.register(app)
investors.register(app)
serve.register(app)
ingest_cli.register(app)  # dropscope ingest (issue 6)
mcp_cli.register(app)  # dropscope mcp: the MCP server over stdio
agent_cli.register(app)  # dropscope agent: Claude with the MCP tools
ask_cli.register(app)  # dropscope ask: the research assistant
app.add_typer(data.app, name="data")
app.add_typer(keys.app, name="keys")
app.add_typer(watch.app, name="watch")  # watchlists and the event feed (issue 8)
app.add_typer(webhooks.app, name="webhooks")


def main() -> None:
    app()
