"""`dropscope webhooks add|list|enable|disable|rotate|remove|ping|deliveries|replay`
(endpoints, from the server's shell, for the operator's account unless `--account`),
`dispatch` (the delivery worker), `scan` (deadline reminders now) and `verify` (check a
received message's signature: for receivers)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.cli.keys import parse_duration
from dropscope.cli.output import Format, print_json, shown
from dropscope.domain.webhooks import Delivery, Endpoint
from dropscope.domain.webhooks import verify as verify_message
from dropscope.errors import InvalidInput
from dropscope.services import webhooks as service
from dropscope.services.events import scan as scan_service
from dropscope.services.watchlists import account_for
from dropscope.services.webhook_dispatch import DispatchConfig, Dispatcher, deliver_pending

app = typer.Typer(help="Webhooks: endpoints, deliveries, the dispatcher, signature checks.")

_FMT = typer.Option(Format.TABLE, "--format", "-f", help="table or json.")
_ACCOUNT = typer.Option(None, "--account", help="Account id (default: the operator's).")


def endpoint_json(e: Endpoint) -> dict[str, Any]:
    return {
        "id": e.id,
        "account_id": e.account_id,
        "url": e.url,
        "description": e.description,
        "event_types": list(e.event_types),
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "rotation_ends_at": e.previous_until.isoformat() if e.previous_until else None,
        "created_at": e.created_at.isoformat(),
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    return {
        "id": d.id,
        "webhook_id": d.endpoint_id,
        "message_id": d.message_id,
        "event_type": d.event_type,
        "state": d.state.value,
        "attempts": d.attempts,
        "next_attempt_at": iso(d.next_attempt_at) if d.state.value == "pending" else None,
        "last_attempt_at": iso(d.last_attempt_at),
        "delivered_at": iso(d.delivered_at),
        "last_status": d.last_status,
        "last_error": d.last_error,
    }


@app.command("add")
@handle_errors
def add(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="https:// URL that receives the POSTs."),
    description: str = typer.Option("", help="A note for yourself."),
    event: list[str] = typer.Option([], "--event", help="Only this event type (repeat)."),
    account: str | None = _ACCOUNT,
    fmt: Format = _FMT,
) -> None:
    """Add an endpoint; prints its signing secret once."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        made = service.create(
            uow,
            app_ctx.settings,
            owner.id,
            url,
            app_ctx.now,
            description=description,
            event_types=event,
            operator=owner.operator,
        )
    if fmt is Format.JSON:
        print_json(app_ctx.out, {**endpoint_json(made.endpoint), "secret": made.secret})
        return
    app_ctx.out.print(f"{made.endpoint.id} → {shown(made.endpoint.url)}")
    app_ctx.out.print(f"secret (shown once): {made.secret}", soft_wrap=True)


@app.command("list")
@handle_errors
def list_(ctx: typer.Context, account: str | None = _ACCOUNT, fmt: Format = _FMT) -> None:
    """The account's endpoints (never their secrets)."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        found = uow.webhooks.endpoints(owner.id)
    if fmt is Format.JSON:
        print_json(app_ctx.out, [endpoint_json(e) for e in found])
        return
    t = Table(title="Webhooks", title_justify="left", header_style="bold")
    for col in ("Id", "URL", "Enabled", "Types", "Note"):
        t.add_column(col)
    for e in found:
        t.add_row(
            shown(e.id),
            shown(e.url),
            "yes" if e.enabled else f"no ({shown(e.disabled_reason)})",
            shown(", ".join(e.event_types) or "all"),
            shown(e.description),
        )
    app_ctx.out.print(t)


def _set_enabled(ctx: typer.Context, endpoint_id: str, account: str | None, on: bool) -> None:
    app_ctx: AppContext = ctx.obj
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        e = service.update(
            uow, app_ctx.settings, owner.id, endpoint_id, {"enabled": on}, app_ctx.now
        )
    app_ctx.out.print(f"{shown(e.id)} {'enabled' if e.enabled else 'disabled'}")


@app.command("enable")
@handle_errors
def enable(
    ctx: typer.Context, endpoint_id: str = typer.Argument(...), account: str | None = _ACCOUNT
) -> None:
    """Enable an endpoint (e.g. after a 410); its pending deliveries resume."""
    _set_enabled(ctx, endpoint_id, account, True)


@app.command("disable")
@handle_errors
def disable(
    ctx: typer.Context, endpoint_id: str = typer.Argument(...), account: str | None = _ACCOUNT
) -> None:
    """Disable an endpoint; deliveries wait until it is enabled again."""
    _set_enabled(ctx, endpoint_id, account, False)


@app.command("rotate")
@handle_errors
def rotate(
    ctx: typer.Context,
    endpoint_id: str = typer.Argument(...),
    overlap: str | None = typer.Option(None, help="How long the old secret still signs, e.g. 24h."),
    account: str | None = _ACCOUNT,
) -> None:
    """A new secret (printed once); both sign during the overlap."""
    app_ctx: AppContext = ctx.obj
    span = (
        parse_duration(overlap, "--overlap")
        if overlap is not None
        else timedelta(seconds=app_ctx.settings.webhook_rotation_overlap_seconds)
    )
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        made = service.rotate(uow, owner.id, endpoint_id, span, app_ctx.now)
    app_ctx.out.print(f"new secret (shown once): {made.secret}", soft_wrap=True)


@app.command("remove")
@handle_errors
def remove(
    ctx: typer.Context, endpoint_id: str = typer.Argument(...), account: str | None = _ACCOUNT
) -> None:
    """Delete an endpoint and its delivery log."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        service.delete(uow, owner.id, endpoint_id)
    app_ctx.out.print(f"removed {shown(endpoint_id)}")


