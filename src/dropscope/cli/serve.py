"""`dropscope serve`: the web dashboard and the REST API on uvicorn."""

from __future__ import annotations

import os
from typing import Any

import typer
import uvicorn

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.errors import InvalidInput
from dropscope.services.accounts import ensure_admin_key
from dropscope.services.keys import CreatedKey, keys_service

HTTP_PROTOCOL = "dropscope.api.server:GuardedHttpToolsProtocol"  # api/server.py
MANY_WORKERS_NEED_REDIS = (
    "--workers {workers} needs shared rate-limit counters: set DROPSCOPE_REDIS_URL "
    "(e.g. redis://127.0.0.1:6379/0), or serve with --workers 1"
)


def log_config(level: str) -> dict[str, Any]:
    """Plain lines for the server's own messages; one JSON line per request on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"format": "%(message)s"},
        },
        "handlers": {
            "plain": {"class": "logging.StreamHandler", "formatter": "plain"},
            "access": {"class": "dropscope.api.accesslog.BufferedLineHandler", "formatter": "json"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["plain"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "dropscope": {"handlers": ["plain"], "level": level.upper(), "propagate": False},
            "dropscope.access": {
                "handlers": ["access"],
                "level": level.upper(),
                "propagate": False,
            },
        },
    }


def print_first_key(app_ctx: AppContext, created: CreatedKey, base: str) -> None:
    """The first run's admin key, shown once, with how to use it."""
    err = app_ctx.err
    err.print("[bold]First run: an admin API key was created.[/bold] It is shown only now and")
    err.print("stored only as a hash: copy it to a secret store.")
    err.print(f"\n    {created.secret}\n", highlight=False, markup=False, soft_wrap=True)
    err.print("Use it (scopes read, write, admin):", highlight=False)
    err.print(
        f"    curl -H 'Authorization: Bearer {created.secret}' {base}/v1/airdrops",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    err.print(
        "Give others their own keys: dropscope keys create --name NAME --scope read\n",
        highlight=False,
        markup=False,
    )


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @handle_errors
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", help="Address to bind (0.0.0.0 for all)."),
        port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
        workers: int = typer.Option(1, min=1, help="Worker processes."),
        log_level: str = typer.Option("info", help="debug, info, warning or error."),
    ) -> None:
        """Serve the dashboard at / and the REST API: /v1/..., docs at /docs, OpenAPI at
        /v1/openapi.json; the MCP server for AI agents at /mcp (streamable HTTP, same API
        keys)."""
        app_ctx: AppContext = ctx.obj
        if log_level not in ("debug", "info", "warning", "error"):
            raise InvalidInput("--log-level takes debug, info, warning or error")
        cpus = os.cpu_count() or 1
        if workers > 4 * cpus:
            raise InvalidInput(f"--workers {workers} is more than 4 per CPU ({cpus} CPUs)")
        if workers > 1 and not app_ctx.settings.redis_url:
            raise InvalidInput(MANY_WORKERS_NEED_REDIS.format(workers=workers))
        db = app_ctx.db()  # migrate, and seed an empty database with the curated data
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        base = f"http://{shown}:{port}"
        # the pepper exists before the workers start (generated on first run), and so does
        # an admin key: printed once, the first time
        first_key = ensure_admin_key(keys_service(app_ctx.settings, db), app_ctx.now)
        app_ctx.close()
        if first_key is not None:
            print_first_key(app_ctx, first_key, base)
        app_ctx.err.print(
            f"dropscope dashboard on [bold]{base}/[/bold] — API docs {base}/docs · "
            f"JSON board {base}/v1/airdrops · OpenAPI {base}/v1/openapi.json · "
            f"MCP {base}/mcp",
            highlight=False,
            soft_wrap=True,
        )
        # workers build the assistant's index as they start, unless the operator said no
        os.environ.setdefault("DROPSCOPE_ASSISTANT_WARM_ON_START", "true")
        settings = app_ctx.settings
        proxies = settings.forwarded_allow_ips
        uvicorn.run(
            "dropscope.api.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            # httptools, with a connection cap, header and body deadlines and a header size
            # limit (api/server.py; it reads them from the app the worker builds)
            http=HTTP_PROTOCOL,
            timeout_keep_alive=settings.http_keep_alive_seconds,
            # X-Forwarded-For / -Proto only from the proxies the operator names (uvicorn's
            # default believes them from 127.0.0.1: anyone on this host could pick an address)
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies or None,
            access_log=False,
            log_config=log_config(log_level),
            server_header=False,
        )
