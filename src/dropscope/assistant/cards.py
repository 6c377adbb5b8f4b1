"""Rendered cards: one short, sourced text per project, investor and past airdrop.

Cards are built from the database's domain objects (never typed by hand), so they change
exactly when the data does. Each fact line names its source id and as-of date, and the
card's metadata lists every source it cites.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from dropscope.assistant.documents import Document
from dropscope.domain.assess import Assessment
from dropscope.domain.models import Citation, FigureMetric, Investor, PastAirdrop


def money(value: Decimal | None, qualifier: str | None = None) -> str:
    """$3.4 million, $120 million, $8 billion; qualifier kept ("over $100 million")."""
    if value is None:
        return "undisclosed"
    v = float(value)
    if v >= 1e9:
        text = f"${v / 1e9:,.2f}".rstrip("0").rstrip(".") + " billion"
    elif v >= 1e6:
        text = f"${v / 1e6:,.2f}".rstrip("0").rstrip(".") + " million"
    else:
        text = f"${v:,.0f}"
    return f"{qualifier} {text}" if qualifier else text


def number(value: Decimal) -> str:
    """1,162,000,000 / 11.62 / 0.5: thousands separated, no trailing zeros."""
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def _cite(c: Citation | None) -> str:
    return f" [source: {c.source_id}, as of {c.as_of}]" if c else ""


def _meta(kind: str, slug: str, citations: Iterable[Citation | None], at: date) -> dict[str, str]:
    cited = [c for c in citations if c is not None]
    sources = sorted({c.source_id for c in cited})
    latest = max((c.as_of for c in cited), default=None)
    return {
        "kind": kind,
        "slug": slug,
        "sources": ",".join(sources),
        "as_of": str(latest) if latest else "",
        "rendered_on": at.isoformat(),
    }


def project_card(a: Assessment, names: Mapping[str, str]) -> Document:
    """A project's card: profile, status on the assessment date, scores, money, timeline."""
    p = a.project
    inv = [names.get(s, s) for s in p.investor_slugs]
    lines = [
        f"{p.name} ({p.slug}) is a {p.sector.replace('-', ' ')} project. {p.summary}"
        + _cite(p.citation),
        f"Airdrop status of {p.name} as of {a.at}: {a.status.label} "
        f"({a.classification.explanation}).",
    ]
    if a.tech:
        lines.append(f"{p.name} has a tech score of {a.tech.value:g}{_cite(a.tech.citation)}.")
    if a.fundamentals:
        how = "computed by dropscope" if a.fundamentals.method == "computed" else "published"
        lines.append(
            f"{p.name} has a fundamentals score of {a.fundamentals.value:g} ({how})"
            f"{_cite(a.fundamentals.citation)}."
        )
    if p.aliases:
        lines.append(f"{p.name} is also written (or was formerly named): {', '.join(p.aliases)}.")
    if p.narratives:
        lines.append(f"Narratives of {p.name}: {', '.join(p.narratives)}.")
    if p.chains:
        lines.append(f"Chains: {', '.join(p.chains)}.")
    if p.competitors:
        comp = ", ".join(names.get(c, c) for c in p.competitors)
        lines.append(f"Competitors of {p.name}: {comp}.")
    for r in p.funding_rounds:
        who = ", ".join(names.get(s, s) for s in r.investors) or "investors not named"
        val = f" at a {money(r.valuation_usd)} valuation" if r.valuation_usd else ""
        rnd = "in total" if r.round == "total" else f"in its {r.round} round"
        lines.append(
            f"{p.name} raised {money(r.amount_usd, r.amount_qualifier)} {rnd}{val}; "
            f"investors: {who}{_cite(r.citation)}."
        )
    if inv:
        lines.append(f"Investors in {p.name}: {', '.join(inv)}.")
    for label, prog in (("testnet", p.testnet), ("points programme", p.points_program)):
        if prog:
            lines.append(f"{p.name}'s {label}: {prog.name}{_cite(prog.citation)}.")
    if p.token.symbol:
        lines.append(f"Token: {p.token.symbol}.")
    for e in sorted(p.evidence, key=lambda e: (e.occurred_on, e.id)):
        lines.append(f"{e.occurred_on}: {e.summary}{_cite(e.citation)}")
    citations = [
        p.citation,
        a.tech.citation if a.tech else None,
        a.fundamentals.citation if a.fundamentals else None,
        *(r.citation for r in p.funding_rounds),
        *(e.citation for e in p.evidence),
    ]
    meta = _meta("project", p.slug, citations, a.at)
    meta["status"] = a.status.value
    return Document(
        f"project://{p.slug}", f"{p.name} — project card", "\n".join(lines), "project", meta
    )


