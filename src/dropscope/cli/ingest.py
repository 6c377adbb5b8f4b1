"""`dropscope ingest`: refresh the research data from public sources.

Progress goes to stderr (one bar per source, with its request count); the summary (a table,
or JSON with `--format json`) to stdout. The exit code is 1 when a source failed, after the
others ran. `--watch --every 1h` repeats until Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors, one_line
from dropscope.cli.output import Format, print_json
from dropscope.errors import DropscopeError, InvalidInput
from dropscope.services.ingest import (
    IngestReport,
    SourceReport,
    options_from_settings,
    parse_every,
    parse_sources,
    run_ingest,
    watch,
)


class _Bars:
    """Rich progress: a bar per source, pulsing while it fetches, with its request count."""

    def __init__(self, console: Console, sources: list[str]) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<20}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {
            s: self.progress.add_task(s, total=None, start=False, status="waiting") for s in sources
        }
        self.requests: dict[str, int] = dict.fromkeys(sources, 0)

    def started(self, source: str) -> None:
        self.progress.start_task(self.tasks[source])
        self.progress.update(self.tasks[source], status="fetching")

    def request(self, source: str, url: str) -> None:
        self.requests[source] += 1
        n = self.requests[source]
        self.progress.update(self.tasks[source], status=f"{n} request(s)")

    def finished(self, report: SourceReport) -> None:
        task = self.tasks[report.source]
        if report.state == "error":
            status = "[red]failed[/red]"
        else:
            status = (
                f"[green]done[/green] {report.new} new, {report.updated} updated, "
                f"{report.unchanged} unchanged"
            )
        self.progress.update(task, total=1, completed=1, status=status)


def _summary(report: IngestReport) -> Table:
    title = "Ingest (dry run: nothing written)" if report.dry_run else "Ingest"
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in ("Source", "New", "Updated", "Unchanged", "Conflicts", "Errors", "Requests"):
        t.add_column(col, justify="left" if col == "Source" else "right")
    for s in report.sources:
        name = s.source + (" (304)" if s.not_modified else "")
        t.add_row(
            name,
            str(s.new),
            str(s.updated),
            str(s.unchanged),
            str(s.conflicts),
            f"[red]{s.errors}[/red]" if s.errors else "0",
            str(s.requests),
        )
    return t


def _print_report(ctx: AppContext, report: IngestReport, fmt: Format) -> None:
    if fmt is Format.JSON:
        print_json(ctx.out, report.as_dict())
        return
    ctx.out.print(_summary(report))
    for s in report.sources:
        if s.error:
            ctx.out.print(f"[red]error[/red] {s.source}: {s.error}", highlight=False)
        for problem in s.rejections:
            ctx.out.print(f"rejected {s.source}: {problem}", highlight=False, markup=False)
        for note in s.notes:
            ctx.out.print(f"note {s.source}: {note}", highlight=False, markup=False)
    for c in report.status_changes:
        ctx.out.print(
            f"status {c.project_slug}: {c.old.value if c.old else '–'} → {c.new.value} "
            f"(rule {c.rule}, effective {c.effective_on}, evidence {', '.join(c.evidence_ids)})",
            highlight=False,
        )
    if report.run_id is not None:
        ctx.out.print(f"run {report.run_id} recorded", style="dim", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    @handle_errors
    def ingest(
        ctx: typer.Context,
        source: list[str] = typer.Option(
            [],
            "--source",
            "-s",
            help="Source(s) to run (repeat or comma-separate): defillama-protocols, "
            "defillama-raises, defillama-airdrops, coingecko, github, or defillama for all "
            "three DefiLlama ones. Default: all, in that order.",
        ),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Fetch, match and diff, but write nothing."
        ),
        watch_: bool = typer.Option(
            False, "--watch", help="Keep running: refresh every --every until Ctrl-C."
        ),
        every: str = typer.Option("1h", "--every", help="Interval for --watch: 1h, 30m, 90s."),
        fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="table or json."),
        record: Path | None = typer.Option(
            None,
            "--record",
            help="Also write every JSON answer to DIR/<source>/ (the test fixture layout), "
            "to refresh recorded fixtures.",
        ),
        runs: int | None = typer.Option(None, "--runs", hidden=True, min=1),
    ) -> None:
        """Refresh projects from DefiLlama, CoinGecko and GitHub: evidence, funding, tokens,
        tech scores, each with its source (see docs/data-sources.md)."""
        app_ctx: AppContext = ctx.obj
        if fmt is Format.CSV:
            raise InvalidInput("ingest supports --format table or json")
        sources = parse_sources(source)
        seconds = parse_every(every)
        options = options_from_settings(
            app_ctx.settings, sources, dry_run=dry_run, record_dir=record
        )
        db = app_ctx.db()
        failed = False

        def once() -> IngestReport:
            nonlocal failed
            bars = _Bars(app_ctx.err, [s.value for s in sources])
            with bars.progress:
                report = run_ingest(db, options, progress=bars)
            failed = bool(report.failed)
            return report

        def show(report: IngestReport) -> None:
            _print_report(app_ctx, report, fmt)

        if not watch_:
            show(once())
            if failed:
                raise typer.Exit(1)
            return

        def guarded() -> IngestReport | None:
            try:
                return once()
            except DropscopeError as exc:  # e.g. the database went away: say so, carry on
                app_ctx.err.print(one_line(exc), highlight=False, markup=False)
                return None

        try:
            watch(guarded, seconds, max_runs=runs, on_report=show)
        except KeyboardInterrupt:
            app_ctx.err.print("stopped", highlight=False)
