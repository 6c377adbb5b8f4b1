"""The server-side SVG charts: escaped text, sizes that follow the data."""

from __future__ import annotations

import re
from datetime import date

from dropscope.web.charts import Bar, Point, hbars, steps

ATTACK = '<script>alert(1)</script>"&'


def test_bars_escape_every_label_and_scale_to_the_largest() -> None:
    svg = str(
        hbars(ATTACK, [Bar(ATTACK, 50.0, ATTACK), Bar("b", 100.0, "100"), Bar("c", None, "?")])
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    widths = [
        float(w)
        for w in re.findall(r'class="chart-bar[^"]*" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)
    ]
    assert len(widths) == 2  # the unknown value draws no bar
    assert widths[1] == 2 * widths[0]
    assert svg.startswith('<svg class="chart chart-bars"')
    assert 'role="img"' in svg


def test_steps_rise_with_the_running_total() -> None:
    points = [
        Point(date(2023, 1, 1), 10.0, "seed", "$10M"),
        Point(date(2024, 1, 1), 30.0, "series-a", "$30M"),
    ]
    svg = str(steps("funding <b>", points, "$30M"))
    ys = [float(y) for y in re.findall(r'<circle class="chart-dot" cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert ys[0] > ys[1]  # higher total, higher on the chart (smaller y)
    assert "funding &lt;b&gt;" in svg
    assert "2023-01-01" in svg
    assert "2024-01-01" in svg
