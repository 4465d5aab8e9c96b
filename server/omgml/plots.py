"""Bar-chart geometry for the HTML reports: values in, rectangles in SVG user units out.

Pure functions on plain numbers, so a chart's layout is unit-tested without a browser; the drawing itself is
``templates/reports/_charts.html.j2`` (jinja macros that autoescape every label).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720  # the chart's viewBox width; the page scales it to the column it sits in
LABEL_WIDTH = 220  # room for the category labels left of the bars
VALUE_WIDTH = 70  # room for the value printed right of each bar
ROW = 20  # height of one bar's row
PAD = 24  # room above the first row and below the last one for the axis


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    series: int  # 0: the first (or only) series, 1: the second (e.g. current beside reference)
    y: float
    width: float
    height: float
    text: str  # the value as printed
    mark: float | None = None  # x of this bar's own threshold, when it has one
    flagged: bool = False  # drawn in the alert colour (drifted, over its threshold)
    spread: tuple[float, float] | None = None  # x of value - error and value + error (a fold-spread whisker)


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: float
    height: float
    x0: float  # where the value axis starts (after the labels)
    span: float  # length of the value axis
    top: float
    ticks: tuple[tuple[float, str], ...]  # (x, label) along the value axis
    hidden: int  # rows left out beyond ``limit``
    series: tuple[str, ...]  # legend names, empty for a one-series chart


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (1 for nothing to draw)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value * (1 - 1e-12))


def fmt(value: float) -> str:
    """A value short enough to print beside its bar."""
    if value == 0:
        return "0"
    if 0.001 <= abs(value) < 100_000:
        return f"{value:.3g}"
    return f"{value:.2e}"


def percent(value: float) -> str:
    return f"{value:.0%}" if value == 0 or value >= 0.01 else f"{value:.2%}"


def hbars(
    rows: Sequence[tuple[str, Sequence[float]]],
    *,
    marks: Sequence[float | None] | None = None,
    flagged: Sequence[bool] | None = None,
    errors: Sequence[float | None] | None = None,
    series: Sequence[str] = (),
    scale: float | None = None,
    limit: int = 60,
    text=fmt,
) -> Chart:
    """Horizontal bars, one row per ``(label, values)``, one bar per value in the row (series side by side).

    ``marks`` draws a threshold tick on a row; ``scale`` fixes the axis maximum (1.0 for shares), else it is the
    largest value or mark rounded up. Rows past ``limit`` are counted in ``hidden``, not drawn: a 500-column
    table stays a readable, small chart.
    """
    shown = list(rows[:limit])
    marks = list(marks or [None] * len(rows))[: len(shown)]
    flagged = list(flagged or [False] * len(rows))[: len(shown)]
    errors = list(errors or [None] * len(rows))[: len(shown)]
    tops = [v + (e or 0) for (_, values), e in zip(shown, errors, strict=True) for v in values if math.isfinite(v)]
    largest = max(tops + [m for m in marks if m], default=0)
    top_value = scale if scale is not None else nice_max(largest)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    per_row = max((len(values) for _, values in shown), default=1)
    height = (ROW - 4) / per_row

    def x(value: float) -> float:
        return LABEL_WIDTH + span * min(max(value, 0.0), top_value) / top_value

    bars = []
    for i, (label, values) in enumerate(shown):
        for s, value in enumerate(values):
            drawn = min(max(value, 0.0), top_value) if math.isfinite(value) else 0.0
            bars.append(
                Bar(
                    label=label,
                    value=value,
                    series=s,
                    y=PAD + i * ROW + 2 + s * height,
                    width=span * drawn / top_value,
                    height=height,
                    text=text(value),
                    mark=None if marks[i] is None else x(marks[i]),
                    flagged=flagged[i],
                    spread=None if errors[i] is None else (x(value - errors[i]), x(value + errors[i])),
                )
            )
    ticks = tuple((LABEL_WIDTH + span * k / 4, text(top_value * k / 4)) for k in range(5))
    return Chart(
        bars=tuple(bars),
        width=WIDTH,
        height=PAD * 2 + ROW * len(shown),
        x0=LABEL_WIDTH,
        span=span,
        top=PAD,
        ticks=ticks,
        hidden=len(rows) - len(shown),
        series=tuple(series),
    )


# The charts each report draws, from the fields its result already holds (duck-typed: the drift and validation
# models are not imported, so this module stays a leaf).


def effect_chart(columns: Sequence) -> Chart:
    """Drift: every tested column's effect size, largest first, each with its own threshold tick."""
    ranked = sorted(columns, key=lambda c: -c.effect.value if math.isfinite(c.effect.value) else -math.inf)
    return hbars(
        [(f"{c.column} ({c.effect.measure})", [c.effect.value]) for c in ranked],
        marks=[c.effect.threshold for c in ranked],
        flagged=[c.drifted for c in ranked],
    )