def investor_card(investor: Investor, backed: Sequence[Assessment], at: date) -> Document:
    """An investor's card: its researched portfolio and each project's status."""
    lines = [f"{investor.name} ({investor.slug}) is an investor."]
    if investor.aliases:
        lines.append(f"Also written: {', '.join(investor.aliases)}.")
    citations: list[Citation] = []
    for a in backed:
        rounds = [r for r in a.project.funding_rounds if investor.slug in r.investors]
        lead = any(investor.slug in r.lead_investors for r in rounds)
        kinds = ", ".join(sorted({r.round for r in rounds}))
        lines.append(
            f"{investor.name} invested in {a.project.name} ({kinds}{', lead' if lead else ''}); "
            f"airdrop status of {a.project.name} as of {at}: {a.status.label}"
            f"{_cite(rounds[0].citation)}."
        )
        citations.extend(r.citation for r in rounds)
    if not backed:
        lines.append(f"{investor.name} backs no project dropscope researches.")
    return Document(
        f"investor://{investor.slug}",
        f"{investor.name} — investor card",
        "\n".join(lines),
        "investor",
        _meta("investor", investor.slug, citations, at),
    )


_LABELS = {
    FigureMetric.TOKENS_DISTRIBUTED: "tokens distributed",
    FigureMetric.SHARE_OF_SUPPLY: "share of supply (%)",
    FigureMetric.RECIPIENTS: "recipients",
    FigureMetric.TOKENS_PER_RECIPIENT_MEAN: "mean tokens per recipient",
    FigureMetric.TOKENS_PER_RECIPIENT_MEDIAN: "median tokens per recipient",
    FigureMetric.TOKENS_PER_RECIPIENT_MIN: "minimum tokens per recipient",
    FigureMetric.TOKENS_PER_RECIPIENT_MAX: "maximum tokens per recipient",
    FigureMetric.VALUE_AT_LAUNCH_USD: "value at launch (USD)",
    FigureMetric.VALUE_PER_RECIPIENT_USD: "value per recipient (USD)",
    FigureMetric.TOKEN_PRICE_AT_LAUNCH_USD: "token price at launch (USD)",
    FigureMetric.ELIGIBLE_ADDRESSES_BEFORE_SYBIL: "eligible addresses before sybil filtering",
}


def airdrop_card(d: PastAirdrop, at: date) -> Document:
    """A past airdrop's card: dates, then every sourced figure with its qualifier."""
    lines = [f"{d.name} ({d.slug}): the {d.token_symbol} token airdrop{_cite(d.citation)}."]
    for label, day in (
        ("snapshot", d.snapshot_on),
        ("claim opened", d.claim_start),
        ("claim closed", d.claim_end),
    ):
        if day:
            lines.append(f"{d.name} ({d.slug}) {label} on {day}.")
    for f in d.figures:
        usd = f.metric.value.endswith("_usd")
        value = money(f.value) if usd and f.value >= 1_000_000 else number(f.value)
        q = f"{f.qualifier} " if f.qualifier else ""
        derived = f" (derived: {f.formula})" if f.derived and f.formula else ""
        note = f" {f.note}" if f.note else ""
        lines.append(
            f"{d.name} {_LABELS.get(f.metric, f.metric.value)}: {q}{value}{derived}"
            f"{_cite(f.citation)}.{note}"
        )
    lines.extend(d.notes)
    return Document(
        f"airdrop://{d.slug}",
        f"{d.name} ({d.slug}) — past airdrop card",
        "\n".join(lines),
        "airdrop",
        _meta("airdrop", d.slug, [d.citation, *(f.citation for f in d.figures)], at),
    )
