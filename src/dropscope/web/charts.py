"""Server-side SVG charts: horizontal bars and a cumulative amount over time.

Every chart is inline SVG with a <title> and <desc> (role="img"), colours from the
stylesheet (classes, no inline styles, so the Content-Security-Policy needs no
'unsafe-inline'), and every piece of text escaped. The numbers are also in a table next to
each chart, so nothing is only in the picture.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 640
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None  # None: unknown, drawn as an empty outline
    text: str  # the value as shown next to the bar
    best: bool = False


def _frame(title: str, desc: str, height: int, body: list[str], css: str) -> Markup:
    n = next(_ids)
    # Safe: every piece of text in `body`, `title` and `desc` went through escape().
    return Markup(  # noqa: S704
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart{n}-t" aria-describedby="chart{n}-d" '
        'preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart{n}-t">{escape(title)}</title><desc id="chart{n}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def hbars(title: str, bars: Sequence[Bar], *, scale_max: float | None = None) -> Markup:
    """One horizontal bar per row, scaled to `scale_max` (default: the largest value)."""
    row, top, label_w, text_w = 26, 8, 190, 130
    track = WIDTH - label_w - text_w
    known = [b.value for b in bars if b.value is not None]
    peak = scale_max if scale_max is not None else max(known, default=0.0)
    body: list[str] = []
    for i, b in enumerate(bars):
        y = top + i * row
        body.append(
            f'<text class="chart-label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(_clip(b.label, 28))}</text>"
        )
        body.append(
            f'<rect class="chart-track" x="{label_w}" y="{y + 4}" width="{track}" height="16"/>'
        )
        if b.value is not None and peak > 0:
            w = max(1.0, track * min(b.value, peak) / peak) if b.value > 0 else 0.0
            css = "chart-bar best" if b.best else "chart-bar"
            body.append(
                f'<rect class="{css}" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="16">'
                f"<title>{escape(b.label)}: {escape(b.text)}</title></rect>"
            )
        body.append(
            f'<text class="chart-value" x="{label_w + track + 8}" y="{y + 16}">'
            f"{escape(b.text)}</text>"
        )
    desc = "; ".join(f"{b.label}: {b.text}" for b in bars)
    return _frame(title, desc, top * 2 + row * len(bars), body, "chart-bars")


@dataclass(frozen=True, slots=True)
class Point:
    on: date
    level: float  # the running total on `on`
    label: str
    text: str


def steps(title: str, points: Sequence[Point], top_text: str) -> Markup:
    """A step line of a running total over time, one labelled dot per change."""
    pts = sorted(points, key=lambda p: p.on)
    height, left, right, top, bottom = 220, 64, 24, 28, 36
    first, last = pts[0].on, pts[-1].on
    span = max((last - first).days, 1)
    peak = max(p.level for p in pts) or 1.0
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(d: date) -> float:
        if first == last:
            return left + plot_w / 2
        return left + 24 + (plot_w - 48) * (d - first).days / span

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    body = [
        f'<line class="chart-axis" x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" '
        f'y2="{top + plot_h}"/>',
        f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text class="chart-label" x="{left - 6}" y="{top + 4}" text-anchor="end">'
        f"{escape(top_text)}</text>",
        f'<text class="chart-label" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    level, path = 0.0, [f"M{left},{y(0):.1f}"]
    for p in pts:
        path.append(f"L{x(p.on):.1f},{y(level):.1f}")
        level = p.level
        path.append(f"L{x(p.on):.1f},{y(level):.1f}")
    path.append(f"L{WIDTH - right:.1f},{y(level):.1f}")
    body.append(f'<path class="chart-line" d="{" ".join(path)}"/>')
    for i, p in enumerate(pts):
        cx, cy = x(p.on), y(p.level)
        body.append(
            f'<circle class="chart-dot" cx="{cx:.1f}" cy="{cy:.1f}" r="5">'
            f"<title>{p.on.isoformat()} {escape(p.label)}: {escape(p.text)}</title></circle>"
        )
        anchor = "start" if cx < WIDTH / 2 else "end"
        dx = 8 if anchor == "start" else -8
        dy = -10 if i % 2 == 0 else 18
        body.append(
            f'<text class="chart-label" x="{cx + dx:.1f}" y="{cy + dy:.1f}" '
            f'text-anchor="{anchor}">{escape(_clip(p.label, 24))}: {escape(p.text)}</text>'
        )
    for d in sorted({first, last}):
        anchor = "middle" if first == last else ("start" if d == first else "end")
        body.append(
            f'<text class="chart-label" x="{x(d):.1f}" y="{height - 12}" '
            f'text-anchor="{anchor}">{d.isoformat()}</text>'
        )
    desc = "; ".join(f"{p.on.isoformat()} {p.label}: {p.text}" for p in pts)
    return _frame(title, desc, height, body, "chart-time")


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
