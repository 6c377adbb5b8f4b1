"""`dropscope airdrops`: the board, grouped by status like the article."""

from __future__ import annotations

from typing import Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from dropscope.cli.context import AppContext, parse_date
from dropscope.cli.errors import handle_errors
from dropscope.cli.output import (
    STATUS_STYLE,
    Format,
    print_csv,
    print_json,
    score,
    usd,
)
from dropscope.domain.assess import Assessment
from dropscope.domain.status import AirdropStatus
from dropscope.errors import InvalidInput
from dropscope.services.board import Board, BoardQuery
from dropscope.services.board import board as board_service


def parse_statuses(values: list[str]) -> tuple[AirdropStatus, ...]:
    out = []
    for raw in (v.strip() for value in values for v in value.split(",")):
        key = raw.lower().replace(" ", "_").replace("-", "_")
        try:
            out.append(AirdropStatus(key))
        except ValueError:
            choices = ", ".join(s.value for s in AirdropStatus)
            raise InvalidInput(f"unknown status {raw!r}; choose from {choices}") from None
    return tuple(out)


def entry_json(a: Assessment) -> dict[str, Any]:
    p = a.project
    return {
        "slug": p.slug,
        "name": p.name,
        "status": a.status.value,
        "status_rule": a.classification.rule,
        "status_reason": a.classification.explanation,
        "status_headline": a.classification.headline,
        "evidence_ids": list(a.classification.evidence_ids),
        "sector": p.sector,
        "chains": list(p.chains),
        "narratives": list(p.narratives),
        "scores": {
            "tech": a.tech.value if a.tech else None,
            "fundamentals": a.fundamentals.value if a.fundamentals else None,
            "fundamentals_method": a.fundamentals.method.value if a.fundamentals else None,
            "potential": a.potential.value,
        },
        "potential_breakdown": [
            {"factor": f.name, "value": f.value, "weight": f.weight, "contribution": f.contribution}
            for f in a.potential.factors
        ],
        "raised_usd": a.raised_usd,
        "valuation_usd": a.valuation_usd,
        "investors": list(p.investor_slugs),
        "listed": a.inclusion.listed,
        "inclusion_reason": a.inclusion.reason,
    }


def _table(status: AirdropStatus, items: list[Assessment], wide: bool) -> Table:
    t = Table(
        title=Text(f"{status.label.upper()} ({len(items)})", style=STATUS_STYLE[status.value]),
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    t.add_column("Project", no_wrap=True)
    t.add_column("Tech", justify="right")
    t.add_column("Fund.", justify="right")
    t.add_column("Pot.", justify="right", style="bold")
    t.add_column("Raised", justify="right", no_wrap=True)
    t.add_column("Valuation", justify="right", no_wrap=True)
    if wide:
        t.add_column("Narratives")
    t.add_column("Why", overflow="fold")
    for a in items:
        fund = score(a.fundamentals.value) if a.fundamentals else "–"
        if a.fundamentals and a.fundamentals.method.value == "computed":
            fund += "ᶜ"
        qual = next((r.amount_qualifier for r in a.project.funding_rounds if r.amount_usd), None)
        raised = usd(a.raised_usd) + ("+" if qual in ("over", "at least") else "")
        row: list[str | Text] = [
            Text(a.project.name),
            score(a.tech.value if a.tech else None),
            fund,
            f"{a.potential.value:.0f}",
            raised,
            usd(a.valuation_usd),
        ]
        if wide:
            row.append(", ".join(a.project.narratives))
        row.append(a.classification.headline)
        t.add_row(*row)
    return t


def render(ctx: AppContext, result: Board, fmt: Format, query: BoardQuery) -> None:
    if fmt is Format.JSON:
        print_json(
            ctx.out,
            {
                "as_of": result.at,
                "sort": query.sort,
                "count": len(result.entries),
                "projects": [entry_json(a) for a in result.entries],
            },
        )
        return
    if fmt is Format.CSV:
        header = ["slug", "name", "status", "tech", "fundamentals", "potential"]
        header += ["raised_usd", "valuation_usd", "narratives", "investors"]
        print_csv(
            ctx.out,
            header,
            (
                [
                    a.project.slug,
                    a.project.name,
                    a.status.value,
                    a.tech.value if a.tech else None,
                    a.fundamentals.value if a.fundamentals else None,
                    a.potential.value,
                    a.raised_usd,
                    a.valuation_usd,
                    ";".join(a.project.narratives),
                    ";".join(a.project.investor_slugs),
                ]
                for a in result.entries
            ),
        )
        return
    out = ctx.out
    out.print(
        f"[bold]dropscope airdrop board[/bold] — as of {result.at} · "
        f"{len(result.entries)} project(s) · sorted by {query.sort}"
    )
    if not result.entries:
        out.print("No project matches these filters.")
    for status, items in result.grouped():
        out.print()
        out.print(_table(status, items, wide=out.width >= 120))
    out.print()
    out.print(
        "[dim]Scores 0–100 · Pot. = airdrop potential · ᶜ computed from funding, valuation "
        "and investors · + at least · `dropscope project NAME` explains any row · "
        "not financial advice.[/dim]"
    )


def register(app: typer.Typer) -> None:
    @app.command("airdrops")
    @handle_errors
    def airdrops(
        ctx: typer.Context,
        status: list[str] = typer.Option(
            [], "--status", "-s", help="Only these statuses (repeat or comma list)."
        ),
        narrative: str | None = typer.Option(None, help="Only projects with this narrative."),
        chain: str | None = typer.Option(None, help="Only projects on this chain."),
        sector: str | None = typer.Option(None, help="Only projects in this sector."),
        investor: str | None = typer.Option(None, help="Only projects this investor backs."),
        min_tech: float | None = typer.Option(None, min=0, max=100, help="Minimum tech score."),
        search: str | None = typer.Option(None, "--search", "-q", help="Text search."),
        as_of: str | None = typer.Option(
            None, help="Show the board as it stood on this date (YYYY-MM-DD)."
        ),
        sort: str = typer.Option("-potential,name", help="Sort fields, '-' for descending."),
        limit: int | None = typer.Option(None, min=1, help="At most this many projects."),
        all_projects: bool = typer.Option(
            False, "--all", help="Include projects the inclusion policy leaves out."
        ),
        fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="Output format."),
    ) -> None:
        """The airdrop board: confirmed, likely, possible (and later stages), by potential."""
        app_ctx: AppContext = ctx.obj
        query = BoardQuery(
            statuses=parse_statuses(status),
            narrative=narrative,
            chain=chain,
            sector=sector,
            investor=investor,
            min_tech=min_tech,
            text=search,
            sort=sort,
            limit=limit,
            include_excluded=all_projects,
        )
        at = parse_date(as_of, app_ctx.now.date())
        with app_ctx.db().unit_of_work(read_only=True) as uow:
            result = board_service(uow, at, query, app_ctx.params)
        render(app_ctx, result, fmt, query)
