"""The Reports page's charts as SVG shapes: where each bar, point and label goes, in the chart's own
units, for templates/dashboard/reports/ to draw. Server-side, so the page needs no chart library and no
script; the SVG scales to its box, and the table under each chart holds the same numbers.

Colour is never the only signal: each series has a pattern as well (bars; `_patterns.html`), or a dash
and a marker shape (lines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from math import ceil, floor, log10

from dashboard.templatetags.console import duration
from escalations.reports.sections import Behind, Chart, Series

WIDTH, HEIGHT = 480, 190
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 12, 26
# Bars by key: narrower, so that a phone shrinks their names less; the label column, a row per bar.
HBARS_WIDTH, LABEL_WIDTH, ROW = 400, 172, 24
STEP_SECONDS = [60, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400,
                7 * 86400, 14 * 86400, 28 * 86400]


def value_text(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "seconds":
        return duration(timedelta(seconds=round(value)))
    if unit == "percent":
        return f"{value:.1f} %"
    return f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


@dataclass
class Shape:
    x: float
    y: float
    w: float = 0
    h: float = 0
    style: str = ""
    href: str | None = None
    title: str = ""

    @property
    def corner(self) -> tuple[float, float]:
        """A square marker's top left corner, the point at its centre."""
        return round(self.x - 4, 1), round(self.y - 4, 1)


@dataclass
class Drawing:
    width: int
    height: int
    bars: list[Shape] = field(default_factory=list)
    points: list[Shape] = field(default_factory=list)
    paths: list[tuple[str, str]] = field(default_factory=list)  # (style, SVG path)
    x_labels: list[Shape] = field(default_factory=list)
    y_ticks: list[Shape] = field(default_factory=list)
    bar_labels: list[Shape] = field(default_factory=list)  # bars by key: their name, left of the bar
    values: list[Shape] = field(default_factory=list)  # bars by key: the value, right of the bar
    zero: float | None = None


def _nice_step(span: float, unit: str, ticks: int = 4) -> float:
    raw = span / ticks if span > 0 else 1
    if unit == "seconds":
        return next((s for s in STEP_SECONDS if s >= raw), ceil(raw / 86400) * 86400)
    magnitude = 10 ** floor(log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return max(step, 1) if unit == "count" else step


def _axis(low: float, high: float, unit: str) -> tuple[float, float, float]:
    step = _nice_step(high - low, unit)
    return floor(low / step) * step, max(ceil(high / step) * step, step), step


def _tick_text(value: float, unit: str) -> str:
    """An axis step, short: "4h", "-2d", "30m" (the steps are whole units); counts as numbers."""
    if unit != "seconds":
        return value_text(value, unit)
    seconds = round(value)
    for size, suffix in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{suffix}"
    return value_text(value, unit) if seconds else "0"


def _ticks(drawing: Drawing, low: float, high: float, step: float, y_of, unit: str) -> None:
    value = low
    while value <= high + step / 1000:
        drawing.y_ticks.append(Shape(x=LEFT - 6, y=y_of(value), title=_tick_text(value, unit)))
        value += step


def _x_labels(drawing: Drawing, chart: Chart, step: float) -> None:
    """A label every few weeks, as room allows (counted from the last week); the month only where it
    changes, so that a phone's larger type still fits ("12 Oct 19 26 2 Nov")."""
    every = max(1, ceil(30 / step))
    last, month = len(chart.categories) - 1, None
    for i, category in enumerate(chart.categories):
        if (last - i) % every:
            continue
        day = category.week.first_day if category.week else None
        text = category.label if day is None or day.month != month else str(day.day)
        month = day.month if day else None
        drawing.x_labels.append(Shape(x=LEFT + step * (i + 0.5), y=HEIGHT - 8, title=text))


def _week_title(chart: Chart, i: int, series: Series, value) -> str:
    return f"Week of {chart.categories[i].label}: {series.label} {value_text(value, series.unit)}"


def draw(chart: Chart, link: Callable[[Behind], str]) -> Drawing:
    """Where everything of `chart` goes; `link` gives the URL of the tickets behind a bar or point."""
    drawer = {"stacked": _stacked, "grouped": _grouped, "lines": _lines, "hbars": _hbars}[chart.kind]
    return drawer(chart, link)


def _href(chart: Chart, series: Series, i: int, link) -> str | None:
    behind = chart.behind(series, chart.categories[i])
    return link(behind) if behind else None


def _plot(chart: Chart, high: float, low: float = 0) -> tuple[Drawing, Callable, float, tuple]:
    drawing = Drawing(WIDTH, HEIGHT)
    unit = chart.series[0].unit if chart.series else "count"
    low, high, tick = _axis(low, high, unit)
    plot_h = HEIGHT - TOP - BOTTOM

    def y_of(value: float) -> float:
        return round(TOP + plot_h * (high - value) / (high - low), 1)

    _ticks(drawing, low, high, tick, y_of, unit)
    step = (WIDTH - LEFT - RIGHT) / max(1, len(chart.categories))
    _x_labels(drawing, chart, step)
    return drawing, y_of, step, (low, high)


def _stacked(chart: Chart, link) -> Drawing:
    totals = [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.categories))]
    drawing, y_of, step, _ = _plot(chart, max(totals, default=0))
    width = max(3.0, round(step * 0.62, 1))
    for i in range(len(chart.categories)):
        base = 0
        for series in chart.series:
            value = series.values[i] or 0
            if value:
                top = y_of(base + value)
                drawing.bars.append(Shape(
                    x=round(LEFT + step * i + (step - width) / 2, 1), y=top, w=width,
                    h=round(y_of(base) - top, 1),
                    style=series.style, href=_href(chart, series, i, link),
                    title=_week_title(chart, i, series, value)))
            base += value
    return drawing


