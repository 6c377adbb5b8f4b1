"""Compare, past-airdrop and investor pages: rows for their tables and charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

from dropscope.domain.models import Figure, FigureMetric, PastAirdrop, Source
from dropscope.services.research import Profile
from dropscope.web.charts import Bar, hbars
from dropscope.web.fmt import DASH, compact, score, usd
from dropscope.web.links import web_url

_M = FigureMetric


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    best: bool = False


@dataclass(frozen=True, slots=True)
class CompareRow:
    label: str
    cells: tuple[Cell, ...]
    differs: bool
    numeric: bool


def compare_rows(profiles: Sequence[Profile]) -> tuple[CompareRow, ...]:
    """The analyst's table: numeric rows mark the best value, text rows whether they differ."""
    rows: list[CompareRow] = []
    assessed = [p.assessment for p in profiles]

    def numeric(
        label: str, values: list[float | Decimal | None], fmt: Callable[[object], str]
    ) -> None:
        known = [v for v in values if v is not None]
        best = max(known) if len(set(known)) > 1 else None
        cells = tuple(Cell(fmt(v), best is not None and v == best) for v in values)
        rows.append(CompareRow(label, cells, len({c.text for c in cells}) > 1, True))

    def text(label: str, values: list[str]) -> None:
        rows.append(CompareRow(label, tuple(Cell(v) for v in values), len(set(values)) > 1, False))

    text("Status", [a.status.label for a in assessed])
    text("Why this status", [a.classification.explanation for a in assessed])
    text("Sector", [a.project.sector for a in assessed])
    numeric("Airdrop potential", [a.potential.value for a in assessed], _score)
    numeric("Tech score", [a.tech.value if a.tech else None for a in assessed], _score)
    numeric(
        "Fundamentals score",
        [a.fundamentals.value if a.fundamentals else None for a in assessed],
        _score,
    )
    numeric("Funding raised", [a.raised_usd for a in assessed], _usd)
    numeric("Latest valuation", [a.valuation_usd for a in assessed], _usd)
    text("Token", [a.project.token.symbol or "none known" for a in assessed])
    text("Chains", [", ".join(a.project.chains) or DASH for a in assessed])
    text("Narratives", [", ".join(a.project.narratives) or DASH for a in assessed])
    text(
        "Investors",
        [", ".join(sorted(i.name for i in p.investors.values())) or DASH for p in profiles],
    )
    text(
        "Competitors",
        [", ".join(c.name for c in p.competitors) or DASH for p in profiles],
    )
    return tuple(rows)


def _score(v: object) -> str:
    return score(v if isinstance(v, float | int) else None)


def _usd(v: object) -> str:
    return usd(v if isinstance(v, Decimal) else None)


@dataclass(frozen=True, slots=True)
class Shown:
    """A figure as shown, with the number of its source in the page's source list."""

    text: str
    ref: int
    derived: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class PastRow:
    airdrop: PastAirdrop
    tokens: tuple[Shown, ...]
    recipients: tuple[Shown, ...]
    value: tuple[Shown, ...]
    per_recipient: tuple[Shown, ...]
    ref: int


@dataclass(frozen=True, slots=True)
class SourceRef:
    n: int
    text: str
    url: str | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: tuple[PastRow, ...]
    sources: tuple[SourceRef, ...]
    charts: tuple[tuple[str, Markup], ...]  # (caption, chart)


def _first(a: PastAirdrop, metric: FigureMetric) -> Decimal | None:
    figures = a.figure(metric)
    return figures[0].value if figures else None


def history_page(airdrops: Sequence[PastAirdrop], sources: dict[str, Source]) -> HistoryPage:
    refs: dict[str, int] = {}

    def ref(source_id: str) -> int:
        return refs.setdefault(source_id, len(refs) + 1)

    def shown(a: PastAirdrop, metric: FigureMetric, fmt: Callable[..., str]) -> tuple[Shown, ...]:
        return tuple(
            Shown(fmt(f.value, f.qualifier), ref(f.citation.source_id), f.derived, _note(f))
            for f in a.figure(metric)
        )

    rows = tuple(
        PastRow(
            a,
            shown(a, _M.TOKENS_DISTRIBUTED, compact),
            shown(a, _M.RECIPIENTS, compact),
            shown(a, _M.VALUE_AT_LAUNCH_USD, usd),
            shown(a, _M.VALUE_PER_RECIPIENT_USD, usd),
            ref(a.citation.source_id),
        )
        for a in airdrops
    )
    refs_out = []
    for source_id, n in refs.items():
        s = sources.get(source_id)
        text = f"{s.publisher}: {s.title}" if s else source_id
        refs_out.append(SourceRef(n, text, web_url(s.url) if s else None))

    def chart(
        title: str, metric: FigureMetric, fmt: Callable[[Decimal], str]
    ) -> tuple[str, Markup]:
        values = [(_chart_name(a, airdrops), _first(a, metric)) for a in airdrops]
        known = [v for _, v in values if v is not None]
        top = max(known, default=None)
        bars = [
            Bar(
                name,
                float(v) if v is not None else None,
                fmt(v) if v is not None else "not published",
                best=v is not None and v == top,
            )
            for name, v in values
        ]
        return title, hbars(title, bars)

    charts = (
        chart("Value at launch (US$)", _M.VALUE_AT_LAUNCH_USD, usd),
        chart("Recipients", _M.RECIPIENTS, compact),
        chart("Average value per recipient (US$)", _M.VALUE_PER_RECIPIENT_USD, usd),
    )
    return HistoryPage(rows, tuple(refs_out), charts)


def _chart_name(a: PastAirdrop, airdrops: Sequence[PastAirdrop]) -> str:
    """The airdrop's name, with its snapshot year when another one has the same name."""
    if a.snapshot_on and sum(1 for b in airdrops if b.name == a.name) > 1:
        return f"{a.name} {a.snapshot_on.year}"
    return a.name


def _note(f: Figure) -> str | None:
    if f.derived:
        return f"derived by dropscope: {f.formula or 'from published figures'}"
    return f.note
