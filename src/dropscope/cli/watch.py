"""`dropscope watch add|list|show|update|remove|events`: watchlists and their event feed, from
the server's shell. The CLI acts for the operator's account unless `--account` names
another."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.cli.output import Format, print_json, shown
from dropscope.domain.events import Event, parse_types
from dropscope.domain.watchlists import SavedFilter, Watchlist
from dropscope.services import watchlists as service

app = typer.Typer(help="Watchlists: projects by slug or saved board filters; the event feed.")

_FMT = typer.Option(Format.TABLE, "--format", "-f", help="table or json.")
_ACCOUNT = typer.Option(None, "--account", help="Account id (default: the operator's).")


def watchlist_json(w: Watchlist) -> dict[str, Any]:
    return {
        "id": w.id,
        "account_id": w.account_id,
        "name": w.name,
        "slugs": list(w.slugs),
        "filters": [f.to_json() for f in w.filters],
        "created_at": w.created_at.isoformat(),
        "updated_at": w.updated_at.isoformat(),
    }


def _show(app_ctx: AppContext, w: Watchlist, fmt: Format) -> None:
    if fmt is Format.JSON:
        print_json(app_ctx.out, watchlist_json(w))
        return
    filters = shown("; ".join(_describe(f) for f in w.filters) or "–")
    slugs = shown(", ".join(w.slugs) or "–")
    app_ctx.out.print(f"{shown(w.id)} [bold]{shown(w.name)}[/bold]: {slugs} | {filters}")


def _describe(f: SavedFilter) -> str:
    parts = [f"{k}={v}" for k, v in f.to_json().items() if v not in (None, [])]
    return " ".join(parts)


@app.command("add")
@handle_errors
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name for the watchlist."),
    slugs: list[str] = typer.Argument(None, help="Project slugs to watch."),
    status: list[str] = typer.Option([], "--status", help="Saved filter: status (repeat)."),
    narrative: str | None = typer.Option(None, help="Saved filter: narrative, e.g. zk-rollups."),
    chain: str | None = typer.Option(None, help="Saved filter: chain."),
    sector: str | None = typer.Option(None, help="Saved filter: sector."),
    investor: str | None = typer.Option(None, help="Saved filter: investor slug."),
    min_tech: float | None = typer.Option(None, help="Saved filter: tech score at least."),
    min_fundamentals: float | None = typer.Option(
        None, help="Saved filter: fundamentals at least."
    ),
    text: str | None = typer.Option(None, help="Saved filter: text in name or summary."),
    account: str | None = _ACCOUNT,
    fmt: Format = _FMT,
) -> None:
    """Create a watchlist of SLUGS and/or one saved filter (the board's filter options)."""
    app_ctx: AppContext = ctx.obj
    doc = {
        "statuses": status,
        "narrative": narrative,
        "chain": chain,
        "sector": sector,
        "investor": investor,
        "min_tech": min_tech,
        "min_fundamentals": min_fundamentals,
        "text": text,
    }
    wants_filter = any(v not in (None, []) for v in doc.values())
    db = app_ctx.db()
    with db.unit_of_work() as uow:
        owner = service.account_for(uow, account, app_ctx.now)
        filters = service.parse_filters([doc]) if wants_filter else ()
        w = service.create(uow, owner.id, name, list(slugs or []), filters, app_ctx.now)
    _show(app_ctx, w, fmt)


@app.command("list")
@handle_errors
def list_(ctx: typer.Context, account: str | None = _ACCOUNT, fmt: Format = _FMT) -> None:
    """The account's watchlists."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db().unit_of_work() as uow:
        owner = service.account_for(uow, account, app_ctx.now)
        found = uow.watchlists.for_account(owner.id)
    if fmt is Format.JSON:
        print_json(app_ctx.out, [watchlist_json(w) for w in found])
        return
    if not found:
        app_ctx.out.print("No watchlists yet: dropscope watch add NAME SLUG...")
    for w in found:
        _show(app_ctx, w, fmt)


@app.command("update")
@handle_errors
def update(
    ctx: typer.Context,
    watchlist_id: str = typer.Argument(..., help="The watchlist's id (wl_…)."),
    add_slug: list[str] = typer.Option([], "--add", help="Watch this slug too (repeat)."),
    remove_slug: list[str] = typer.Option([], "--remove", help="Stop watching it (repeat)."),
    name: str | None = typer.Option(None, help="A new name."),
    account: str | None = _ACCOUNT,
    fmt: Format = _FMT,
) -> None:
    """Add or remove slugs, or rename."""
    app_ctx: AppContext = ctx.obj
    patch = {"add": add_slug, "remove": remove_slug, "name": name}
    with app_ctx.db().unit_of_work() as uow:
        owner = service.account_for(uow, account, app_ctx.now)
        w = service.update(uow, owner.id, watchlist_id, patch, app_ctx.now)
    _show(app_ctx, w, fmt)


@app.command("remove")
@handle_errors
def remove(
    ctx: typer.Context,
    watchlist_id: str = typer.Argument(..., help="The watchlist's id (wl_…)."),
    account: str | None = _ACCOUNT,
) -> None:
    """Delete a watchlist (its events stay in the feed)."""
    app_ctx: AppContext = ctx.obj
    with app_ctx.db().unit_of_work() as uow:
        owner = service.account_for(uow, account, app_ctx.now)
        service.delete(uow, owner.id, watchlist_id)
    app_ctx.out.print(f"removed {shown(watchlist_id)}")


@app.command("events")
@handle_errors
def events(
    ctx: typer.Context,
    type_: list[str] = typer.Option([], "--type", help="Only these event types (repeat)."),
    project: str | None = typer.Option(None, help="Only this project's events."),
    after: int | None = typer.Option(None, help="Only events after this sequence number."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many, oldest first."),
    account: str | None = _ACCOUNT,
    fmt: Format = _FMT,
) -> None:
    """The account's event feed."""
    app_ctx: AppContext = ctx.obj
    types = [t.value for t in parse_types(type_)]
    with app_ctx.db().unit_of_work() as uow:
        owner = service.account_for(uow, account, app_ctx.now)
        found = uow.events.list(owner.id, after=after, types=types, project=project, limit=limit)
    if fmt is Format.JSON:
        print_json(app_ctx.out, [event_json(e) for e in found])
        return
    t = Table(title="Events", title_justify="left", header_style="bold")
    for col in ("Seq", "At", "Type", "Project", "Id"):
        t.add_column(col)
    for e in found:
        t.add_row(
            str(e.seq),
            e.occurred_at.isoformat(timespec="seconds"),
            e.type.value,
            shown(e.project_slug),
            shown(e.id),
        )
    app_ctx.out.print(t)


def event_json(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "id": e.id, **e.payload()}