def _grouped(chart: Chart, link) -> Drawing:
    high = max((v or 0 for s in chart.series for v in s.values), default=0)
    drawing, y_of, step, _ = _plot(chart, high)
    group = step * 0.8
    width = max(1.5, round(group / max(1, len(chart.series)), 1))
    for i in range(len(chart.categories)):
        for n, series in enumerate(chart.series):
            value = series.values[i] or 0
            if value:
                top = y_of(value)
                drawing.bars.append(Shape(
                    x=round(LEFT + step * i + (step - group) / 2 + n * width, 1), y=top, w=width,
                    h=round(y_of(0) - top, 1), style=series.style, href=_href(chart, series, i, link),
                    title=_week_title(chart, i, series, value)))
    return drawing


def _lines(chart: Chart, link) -> Drawing:
    values = [v for s in chart.series for v in s.values if v is not None]
    drawing, y_of, step, (low, _) = _plot(chart, max([0, *values]), min([0, *values]))
    if low < 0:
        drawing.zero = y_of(0)
    for series in chart.series:
        path, pen = [], "M"
        for i, value in enumerate(series.values):
            if value is None:
                pen = "M"  # a week with nothing measured breaks the line
                continue
            x, y = round(LEFT + step * (i + 0.5), 1), y_of(value)
            path.append(f"{pen}{x} {y}")
            pen = "L"
            drawing.points.append(Shape(x=x, y=y, style=series.style, href=_href(chart, series, i, link),
                                        title=_week_title(chart, i, series, value)))
        if path:
            drawing.paths.append((series.style, " ".join(path)))
    return drawing


def _hbars(chart: Chart, link) -> Drawing:
    series = chart.series[0]
    height = TOP + ROW * len(chart.categories) + 4
    drawing = Drawing(HBARS_WIDTH, max(height, 40))
    high = max((v or 0 for v in series.values), default=0) or 1
    room = HBARS_WIDTH - LABEL_WIDTH - 66  # the value's text after the longest bar
    for i, (category, value) in enumerate(zip(chart.categories, series.values, strict=True)):
        y = TOP + ROW * i
        label = category.label if len(category.label) <= 24 else category.label[:23] + "…"
        drawing.bar_labels.append(Shape(x=LABEL_WIDTH - 8, y=y + ROW / 2 + 4, title=label))
        w = round(room * (value or 0) / high, 1)
        text = value_text(value, series.unit)
        drawing.bars.append(Shape(x=LABEL_WIDTH, y=y + 4, w=max(w, 1.5 if value else 0), h=ROW - 8,
                                  style=series.style, href=_href(chart, series, i, link),
                                  title=f"{category.label}: {text}"))
        drawing.values.append(Shape(x=LABEL_WIDTH + w + 6, y=y + ROW / 2 + 4, title=text))
    return drawing


# -- the table under each chart: the same numbers, each count linked to its tickets --------------------


@dataclass
class Table:
    corner: str
    head: list[str]
    rows: list[tuple[str, list[tuple[str, str | None]]]]  # (row heading, [(text, link)])


def _cells(chart: Chart, series: Series, link) -> list[tuple[str, str | None]]:
    cells = []
    for i, value in enumerate(series.values):
        behind = chart.behind(series, chart.categories[i])
        href = link(behind) if behind is not None and value else None
        cells.append((value_text(value, series.unit), href))
    return cells


def chart_table(chart: Chart, link: Callable[[Behind], str]) -> Table:
    """Weeks across, as in the chart, a row per series; a chart by key has a row per key instead."""
    every = [*chart.series, *chart.columns]
    if chart.kind == "hbars":
        columns = [_cells(chart, s, link) for s in every]
        rows = [(c.label, [column[i] for column in columns]) for i, c in enumerate(chart.categories)]
        return Table(corner="", head=[s.label for s in every], rows=rows)
    return Table(corner="Week of", head=[c.label for c in chart.categories],
                 rows=[(s.label, _cells(chart, s, link)) for s in every])