def signals_chart(signal) -> Chart:
    """Drift: one column's reference-vs-current shares of missing, infinite, new, vanished and out-of-range values.

    The drift result keeps these shares, not the histograms the tests binned, so this is what can be drawn from
    it; per-bin counts would need the result to carry them.
    """
    rows = [
        ("missing", [signal.null_rate_reference, signal.null_rate_current]),
        ("infinite", [signal.infinite_rate_reference, signal.infinite_rate_current]),
        ("in new categories", [0.0, signal.new_category_share]),
        ("in vanished categories", [signal.vanished_reference_share, 0.0]),
    ]
    if signal.out_of_range_share is not None:
        rows.append(("outside reference min..max", [0.0, signal.out_of_range_share]))
    return hbars(rows, series=("reference", "current"), text=percent)


def findings_chart(findings: Sequence) -> Chart:
    """Validation: rows affected per column and check, largest first (a table-wide finding is labelled '(table)')."""
    ranked = sorted(findings, key=lambda f: -f.count)
    return hbars(
        [(f"{f.column or '(table)'} · {f.check}", [float(f.count)]) for f in ranked],
        flagged=[f.severity == "error" for f in ranked],
    )


def null_chart(summary: Sequence) -> Chart:
    """Validation: each column's missing share, on a 0..100 % axis so columns compare at a glance."""
    return hbars([(c.name, [c.missing_fraction]) for c in summary], scale=1.0, text=percent, limit=100)


@dataclass(frozen=True)
class Box:
    label: str
    state: str
    x: float
    width: float


def stage_strip(stages: Sequence, gap: float = 6) -> tuple[Box, ...]:
    """Status: the lifecycle stages as equal boxes left to right, each coloured by its state in the template."""
    width = (WIDTH - gap * (len(stages) - 1)) / max(len(stages), 1)
    return tuple(Box(s.name, s.state, i * (width + gap), width) for i, s in enumerate(stages))


def leaderboard_chart(leaderboard: Sequence, candidates: Sequence) -> Chart:
    """Baseline: each ranked model's mean primary metric with its fold spread (± std), the dummy's score ticked.

    Bars start at 0, so a negative score (R² below zero) is drawn as an empty bar; its value is still printed.
    """
    dummy = next((c.primary_mean for c in candidates if c.name == "dummy" and c.primary_mean is not None), None)
    return hbars(
        [(row.name, [row.primary_mean]) for row in leaderboard],
        marks=[dummy] * len(leaderboard),
        errors=[row.primary_std for row in leaderboard],
    )


# --- Baseline: the best model's out-of-fold errors (a confusion matrix heat grid, a residual plot) ---------------

