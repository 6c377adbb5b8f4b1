"""`dropscope data validate|load`: check the curated files, load them into the database."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.errors import DataFileError
from dropscope.services import data as data_service

app = typer.Typer(
    help="Curated research data: validate the files, load them.", no_args_is_help=True
)

_DIR = typer.Option(None, "--dir", help="Data folder (default: DROPSCOPE_DATA_DIR or ./data).")


def _print_problems(ctx: AppContext, err: DataFileError) -> None:
    for file, field, msg in err.problems:
        ctx.err.print(f"{file}: {field}: {msg}", highlight=False, markup=False, soft_wrap=True)


@app.command("validate")
@handle_errors
def validate(ctx: typer.Context, data_dir: Path | None = _DIR) -> None:
    """Check every data file strictly; list every problem with its file and field."""
    app_ctx: AppContext = ctx.obj
    folder = data_dir or app_ctx.settings.data_dir
    try:
        ds = data_service.validate(folder, app_ctx.now)
    except DataFileError as exc:
        _print_problems(app_ctx, exc)
        raise
    app_ctx.out.print(
        f"OK: {len(ds.projects)} projects, {len(ds.past_airdrops)} past airdrops, "
        f"{len(ds.investors)} investors, {len(ds.peers)} peers, {len(ds.sources)} sources "
        f"in {folder}",
        highlight=False,
    )


@app.command("load")
@handle_errors
def load(
    ctx: typer.Context,
    data_dir: Path | None = _DIR,
    prune: bool = typer.Option(False, help="Delete projects that are not in the files."),
    quiet: bool = typer.Option(False, "--quiet", help="Print only a one-line summary."),
) -> None:
    """Validate, then load the files into the database (idempotent; one transaction)."""
    app_ctx: AppContext = ctx.obj
    folder = data_dir or app_ctx.settings.data_dir
    db = app_ctx.db(seed=False)
    try:
        report = data_service.load(db, folder, app_ctx.now, prune=prune)
    except DataFileError as exc:
        _print_problems(app_ctx, exc)
        raise
    changed = sum(c["created"] + c["updated"] for c in report.counts.values())
    summary = (
        f"Loaded {folder}: {changed} record(s) created or updated, "
        f"{len(report.status_changes)} status change(s) recorded."
    )
    if quiet:
        app_ctx.err.print(summary, highlight=False)
        return
    t = Table(title="Load", title_justify="left", header_style="bold")
    for col in ("Kind", "Created", "Updated", "Unchanged"):
        t.add_column(col, justify="left" if col == "Kind" else "right")
    for kind, c in report.counts.items():
        t.add_row(kind, str(c["created"]), str(c["updated"]), str(c["unchanged"]))
    app_ctx.out.print(t)
    for kind, keys in report.changed.items():
        app_ctx.out.print(f"{kind} written: {', '.join(keys)}", highlight=False)
    for s in report.status_changes:
        app_ctx.out.print(
            f"status {s.project_slug}: {s.old.value if s.old else '–'} → {s.new.value} "
            f"(rule {s.rule}, effective {s.effective_on})",
            highlight=False,
        )
    if report.not_in_files:
        app_ctx.out.print(
            f"In the database but not in the files (kept): {', '.join(report.not_in_files)}"
        )
    if report.pruned:
        app_ctx.out.print(f"Deleted (not in the files): {', '.join(report.pruned)}")
    app_ctx.out.print(summary, highlight=False)
