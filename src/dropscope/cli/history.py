"""`dropscope history`: past airdrops with their figures, each with its source."""

from __future__ import annotations

import typer
from rich.table import Table

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.cli.output import Format, print_csv, print_json, usd
from dropscope.domain.models import Figure, FigureMetric, PastAirdrop
from dropscope.domain.scoring import format_compact
from dropscope.services.research import past_airdrops

_M = FigureMetric


def _fmt(f: Figure, ref: int, money: bool) -> str:
    value = usd(f.value) if money else format_compact(f.value, smallest=1e6)
    if f.metric is _M.SHARE_OF_SUPPLY:
        value = f"{f.value:g}%"
    text = f"{f.qualifier + ' ' if f.qualifier else ''}{value}"
    return f"{text}{'*' if f.derived else ''} [{ref}]"


def register(app: typer.Typer) -> None:
    @app.command("history")
    @handle_errors
    def history(
        ctx: typer.Context,
        fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="Output format."),
    ) -> None:
        """Past airdrops: dates, amounts, recipients and value, each figure with its source."""
        app_ctx: AppContext = ctx.obj
        with app_ctx.db().unit_of_work(read_only=True) as uow:
            airdrops, sources = past_airdrops(uow)
        if fmt is Format.JSON:
            print_json(app_ctx.out, {"past_airdrops": airdrops, "sources": sources})
            return
        if fmt is Format.CSV:
            rows = (
                [
                    a.slug,
                    a.token_symbol,
                    a.snapshot_on,
                    a.claim_start,
                    a.claim_end,
                    f.metric.value,
                    f.value,
                    f.qualifier,
                    f.derived,
                    f.citation.source_id,
                    f.note,
                ]
                for a in airdrops
                for f in a.figures
            )
            header = [
                "airdrop",
                "token",
                "snapshot_on",
                "claim_start",
                "claim_end",
                "metric",
                "value",
                "qualifier",
                "derived",
                "source",
                "note",
            ]
            print_csv(app_ctx.out, header, rows)
            return
        refs: dict[str, int] = {}

        def ref(source_id: str) -> int:
            return refs.setdefault(source_id, len(refs) + 1)

        def cell(a: PastAirdrop, metric: FigureMetric, money: bool = False) -> str:
            figures = a.figure(metric)
            return " / ".join(_fmt(f, ref(f.citation.source_id), money) for f in figures) or "–"

        t = Table(title="Past airdrops", title_justify="left", header_style="bold", show_lines=True)
        t.add_column("Airdrop")
        t.add_column("Dates", no_wrap=True)
        for col in ("Tokens", "Recipients", "Per recipient", "Value"):
            t.add_column(col)
        for a in airdrops:
            dates = f"snapshot {a.snapshot_on or '?'}\nclaim {a.claim_start or '?'}"
            if a.claim_end:
                dates += f"\n   to {a.claim_end}"
            per = [
                cell(a, m)
                for m in (
                    _M.TOKENS_PER_RECIPIENT_MEAN,
                    _M.TOKENS_PER_RECIPIENT_MEDIAN,
                    _M.TOKENS_PER_RECIPIENT_MIN,
                    _M.TOKENS_PER_RECIPIENT_MAX,
                )
            ]
            labels = ("mean", "median", "min", "max")
            per_text = "\n".join(
                f"{lab} {v}" for lab, v in zip(labels, per, strict=True) if v != "–"
            )
            value = "\n".join(
                f"{label} {v}"
                for label, v in (
                    ("total", cell(a, _M.VALUE_AT_LAUNCH_USD, True)),
                    ("per recipient", cell(a, _M.VALUE_PER_RECIPIENT_USD, True)),
                )
                if v != "–"
            )
            tokens = cell(a, _M.TOKENS_DISTRIBUTED)
            share = a.figure(_M.SHARE_OF_SUPPLY)
            if share:
                tokens += f"\n({share[0].value:g}% of supply)"
            t.add_row(
                f"{a.name}\n{a.token_symbol}",
                dates,
                tokens,
                cell(a, _M.RECIPIENTS),
                per_text or "–",
                value or "–",
            )
        app_ctx.out.print(t)
        app_ctx.out.print("[dim]* derived by dropscope (tokens ÷ recipients), not published.[/dim]")
        app_ctx.out.print("[bold]Sources[/bold]")
        for source_id, n in refs.items():
            s = sources.get(source_id)
            label = (
                f"{s.publisher}: {s.title}" + (f" — {s.url}" if s.url else "") if s else source_id
            )
            app_ctx.out.print(f"  [{n}] {label}", highlight=False)