GRID_LABEL_WIDTH = 150  # room for the true-class labels left of the grid
GRID_TOP = 96  # room for the predicted-class labels above the grid, when they are slanted ...
GRID_TOP_FLAT = 36  # ... and when each fits its column flat
GRID_COLUMN_LABEL = 14  # characters of a predicted-class label drawn (all of it in the tooltip)
GRID_MAX_CELL = 72
GRID_MARGIN = 40  # right and bottom: the last slanted label and the axis title


@dataclass(frozen=True)
class Cell:
    row: int
    column: int
    x: float
    y: float
    size: float
    count: int
    share: float  # of its row (true class): the shade, so a rare class's errors show as plainly as a common one's
    text: str  # the count as printed, shortened when the cell is narrow
    dark: bool  # a dark shade: the count is printed in white


@dataclass(frozen=True)
class Grid:
    cells: tuple[Cell, ...]
    rows: tuple[tuple[float, str, int], ...]  # (y of the row's middle, true class, rows of that class)
    columns: tuple[tuple[float, str], ...]  # (x of the column's middle, predicted class)
    slanted: bool  # the predicted-class labels are drawn at an angle: one is too long for its column
    x0: float
    y0: float
    cell: float
    font: int
    width: float
    height: float


def _count_text(count: int, room: float, font: int) -> str:
    full = f"{count:,}"
    if len(full) * font * 0.6 <= room or count < 1000:
        return full
    for value, unit in ((count / 1e6, "M"), (count / 1e3, "k")):
        if value >= 1:
            return f"{value:.0f}{unit}" if value >= 10 else f"{value:.1f}{unit}"
    return full


def confusion_grid(matrix) -> Grid:
    """Baseline: the confusion matrix as square cells, true class by row, predicted class by column, each shaded by
    its share of the row (the diagonal is each class's recall) and labelled with its count."""
    labels, counts = list(matrix.labels), [list(row) for row in matrix.counts]
    n = max(len(labels), 1)
    cell = min(GRID_MAX_CELL, (WIDTH - GRID_LABEL_WIDTH - GRID_MARGIN) / n)
    font = 11 if cell >= 30 else 9
    longest = max((min(len(label), GRID_COLUMN_LABEL) for label in labels), default=0)
    slanted = longest * 11 * 0.6 > cell - 4
    top = GRID_TOP if slanted else GRID_TOP_FLAT
    cells = []
    rows = []
    for i, row in enumerate(counts):
        total = sum(row)
        rows.append((top + (i + 0.5) * cell, labels[i], total))
        for j, count in enumerate(row):
            share = count / total if total else 0.0
            cells.append(
                Cell(
                    row=i,
                    column=j,
                    x=GRID_LABEL_WIDTH + j * cell,
                    y=top + i * cell,
                    size=cell,
                    count=count,
                    share=share,
                    text=_count_text(count, cell - 4, font),
                    dark=share > 0.55,
                )
            )
    columns = tuple((GRID_LABEL_WIDTH + (j + 0.5) * cell, label) for j, label in enumerate(labels))
    return Grid(
        cells=tuple(cells),
        rows=tuple(rows),
        columns=columns,
        slanted=slanted,
        x0=GRID_LABEL_WIDTH,
        y0=top,
        cell=cell,
        font=font,
        width=GRID_LABEL_WIDTH + n * cell + GRID_MARGIN,
        height=top + n * cell + GRID_MARGIN,
    )


