"""`dropscope keys create|list|roll|disable|enable|revoke|expire|usage|audit`: API keys, from the
server's shell. The CLI acts as the instance operator: it sees and manages every account's
keys. Changes reach running API workers on their next request (keys version)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import typer
from rich.table import Table

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.cli.output import Format, print_json, shown
from dropscope.domain.keys import ApiKey, KeyStatus, parse_scopes
from dropscope.errors import InvalidInput
from dropscope.services import accounts as accounts_service
from dropscope.services.keys import Actor, CreatedKey, KeySpec, KeysService, keys_service

app = typer.Typer(help="API keys: create, list, roll, disable, enable, revoke, usage.")

_FMT = typer.Option(Format.TABLE, "--format", "-f", help="table or json.")
_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 86400}
_STYLE = {
    KeyStatus.ACTIVE: "green",
    KeyStatus.DISABLED: "yellow",
    KeyStatus.REVOKED: "red",
    KeyStatus.EXPIRED: "dim",
}


def parse_duration(text: str, option: str) -> timedelta:
    """`90d`, `12h`, `30m`, `45s` or a bare number of days."""
    m = _DURATION.match(text.strip().lower())
    if m is None:
        raise InvalidInput(f"{option} takes a duration such as 90d, 12h or 30m, not {text!r}")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def _service(ctx: typer.Context) -> tuple[AppContext, KeysService]:
    app_ctx: AppContext = ctx.obj
    return app_ctx, keys_service(app_ctx.settings, app_ctx.db(seed=False))


def key_json(key: ApiKey, now: datetime) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    return {
        "id": key.id,
        "account_id": key.account_id,
        "name": key.name,
        "display": key.display,
        "scopes": sorted(s.value for s in key.scopes),
        "plan": key.plan,
        "state": key.state.value,
        "status": key.status_at(now).value,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at),
        "expires_at": iso(key.expires_at),
        "valid_until": iso(key.valid_until),
        "ip_allowlist": list(key.ip_allowlist),
        "rolled_from": key.rolled_from,
        "rolled_to": key.rolled_to,
        "grace_until": iso(key.grace_until),
    }


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else "–"


def _table(keys: list[ApiKey], now: datetime, title: str) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in ("Id", "Key", "Name", "Account", "Scopes", "Plan", "Status", "Last used"):
        t.add_column(col)
    t.add_column("Until")
    for k in keys:
        status = k.status_at(now)
        t.add_row(
            k.id,
            k.display + "…",
            shown(k.name),
            k.account_id,
            ",".join(sorted(s.value for s in k.scopes)),
            k.plan,
            f"[{_STYLE[status]}]{status.value}[/]",
            _when(k.last_used_at),
            _when(k.valid_until),
        )
    return t


def _show_created(app_ctx: AppContext, created: CreatedKey, fmt: Format, **extra: Any) -> None:
    now = app_ctx.now
    if fmt is Format.JSON:
        print_json(
            app_ctx.out, {"key": key_json(created.key, now), "secret": created.secret, **extra}
        )
        return
    app_ctx.out.print(_table([created.key], now, "New key"))
    app_ctx.out.print(
        "The key, shown this once (it is stored only as a hash; keep it in a secret store):"
    )
    app_ctx.out.print(f"  {created.secret}", highlight=False, markup=False, soft_wrap=True)


@app.command("create")
@handle_errors
def create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", "-n", help="What the key is for."),
    scope: list[str] = typer.Option(["read"], "--scope", "-s", help="read, write, admin."),
    plan: str | None = typer.Option(None, help="Plan (default: the first configured)."),
    expires_in: str | None = typer.Option(None, help="Expire after e.g. 90d, 12h."),
    ip: list[str] = typer.Option([], "--ip", help="Allowed address or CIDR (repeatable)."),
    account: str | None = typer.Option(None, help="Account id (default: the operator's)."),
    fmt: Format = _FMT,
) -> None:
    """Create a key and print it once."""
    app_ctx, service = _service(ctx)
    now = app_ctx.now
    spec = KeySpec(
        name=name,
        scopes=parse_scopes(scope),
        plan=plan,
        expires_at=now + parse_duration(expires_in, "--expires-in") if expires_in else None,
        ip_allowlist=tuple(ip),
        account_id=account,
    )
    _show_created(app_ctx, service.create(Actor.local(), spec, now), fmt)


@app.command("list")
@handle_errors
def list_keys(
    ctx: typer.Context,
    account: str | None = typer.Option(None, help="Only this account's keys."),
    fmt: Format = _FMT,
) -> None:
    """Every key (never the keys themselves: their display form)."""
    app_ctx, service = _service(ctx)
    keys = service.list(Actor.local(), account)
    if fmt is Format.JSON:
        print_json(app_ctx.out, [key_json(k, app_ctx.now) for k in keys])
        return
    app_ctx.out.print(_table(keys, app_ctx.now, f"API keys ({len(keys)})"))


@app.command("roll")
@handle_errors
def roll(
    ctx: typer.Context,
    key_id: str = typer.Argument(..., help="The key's id (key_…)."),
    grace: str = typer.Option("24h", help="How long the old key keeps working (0: not)."),
    expires_in: str | None = typer.Option(None, help="The new key's expiry (default: the old's)."),
    fmt: Format = _FMT,
) -> None:
    """Issue a new key; the old one works for the grace period (never past its expiry)."""
    app_ctx, service = _service(ctx)
    now = app_ctx.now
    expiry: Any = now + parse_duration(expires_in, "--expires-in") if expires_in else ...
    created, old = service.roll(
        Actor.local(), key_id, now, parse_duration(grace, "--grace"), expiry
    )
    _show_created(app_ctx, created, fmt, previous=key_json(old, now))
    if fmt is Format.TABLE:
        app_ctx.out.print(f"{old.id} keeps working until {_when(old.valid_until)} UTC.")


def _state_command(name: str, doc: str) -> None:
    @app.command(name, help=doc)
    @handle_errors
    def command(
        ctx: typer.Context,
        key_id: str = typer.Argument(..., help="The key's id (key_…)."),
        fmt: Format = _FMT,
    ) -> None:
        app_ctx, service = _service(ctx)
        change = {"disable": service.disable, "enable": service.enable, "revoke": service.revoke}
        key = change[name](Actor.local(), key_id, app_ctx.now)
        if fmt is Format.JSON:
            print_json(app_ctx.out, key_json(key, app_ctx.now))
            return
        app_ctx.out.print(
            f"{key.id} ({key.display}…, {shown(key.name)}): {key.status_at(app_ctx.now)}"
        )


_state_command("disable", "Disable a key (reversible); effective on the next request.")
_state_command("enable", "Enable a disabled key.")
_state_command("revoke", "Revoke a key, permanently; effective on the next request.")


@app.command("expire")
@handle_errors
def expire(
    ctx: typer.Context,
    key_id: str = typer.Argument(..., help="The key's id (key_…)."),
    after: str = typer.Option("0", "--in", help="Expire after e.g. 7d, 12h (default: now)."),
    fmt: Format = _FMT,
) -> None:
    """Set a key's expiry (now, or sooner than it was)."""
    app_ctx, service = _service(ctx)
    now = app_ctx.now
    key = service.expire(Actor.local(), key_id, now, now + parse_duration(after, "--in"))
    if fmt is Format.JSON:
        print_json(app_ctx.out, key_json(key, now))
        return
    app_ctx.out.print(
        f"{key.id} ({key.display}…, {shown(key.name)}) expires {_when(key.expires_at)} UTC"
    )


