"""`dropscope investors [NAME]`: who backs what, and how many of those went on to airdrop."""

from __future__ import annotations

import typer
from rich.table import Table

from dropscope.cli.context import AppContext, parse_date
from dropscope.cli.errors import handle_errors
from dropscope.cli.output import Format, print_csv, print_json
from dropscope.services.research import investors as investors_service


def register(app: typer.Typer) -> None:
    @app.command("investors")
    @handle_errors
    def investors(
        ctx: typer.Context,
        name: str | None = typer.Argument(None, help="An investor's slug, name or alias."),
        as_of: str | None = typer.Option(None, help="Statuses as of this date (YYYY-MM-DD)."),
        fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="Output format."),
    ) -> None:
        """Investors and their researched portfolio; with NAME, one investor in detail."""
        app_ctx: AppContext = ctx.obj
        at = parse_date(as_of, app_ctx.now.date())
        with app_ctx.db().unit_of_work(read_only=True) as uow:
            views = investors_service(uow, at, name, app_ctx.params)
        if fmt is Format.JSON:
            print_json(
                app_ctx.out,
                {
                    "as_of": at,
                    "investors": [
                        {
                            "slug": v.investor.slug,
                            "name": v.investor.name,
                            "aliases": v.investor.aliases,
                            "website": v.investor.website,
                            "projects": v.portfolio,
                            "airdropped": v.airdropped,
                        }
                        for v in views
                    ],
                },
            )
            return
        if fmt is Format.CSV:
            rows = (
                [v.investor.slug, v.investor.name, b.project_slug, b.status.value, b.lead]
                for v in views
                for b in v.portfolio
            )
            print_csv(app_ctx.out, ["investor", "name", "project", "status", "lead"], rows)
            return
        if name is not None:
            for v in views:
                also = (
                    f" (also written {', '.join(v.investor.aliases)})" if v.investor.aliases else ""
                )
                app_ctx.out.print(
                    f"[bold]{v.investor.name}[/bold] [dim]{v.investor.slug}[/dim]{also}"
                )
                if v.investor.website:
                    app_ctx.out.print(v.investor.website)
                t = Table(header_style="bold")
                for col in ("Project", "Status", "Role", "Rounds"):
                    t.add_column(col)
                for b in v.portfolio:
                    t.add_row(
                        b.project_name,
                        b.status.label,
                        "lead" if b.lead else "participant",
                        ", ".join(b.rounds),
                    )
                app_ctx.out.print(t)
                app_ctx.out.print(
                    f"{v.airdropped} of {len(v.portfolio)} backed project(s) "
                    "reached confirmed or later."
                )
            return
        t = Table(title=f"Investors (as of {at})", title_justify="left", header_style="bold")
        for col in ("Investor", "Projects", "Airdrop ≥ confirmed", "Portfolio"):
            t.add_column(
                col, justify="right" if col in ("Projects", "Airdrop ≥ confirmed") else "left"
            )
        for v in views:
            t.add_row(
                v.investor.name,
                str(len(v.portfolio)),
                str(v.airdropped),
                ", ".join(b.project_name for b in v.portfolio) or "–",
            )
        app_ctx.out.print(t)