@app.command("ping")
@handle_errors
def ping(
    ctx: typer.Context, endpoint_id: str = typer.Argument(...), account: str | None = _ACCOUNT
) -> None:
    """Queue a `webhook.ping` message (the dispatcher delivers it)."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        d = service.ping(uow, owner.id, endpoint_id, app_ctx.now)
    app_ctx.out.print(f"queued delivery {d.id} ({d.message_id})")


@app.command("deliveries")
@handle_errors
def deliveries(
    ctx: typer.Context,
    endpoint_id: str = typer.Argument(...),
    state: str | None = typer.Option(None, help="pending, delivered or failed."),
    limit: int = typer.Option(50, min=1, max=1000),
    account: str | None = _ACCOUNT,
    fmt: Format = _FMT,
) -> None:
    """An endpoint's deliveries, newest first, with their last status."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        found = service.deliveries(uow, owner.id, endpoint_id, state=state, limit=limit)
    if fmt is Format.JSON:
        print_json(app_ctx.out, [delivery_json(d) for d in found])
        return
    title = f"Deliveries of {shown(endpoint_id)}"
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in ("Id", "Message", "Type", "State", "Attempts", "Last status", "Error"):
        t.add_column(col)
    for d in found:
        t.add_row(
            str(d.id),
            shown(d.message_id),
            shown(d.event_type),
            d.state.value,
            str(d.attempts),
            str(d.last_status or "–"),
            shown(d.last_error or ""),
        )
    app_ctx.out.print(t)


@app.command("replay")
@handle_errors
def replay(
    ctx: typer.Context, delivery_id: int = typer.Argument(...), account: str | None = _ACCOUNT
) -> None:
    """Deliver a message again (same webhook-id and body)."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db(seed=False).unit_of_work() as uow:
        owner = account_for(uow, account, app_ctx.now)
        d = service.replay(uow, owner.id, delivery_id, app_ctx.now)
    app_ctx.out.print(f"delivery {d.id} ({d.message_id}) queued again")


@app.command("dispatch")
@handle_errors
def dispatch(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Deliver what is due now, then exit."),
) -> None:
    """Deliver the outbox until stopped (SIGINT / SIGTERM); reminders scanned periodically."""
    app_ctx: AppContext = ctx.obj
    db = app_ctx.db(seed=False)
    config = DispatchConfig.of(app_ctx.settings)

    if once:
        count = asyncio.run(deliver_pending(db, app_ctx.settings))
        app_ctx.out.print(f"{count} deliveries attempted")
        return

    async def main() -> int:
        async with Dispatcher(db, config) as d:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            app_ctx.err.print(f"[dim]dispatcher {d.worker} running; Ctrl-C stops it[/dim]")
            await d.run(stop)
            return d.delivered

    count = asyncio.run(main())
    app_ctx.out.print(f"{count} delivered")


@app.command("scan")
@handle_errors
def scan(
    ctx: typer.Context,
    at: str | None = typer.Option(None, help="Scan as of this moment (ISO 8601, UTC)."),
) -> None:
    """Look for due deadline reminders (claim windows closing in 7 days / 1 day) now."""
    app_ctx: AppContext = ctx.obj
    when = app_ctx.now
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise InvalidInput(f"--at takes an ISO 8601 moment, not {at!r}") from None
        if when.utcoffset() is None:
            raise InvalidInput("--at needs a timezone, e.g. 2026-12-01T09:00:00+00:00")
    found = scan_service(app_ctx.db(seed=False), when)
    app_ctx.out.print(f"{len(found)} new event(s)")
    for e in found:
        app_ctx.out.print(f"  {e.type.value} {shown(e.project_slug)} {shown(e.id)}")


@app.command("prune")
@handle_errors
def prune(
    ctx: typer.Context,
    older_than: str = typer.Option("90d", "--older-than", help="Age, e.g. 90d or 12h."),
) -> None:
    """Delete events, and delivered or failed deliveries, older than that (every account)."""
    app_ctx: AppContext = ctx.obj
    before = app_ctx.now - parse_duration(older_than, "--older-than")
    events, deliveries = service.prune(app_ctx.db(seed=False), before)
    app_ctx.out.print(
        f"deleted {events} event(s) and {deliveries} deliveries before {before:%Y-%m-%d %H:%M} UTC"
    )


@app.command("verify")
@handle_errors
def verify(
    ctx: typer.Context,
    secret: str = typer.Option(..., envvar="WEBHOOK_SECRET", help="The endpoint's whsec_ secret."),
    msg_id: str = typer.Option(..., "--id", help="The webhook-id header."),
    timestamp: str = typer.Option(..., help="The webhook-timestamp header."),
    signature: str = typer.Option(..., help="The webhook-signature header."),
    body: Path | None = typer.Option(None, help="File holding the exact body (default stdin)."),
) -> None:
    """Check a received message: exit 0 and print its id when a signature matches, exit 1
    when none does or the timestamp is more than 5 minutes off."""
    app_ctx: AppContext = ctx.obj
    raw = body.read_bytes() if body is not None else sys.stdin.buffer.read()
    headers = {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    checked = verify_message(secret, headers, raw, app_ctx.now)
    app_ctx.out.print(f"valid: {checked}")