@app.command("usage")
@handle_errors
def usage(
    ctx: typer.Context,
    account: str | None = typer.Option(None, help="Only this account's keys."),
    days: int = typer.Option(30, min=1, max=366, help="Days back, today included."),
    fmt: Format = _FMT,
) -> None:
    """Requests per key per UTC day (running servers write theirs every ~10 s)."""
    app_ctx, service = _service(ctx)
    since = app_ctx.now.date() - timedelta(days=days - 1)
    rows = accounts_service.usage(service, Actor.local(), since, account_id=account)
    if fmt is Format.JSON:
        print_json(
            app_ctx.out,
            [
                {
                    "key_id": u.key.id,
                    "account_id": u.key.account_id,
                    "name": u.key.name,
                    "total": u.total,
                    "days": [{"day": d.isoformat(), "count": n} for d, n in u.days],
                }
                for u in rows
            ],
        )
        return
    t = Table(title=f"Usage since {since}", title_justify="left", header_style="bold")
    for col in ("Id", "Name", "Account", "Total", "Last day", "Requests"):
        t.add_column(col, justify="right" if col in ("Total", "Requests") else "left")
    for u in rows:
        last = u.days[-1] if u.days else None
        t.add_row(
            u.key.id,
            shown(u.key.name),
            u.key.account_id,
            f"{u.total:,}",
            str(last[0]) if last else "–",
            f"{last[1]:,}" if last else "–",
        )
    app_ctx.out.print(t)


@app.command("audit")
@handle_errors
def audit(
    ctx: typer.Context,
    account: str | None = typer.Option(None, help="Only this account's events."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many, newest first."),
    fmt: Format = _FMT,
) -> None:
    """Key events, newest first: created, rolled, revoked, auth failures, anomalies..."""
    app_ctx, service = _service(ctx)
    events = accounts_service.audit(service, Actor.local(), limit=limit, account_id=account)
    if fmt is Format.JSON:
        print_json(app_ctx.out, events)
        return
    t = Table(title="Audit log", title_justify="left", header_style="bold")
    for col in ("At", "Event", "Key", "Account", "IP", "Detail"):
        t.add_column(col)
    for e in events:
        detail = shown(", ".join(f"{k}={v}" for k, v in e.detail.items()))
        t.add_row(
            _when(e.at),
            e.kind.value,
            e.key_id or "–",
            e.account_id or "–",
            shown(e.ip or "–"),
            detail,
        )
    app_ctx.out.print(t)
