"""`dropscope project SLUG` and `dropscope compare SLUG SLUG...`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dropscope.cli.board import entry_json
from dropscope.cli.context import AppContext, parse_date
from dropscope.cli.errors import handle_errors
from dropscope.cli.output import STATUS_STYLE, Format, print_json, score, usd
from dropscope.cli.sources import render_sources, sources_json
from dropscope.domain.models import Citation
from dropscope.errors import InvalidInput
from dropscope.services.ingest import project_sources
from dropscope.services.research import Profile
from dropscope.services.research import compare as compare_service
from dropscope.services.research import profile as profile_service


def _cite(p: Profile, c: Citation | None) -> str:
    if c is None:
        return "computed by dropscope"
    src = p.sources.get(c.source_id)
    title = f"{src.publisher}: {src.title}" if src else c.source_id
    return f"{title} (as of {c.as_of})"


def profile_json(p: Profile) -> dict[str, Any]:
    a = p.assessment
    pr = a.project
    data = entry_json(a)
    data.update(
        summary=pr.summary,
        website=pr.website,
        official_domains=list(pr.official_domains),
        aliases=list(pr.aliases),
        token=pr.token,
        token_state=a.classification.token_state.value,
        testnet=pr.testnet,
        points_program=pr.points_program,
        score_details=[s for s in (a.tech, a.fundamentals) if s is not None],
        evidence=list(pr.evidence),
        status_history=list(p.history),
        recorded_status_changes=list(p.recorded),
        funding_rounds=list(pr.funding_rounds),
        investor_names={s: i.name for s, i in p.investors.items()},
        competitors=list(p.competitors),
        profile_citation=pr.citation,
        as_of=a.at,
    )
    return data


def _render_profile(p: Profile) -> Group:
    a = p.assessment
    pr = a.project
    c = a.classification
    head = Text.assemble((pr.name, "bold"), "  ", (pr.slug, "dim"), "  ", pr.sector)
    if pr.aliases:
        head.append(f"  (also: {', '.join(pr.aliases)})", style="dim")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Summary", pr.summary)
    facts.add_row("Chains", ", ".join(pr.chains) or "–")
    facts.add_row("Narratives", ", ".join(pr.narratives) or "–")
    facts.add_row("Website", pr.website or "–")
    token = pr.token.symbol or "none known"
    facts.add_row("Token", f"{token} ({c.token_state.value})")
    if pr.testnet:
        facts.add_row("Testnet", f"{pr.testnet.name} — {_cite(p, pr.testnet.citation)}")
    if pr.points_program:
        facts.add_row(
            "Points", f"{pr.points_program.name} — {_cite(p, pr.points_program.citation)}"
        )
    facts.add_row(
        "Status",
        Text.assemble(
            (c.status.label.upper(), STATUS_STYLE[c.status.value]),
            f"  rule {c.rule}: {c.explanation}",
        ),
    )
    facts.add_row("Listed", f"{'yes' if a.inclusion.listed else 'no'} — {a.inclusion.reason}")
    facts.add_row("Source", _cite(p, pr.citation))

    scores = Table(title="Scores", title_justify="left", header_style="bold")
    for col in ("Score", "Value", "How", "Source / breakdown"):
        scores.add_column(col)
    for s in (a.tech, a.fundamentals):
        if s is None:
            continue
        detail = _cite(p, s.citation)
        if s.breakdown:
            detail = "; ".join(
                f"{b.name} {score(b.value)} (w {b.weight:g}, {b.detail})" for b in s.breakdown
            )
        scores.add_row(s.kind.value, score(s.value), f"{s.method.value}: {s.label}", detail)
    pot = Table(
        title=f"Airdrop potential {a.potential.value:g}/100",
        title_justify="left",
        header_style="bold",
    )
    for col in ("Factor", "Value", "Weight", "Points", "Input"):
        pot.add_column(col, justify="right" if col in ("Value", "Weight", "Points") else "left")
    for f in a.potential.factors:
        value = "unknown" if f.value is None else f"{f.value:g}"
        pot.add_row(f.name, value, f"{f.weight:.2f}", f"{f.contribution:.1f}", f.detail)

    ev = Table(title="Evidence (timeline)", title_justify="left", header_style="bold")
    for col in ("Happened", "Public", "Kind", "What", "Source"):
        ev.add_column(col)
    rests = set(c.evidence_ids)
    for e in sorted(pr.evidence, key=lambda e: (e.known_on, e.id)):
        mark = "► " if e.id in rests else ""
        what = e.summary + (f" (until {e.window_end})" if e.window_end else "")
        ev.add_row(
            str(e.occurred_on), str(e.public_on), mark + e.kind.value, what, _cite(p, e.citation)
        )
    hist = Table(title="Status history", title_justify="left", header_style="bold")
    for col in ("From", "Status", "Rule"):
        hist.add_column(col)
    for h in p.history:
        hist.add_row(str(h.effective_on), h.new.label, h.rule)

    rounds = Table(title="Funding", title_justify="left", header_style="bold")
    for col in ("Round", "Date", "Amount", "Valuation", "Investors", "Source"):
        rounds.add_column(col)
    for r in pr.funding_rounds:
        lead = [
            f"{p.investors[s].name if s in p.investors else s} (lead)" for s in r.lead_investors
        ]
        other = [p.investors[s].name if s in p.investors else s for s in r.other_investors]
        rounds.add_row(
            r.round,
            str(r.announced_on or "–"),
            usd(r.amount_usd, r.amount_qualifier),
            usd(r.valuation_usd),
            ", ".join(lead + other) or "–",
            _cite(p, r.citation) + (f" — {r.note}" if r.note else ""),
        )
    comps = ", ".join(c.name + ("" if c.researched else " (not researched)") for c in p.competitors)
    parts: list[Any] = [Panel(facts, title=head, title_align="left"), scores, pot, ev, hist]
    if pr.funding_rounds:
        parts.append(rounds)
    parts.append(Text.assemble(("Competitors: ", "bold"), comps or "–"))
    if p.recorded and (last := p.recorded[-1]).recorded_at:
        parts.append(
            Text(
                f"Last recorded status change: {last.old or '–'} → {last.new} "
                f"(noticed {last.recorded_at:%Y-%m-%d %H:%M} UTC)",
                style="dim",
            )
        )
    return Group(*parts)


def _compare_table(profiles: list[Profile]) -> Table:
    t = Table(title="Comparison", title_justify="left", header_style="bold", show_lines=True)
    t.add_column("")
    for p in profiles:
        t.add_column(p.assessment.project.name)

    def numeric_row(label: str, values: Sequence[float | Decimal | None], fmt: Any) -> None:
        known = [v for v in values if v is not None]
        best = max(known) if len(known) > 1 and len(set(known)) > 1 else None
        cells = [
            Text(fmt(v), style="bold green" if best is not None and v == best else "")
            for v in values
        ]
        t.add_row(label, *cells)

    def text_row(label: str, values: list[str]) -> None:
        same = len(set(values)) == 1
        t.add_row(label, *[Text(v, style="dim" if same else "") for v in values])

    A = [p.assessment for p in profiles]
    text_row("Status", [a.status.label for a in A])
    text_row("Sector", [a.project.sector for a in A])
    numeric_row("Tech", [a.tech.value if a.tech else None for a in A], score)
    numeric_row(
        "Fundamentals", [a.fundamentals.value if a.fundamentals else None for a in A], score
    )
    numeric_row("Potential", [a.potential.value for a in A], score)
    numeric_row("Raised", [a.raised_usd for a in A], usd)
    numeric_row("Valuation", [a.valuation_usd for a in A], usd)
    text_row("Narratives", [", ".join(a.project.narratives) for a in A])
    text_row("Chains", [", ".join(a.project.chains) for a in A])
    text_row(
        "Investors", [", ".join(i.name for i in p.investors.values()) or "–" for p in profiles]
    )
    text_row("Competitors", [", ".join(c.name for c in p.competitors) or "–" for p in profiles])
    text_row("Why this status", [a.classification.explanation for a in A])
    return t


def register(app: typer.Typer) -> None:
    @app.command("project")
    @handle_errors
    def project(
        ctx: typer.Context,
        slug: str = typer.Argument(..., help="Project slug, name or alias."),
        as_of: str | None = typer.Option(None, help="As it stood on this date (YYYY-MM-DD)."),
        fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="table or json."),
    ) -> None:
        """A project's profile: scores, status with its evidence and history, funding."""
        app_ctx: AppContext = ctx.obj
        if fmt is Format.CSV:
            raise InvalidInput("project supports --format table or json")
        at = parse_date(as_of, app_ctx.now.date())
        with app_ctx.db().unit_of_work(read_only=True) as uow:
            p = profile_service(uow, slug, at, app_ctx.params)
            sources = project_sources(uow, p.assessment.project.slug)
        if fmt is Format.JSON:
            print_json(app_ctx.out, {**profile_json(p), **sources_json(sources)})
        else:
            app_ctx.out.print(_render_profile(p))
            if sources:
                app_ctx.out.print(render_sources(sources))

    @app.command("compare")
    @handle_errors
    def compare(
        ctx: typer.Context,
        slugs: list[str] = typer.Argument(..., help="Two or more project slugs."),
        as_of: str | None = typer.Option(None, help="As they stood on this date (YYYY-MM-DD)."),
        fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="table or json."),
    ) -> None:
        """Projects side by side, like an analyst's comparison table (best value in green)."""
        app_ctx: AppContext = ctx.obj
        if fmt is Format.CSV:
            raise InvalidInput("compare supports --format table or json")
        at = parse_date(as_of, app_ctx.now.date())
        with app_ctx.db().unit_of_work(read_only=True) as uow:
            found = compare_service(uow, slugs, at, app_ctx.params)
        if fmt is Format.JSON:
            print_json(
                app_ctx.out, {"as_of": at, "projects": [entry_json(p.assessment) for p in found]}
            )
        else:
            app_ctx.out.print(_compare_table(found))