def nice_ticks(low: float, high: float, count: int = 6) -> tuple[float, float, tuple[float, ...]]:
    """An axis from ``low`` to ``high`` widened to whole steps of 1, 2 or 5 times a power of ten, and its ticks."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high <= low:
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw * (1 - 1e-12))
    start, stop = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    ticks = tuple(round(k * step, 12) for k in range(start, stop + 1))
    return ticks[0], ticks[-1], ticks


RESIDUAL_HEIGHT = 300
PLOT_LEFT, PLOT_RIGHT = 64, 520  # the residual-vs-predicted panel ...
SIDE_LEFT, SIDE_RIGHT = 540, WIDTH - 16  # ... and beside it, on the same residual axis, the residuals' histogram
PLOT_TOP, PLOT_BOTTOM = 12, RESIDUAL_HEIGHT - 48


@dataclass(frozen=True)
class ResidualBox:
    x0: float  # the bin's range of predictions
    x1: float
    x: float  # its mean prediction: where the whisker stands
    whisker: tuple[float, float]  # y of the 90th and the 10th percentile of its residuals
    box: tuple[float, float]  # y of the 75th and the 25th percentile
    median: float
    mean: float
    text: str


@dataclass(frozen=True)
class SideBar:
    y: float
    height: float
    length: float
    text: str


@dataclass(frozen=True)
class ResidualPlot:
    boxes: tuple[ResidualBox, ...]
    side: tuple[SideBar, ...]
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    zero: float  # y of residual 0
    below: int  # residuals under and over the histogram's range (not drawn)
    above: int
    left: float = PLOT_LEFT
    right: float = PLOT_RIGHT
    side_left: float = SIDE_LEFT
    side_right: float = SIDE_RIGHT
    top: float = PLOT_TOP
    bottom: float = PLOT_BOTTOM
    width: float = WIDTH
    height: float = RESIDUAL_HEIGHT


def residual_plot(residuals) -> ResidualPlot:
    """Baseline (regression): per quantile bin of the predictions, a box of the middle half of the residuals with a
    whisker over the middle 80 %, a median line and a mean dot; beside it, the residuals' histogram on the same
    vertical axis. A model without bias keeps every box around the zero line."""
    bins, hist = list(residuals.bins), residuals.histogram
    y_low = min([hist.edges[0], 0.0] + [b.p10 for b in bins])
    y_high = max([hist.edges[-1], 0.0] + [b.p90 for b in bins])
    y_low, y_high, y_ticks = nice_ticks(y_low, y_high)
    x_low, x_high, x_ticks = nice_ticks(
        min((b.low for b in bins), default=0.0), max((b.high for b in bins), default=1.0)
    )

    def x(value: float) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (value - x_low) / (x_high - x_low)

    def y(value: float) -> float:
        value = min(max(value, y_low), y_high)
        return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * (value - y_low) / (y_high - y_low)

    boxes = []
    for b in bins:
        x0, x1, middle = x(b.low), x(b.high), x(b.predicted_mean)
        if x1 - x0 > 3:  # a gap between neighbouring bins
            x0, x1 = x0 + 1, x1 - 1
        else:  # a bin of (nearly) one predicted value: a thin box at it
            x0, x1 = middle - 1.5, middle + 1.5
        boxes.append(
            ResidualBox(
                x0=x0,
                x1=x1,
                x=middle,
                whisker=(y(b.p90), y(b.p10)),
                box=(y(b.p75), y(b.p25)),
                median=y(b.median),
                mean=y(b.residual_mean),
                text=f"predicted {fmt(b.low)} to {fmt(b.high)}: {b.rows:,} rows, residual mean {fmt(b.residual_mean)}, "
                f"median {fmt(b.median)}, middle 80 % {fmt(b.p10)} to {fmt(b.p90)}",
            )
        )
    largest = max(hist.counts, default=0) or 1
    side = tuple(
        SideBar(
            y=y(high),
            height=max(y(low) - y(high) - 0.5, 0.5),
            length=(SIDE_RIGHT - SIDE_LEFT) * count / largest,
            text=f"residual {fmt(low)} to {fmt(high)}: {count:,} rows",
        )
        for low, high, count in zip(hist.edges, hist.edges[1:], hist.counts)
    )
    return ResidualPlot(
        boxes=tuple(boxes),
        side=side,
        x_ticks=tuple((x(t), fmt(t)) for t in x_ticks),
        y_ticks=tuple((y(t), fmt(t)) for t in y_ticks),
        zero=y(0.0),
        below=hist.below,
        above=hist.above,
    )
