"""Bar-chart geometry for the HTML reports: values in, rectangles in SVG user units out.

Pure functions on plain numbers, so a chart's layout is unit-tested without a browser; the drawing itself is
``templates/reports/_charts.html.j2`` (jinja macros that autoescape every label).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720  # the chart's viewBox width; the page scales it to the column it sits in
LABEL_WIDTH = 220  # room for the category labels left of the bars
VALUE_WIDTH = 70  # room for the value printed right of each bar
ROW = 20  # height of one bar's row
BAR = ROW - 4  # height of one series' bar: a two-series row is two bars tall, so 11-unit values never overlap
VALUE_GAP = 6  # between a bar's value and whatever ends that row (bar, threshold tick or spread whisker)
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
    text_x: float  # where the value starts: past the bar, its threshold tick and its spread, whichever ends last
    label_y: float  # baseline of the row's label, centred on the row's bars
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
    """A value short enough to print beside its bar, to 3 significant digits: 0.0933, 2,700, 27k, 1.2M.

    ``.3g`` alone prints 2700 as "2.7e+03", which reads as a formula; thousands get a separator or a suffix.
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    rounded = float(f"{value:.3g}")  # round first, so 999,950 becomes "1M", not "1e+03k"
    size = abs(rounded)
    if 0.001 <= size < 1000:
        return f"{value:.3g}"
    if 1000 <= size < 10_000:
        return f"{rounded:,.0f}"
    for suffix, unit in (("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12)):
        if 10_000 <= size < unit * 1000:
            return f"{rounded / unit:.3g}{suffix}"
    return f"{value:.2e}"


def tick_values(top: float, most: int = 5) -> list[float]:
    """Ticks from 0 to ``top`` at a step of 1, 2 or 5 times a power of ten, at most ``most`` steps (0, 10 %, ... 50 %).

    Quarters of a nice maximum are not nice steps: a 50 % axis would read 12 % and 38 %.
    """
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw * (1 - 1e-9))
    return [k * step for k in range(math.floor(top / step * (1 + 1e-9)) + 1)]


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
    row = per_row * BAR + ROW - BAR

    def x(value: float) -> float:
        return LABEL_WIDTH + span * min(max(value, 0.0), top_value) / top_value

    bars = []
    for i, (label, values) in enumerate(shown):
        mark = None if marks[i] is None else x(marks[i])
        for s, value in enumerate(values):
            drawn = min(max(value, 0.0), top_value) if math.isfinite(value) else 0.0
            spread = None if errors[i] is None else (x(value - errors[i]), x(value + errors[i]))
            # The tick is 2 units wide (1 past its x); a value printed over it or over the whisker is misread.
            ends = [LABEL_WIDTH + span * drawn / top_value, *([mark + 1] if mark is not None else []), *(spread or ())]
            bars.append(
                Bar(
                    label=label,
                    value=value,
                    series=s,
                    y=PAD + i * row + 2 + s * BAR,
                    width=span * drawn / top_value,
                    height=BAR,
                    text=text(value),
                    text_x=max(ends) + VALUE_GAP,
                    label_y=PAD + i * row + row / 2 + 4,
                    mark=mark,
                    flagged=flagged[i],
                    spread=spread,
                )
            )
    ticks = tuple((LABEL_WIDTH + span * v / top_value, text(v)) for v in tick_values(top_value))
    return Chart(
        bars=tuple(bars),
        width=WIDTH,
        height=PAD * 2 + row * len(shown),
        x0=LABEL_WIDTH,
        span=span,
        top=PAD,
        ticks=ticks,
        hidden=len(rows) - len(shown),
        series=tuple(series),
    )


# The charts each report draws, from the fields its result already holds (duck-typed: the drift and validation
# models are not imported, so this module stays a leaf).


EFFECT_AXIS = 10  # the effect axis ends at most this many times the largest threshold


def effect_chart(columns: Sequence) -> Chart:
    """Drift: every tested column's effect size, largest first, each with its own threshold tick.

    One huge effect (a Wasserstein distance of hundreds of stds after an outlier) would shrink every threshold
    tick to the axis start, so the axis stops at ``EFFECT_AXIS`` times the largest threshold: a longer bar
    reaches the end, and its value is printed.
    """
    ranked = sorted(columns, key=lambda c: -c.effect.value if math.isfinite(c.effect.value) else -math.inf)
    cap = EFFECT_AXIS * max((c.effect.threshold for c in ranked), default=0)
    largest = max((c.effect.value for c in ranked), default=0)
    return hbars(
        [(f"{c.column} ({c.effect.measure})", [c.effect.value]) for c in ranked],
        marks=[c.effect.threshold for c in ranked],
        flagged=[c.drifted for c in ranked],
        scale=nice_max(cap) if 0 < cap < largest else None,
    )


def category_chart(distribution) -> Chart:
    """Drift: a categorical column's cells, each side's share of its values side by side (the test's counts)."""
    ref_total, cur_total = sum(distribution.reference) or 1, sum(distribution.current) or 1
    return hbars(
        [
            (label, [r / ref_total, c / cur_total])
            for label, r, c in zip(distribution.labels, distribution.reference, distribution.current, strict=True)
        ],
        series=("reference", "current"),
        text=percent,
    )


HIST_LEFT = 48  # room for the share labels left of the plot
HIST_PLOT = 160  # height of the plot area
MAX_TICKS = 7  # value labels under a histogram


@dataclass(frozen=True)
class BinBar:
    x: float
    width: float
    y: float
    height: float
    series: int  # 0 reference, 1 current (drawn over it, translucent)
    title: str  # the bin and the share, for a hover


@dataclass(frozen=True)
class BinChart:
    bars: tuple[BinBar, ...]
    width: float
    height: float
    x0: float
    span: float
    top: float
    base: float  # y of the value axis
    ticks: tuple[tuple[float, str, str], ...]  # (x, value, text-anchor) under the axis
    levels: tuple[tuple[float, str], ...]  # (y, share) left of the plot
    series: tuple[str, ...]


def histogram_chart(distribution) -> BinChart:
    """Drift: a numeric column's bins, reference and current shares overlaid, bins side by side at equal width.

    Equal width on screen, not on the value axis: the outer bins may hold a long tail, and a decile bin is as wide
    as its neighbours, so the labels under the axis are the bins' edges (or, one bin per value, the values).
    """
    edges, ref, cur = distribution.edges, distribution.reference, distribution.current
    bins = len(ref)
    shares = [[count / (sum(side) or 1) for count in side] for side in (ref, cur)]
    top_share = nice_max(max(max(s) for s in shares))
    span = WIDTH - HIST_LEFT - 8
    slot = span / bins
    base = PAD + HIST_PLOT
    bars = []
    for series, (name, side) in enumerate(zip(("reference", "current"), shares)):
        for i, share in enumerate(side):
            if not share:
                continue  # nothing to draw; the hover of an empty bin would only add bytes
            height = HIST_PLOT * share / top_share
            where = distribution.labels[i] if distribution.labels else f"{fmt(edges[i])} to {fmt(edges[i + 1])}"
            bars.append(
                BinBar(
                    x=HIST_LEFT + i * slot,
                    width=max(slot - 1, 0.5),
                    y=base - height,
                    height=height,
                    series=series,
                    title=f"{where}: {percent(share)} of {name} ({(ref, cur)[series][i]:,})",
                )
            )
    every = math.ceil((bins + 1) / MAX_TICKS)
    if distribution.labels:  # one bin per value: label the bins, not the edges between them
        ticks = tuple((HIST_LEFT + (i + 0.5) * slot, distribution.labels[i], "middle") for i in range(0, bins, every))
    else:
        # The outer edges' labels start and end at their tick: centred, the first meets the 0 % label left of the
        # axis and the last is cut at the drawing's edge.
        anchor = {0: "start", bins: "end"}
        ticks = tuple((HIST_LEFT + i * slot, fmt(edges[i]), anchor.get(i, "middle")) for i in range(0, bins + 1, every))
    levels = tuple((base - HIST_PLOT * k / 2, percent(top_share * k / 2)) for k in range(3))
    return BinChart(
        bars=tuple(bars),
        width=WIDTH,
        height=base + PAD,
        x0=HIST_LEFT,
        span=span,
        top=PAD,
        base=base,
        ticks=ticks,
        levels=levels,
        series=("reference", "current"),
    )


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


STRIP_HEIGHT = 56  # the lifecycle strip's drawing: boxes 40 high, from y=4
CHAR_WIDTH = 6.5  # a generous average width of an 11-unit system-ui character, for wrapping a stage name
LINE = 14  # between the baselines of a stage name's two lines


@dataclass(frozen=True)
class Box:
    label: str
    state: str
    x: float
    width: float
    lines: tuple[tuple[float, str], ...]  # (baseline y, text): the name in at most two lines that fit the box


def stage_strip(stages: Sequence, gap: float = 6) -> tuple[Box, ...]:
    """Status: the lifecycle stages as equal boxes left to right, each coloured by its state in the template.

    Eight boxes in 720 units leave 85 for a name: "feature engineering" fits only on two lines.
    """
    width = (WIDTH - gap * (len(stages) - 1)) / max(len(stages), 1)
    chars = max(int((width - 8) // CHAR_WIDTH), 1)
    boxes = []
    for i, s in enumerate(stages):
        words = textwrap.wrap(s.name, chars, max_lines=2, placeholder="…") or [""]
        first = 28 - LINE / 2 * (len(words) - 1)  # 28: one line's baseline, centred in the box
        lines = tuple((first + LINE * k, w) for k, w in enumerate(words))
        boxes.append(Box(s.name, s.state, i * (width + gap), width, lines))
    return tuple(boxes)


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


# Validation: out-of-range values against the contract's bounds.

RANGE_ROW = 26  # a range row is taller than a bar row: a band with a bar inside it
RANGE_COUNTS_WIDTH = 130  # room right of the track for "12 below · 3 above"
RANGE_MARGIN = 0.04  # share of a track left empty at each end, so a bar at the edge stays visible
RANGE_PAD = 8  # above the first row and below the last: no axis to make room for


@dataclass(frozen=True)
class RangeRow:
    label: str
    y: float  # top of the row's band
    band: tuple[float, float]  # x of the contract's min and max; an unbounded side runs to the track's end
    open_low: bool  # the contract has no min
    open_high: bool  # the contract has no max
    observed: tuple[float, float] | None  # x of the data's min and max; None when it has no finite value
    outside: tuple[tuple[float, float], ...]  # the parts of the observed bar beyond the band
    below: int
    above: int
    severity: str | None  # the out_of_range finding's severity, None when nothing is outside
    text: str  # the counts as printed
    tip: str  # every number, for the hover title


@dataclass(frozen=True)
class RangeChart:
    rows: tuple[RangeRow, ...]
    width: float
    height: float
    x0: float
    span: float
    band_height: float
    hidden: int


def _finite(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def range_chart(summary: Sequence, findings: Sequence = (), limit: int = 60) -> RangeChart:
    """Each bounded column's contract [min, max] as a band and its observed [min, max] as a bar across it.

    Every row has its own scale, the union of the two ranges (a shared axis would squeeze a column in [0, 1]
    beside one in the millions to a dot). Columns with values outside come first, most outside first, then
    the others in table order; rows past ``limit`` are counted in ``hidden``.
    """
    severity = {f.column: f.severity for f in findings if f.check == "out_of_range"}
    bounded = [c for c in summary if c.bounds is not None]
    ranked = sorted(bounded, key=lambda c: -(c.bounds.below + c.bounds.above))  # stable: table order among ties
    shown = ranked[:limit]
    span = WIDTH - LABEL_WIDTH - RANGE_COUNTS_WIDTH
    band_height = RANGE_ROW - 8
    rows = []
    for i, c in enumerate(shown):
        low, high = _finite(c.bounds.min), _finite(c.bounds.max)
        seen = (_finite(c.min), _finite(c.max))
        observed = seen if None not in seen else None
        ends = [v for v in (low, high, *(observed or ())) if v is not None] or [0.0]
        lo, hi = min(ends), max(ends)
        pad = (hi - lo) * RANGE_MARGIN or max(abs(lo), 1.0) * 0.5  # a single value sits mid-track
        start, scale = lo - pad, span / (hi - lo + 2 * pad)
        band = (
            LABEL_WIDTH if low is None else LABEL_WIDTH + (low - start) * scale,
            LABEL_WIDTH + span if high is None else LABEL_WIDTH + (high - start) * scale,
        )
        bar = None if observed is None else tuple(LABEL_WIDTH + (v - start) * scale for v in observed)
        outside: tuple[tuple[float, float], ...] = ()
        if bar is not None:
            parts = ((bar[0], min(bar[1], band[0])), (max(bar[0], band[1]), bar[1]))
            outside = tuple(p for p in parts if p[1] > p[0])
        b = c.bounds
        rows.append(
            RangeRow(
                label=c.name,
                y=RANGE_PAD + i * RANGE_ROW + (RANGE_ROW - band_height) / 2,
                band=band,
                open_low=low is None,
                open_high=high is None,
                observed=bar,
                outside=outside,
                below=b.below,
                above=b.above,
                severity=severity.get(c.name),
                text=f"{b.below:,} below · {b.above:,} above" if b.below or b.above else "all within",
                tip=(
                    f"{c.name}: contract [{_exact(b.min, '-inf')}, {_exact(b.max, 'inf')}], "
                    f"observed [{_exact(c.min, '–')}, {_exact(c.max, '–')}], {b.below:,} below, {b.above:,} above"
                ),
            )
        )
    return RangeChart(
        rows=tuple(rows),
        width=WIDTH,
        height=RANGE_PAD * 2 + RANGE_ROW * len(shown),
        x0=LABEL_WIDTH,
        span=span,
        band_height=band_height,
        hidden=len(ranked) - len(shown),
    )


def _exact(value, none: str) -> str:
    """A bound or extreme for the hover text: integers whole, floats to six significant digits."""
    if value is None:
        return none
    return f"{value:.6g}" if isinstance(value, float) else str(value)


# --- Baseline: the best model's out-of-fold errors (a confusion matrix heat grid, a residual plot) ---------------

GRID_LABEL_WIDTH = 150  # room for the true-class labels left of the grid
GRID_TOP = 96  # room for the predicted-class labels above the grid, when they are slanted ...
GRID_TOP_FLAT = 36  # ... and when each fits its column flat
GRID_COLUMN_LABEL = 14  # characters of a predicted-class label drawn (all of it in the tooltip)
GRID_MAX_CELL = 72
GRID_MARGIN = 40  # right and bottom: the last slanted label and the axis title
GRID_MIN_WIDTH = 640  # a chart's narrowest drawing (_base.html.j2): a small grid is centred in it


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
    natural = GRID_LABEL_WIDTH + n * cell + GRID_MARGIN
    width = max(natural, GRID_MIN_WIDTH)
    x0 = GRID_LABEL_WIDTH + (width - natural) / 2
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
                    x=x0 + j * cell,
                    y=top + i * cell,
                    size=cell,
                    count=count,
                    share=share,
                    text=_count_text(count, cell - 4, font),
                    dark=share > 0.55,
                )
            )
    columns = tuple((x0 + (j + 0.5) * cell, label) for j, label in enumerate(labels))
    return Grid(
        cells=tuple(cells),
        rows=tuple(rows),
        columns=columns,
        slanted=slanted,
        x0=x0,
        y0=top,
        cell=cell,
        font=font,
        width=width,
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


def _batch_label(entry) -> str:
    return f"{entry.time[:16].replace('T', ' ')} {entry.batch.rsplit('/', 1)[-1]}"


def recent_drift_chart(entries: Sequence) -> Chart:
    """Monitor: each recent batch's drifted share of features (0..100 %), red where the dataset drifted."""
    shown = [e for e in entries if e.drifted_share is not None]
    return hbars(
        [(_batch_label(e), [e.drifted_share]) for e in shown],
        flagged=[bool(e.dataset_drift) for e in shown],
        scale=1.0,
        text=percent,
    )


def recent_errors_chart(entries: Sequence) -> Chart:
    """Monitor: each recent batch's validation errors, red where there were any."""
    return hbars(
        [(_batch_label(e), [float(e.validation_errors)]) for e in entries],
        flagged=[e.validation_errors > 0 for e in entries],
    )


def recent_performance_chart(entries: Sequence) -> Chart:
    """Monitor: the champion's drop on each labelled batch, its noise band ticked, red where the drop is beyond it.

    A batch that scored better than expected (a negative drop) is an empty bar; its value is still printed.
    """
    shown = [e for e in entries if e.performance is not None]
    return hbars(
        [(_batch_label(e), [e.performance.drop]) for e in shown],
        marks=[e.performance.noise for e in shown],
        flagged=[bool(e.performance.significant) for e in shown],
    )


@dataclass(frozen=True)
class Interval:
    label: str
    y: float  # the row's centre line
    low: float  # x of the interval's ends and of its point estimate
    point: float
    high: float
    text: str  # "point [low, high]" as printed
    good: bool  # drawn in the good colour (a challenger that would be promoted)


@dataclass(frozen=True)
class IntervalChart:
    rows: tuple[Interval, ...]
    width: float
    height: float
    x0: float
    span: float
    top: float
    ticks: tuple[tuple[float, str], ...]
    lines: tuple[tuple[float, str], ...]  # (x, label) of reference lines: zero, the margin


def intervals(
    rows: Sequence[tuple[str, float, float, float]],
    *,
    lines: Sequence[tuple[float, str]] = (),
    good: Sequence[bool] | None = None,
    text=fmt,
) -> IntervalChart:
    """One row per ``(label, low, point, high)`` on a shared axis that also holds every reference line.

    Unlike ``hbars`` the axis need not start at 0: a difference can be negative, and scores near 1 differ in
    the third digit, so the axis spans the values and lines with 5 % room each side.
    """
    values = [v for _, *triple in rows for v in triple if math.isfinite(v)] + [v for v, _ in lines]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    room = (hi - lo) * 0.05 or max(abs(hi), 1.0) * 0.05
    lo, hi = lo - room, hi + room
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 80  # the printed "point [low, high]" is wider than one value

    def x(value: float) -> float:
        return LABEL_WIDTH + span * (min(max(value, lo), hi) - lo) / (hi - lo)

    good = list(good or [False] * len(rows))
    drawn = tuple(
        Interval(
            label=label,
            y=PAD + i * ROW + ROW / 2,
            low=x(low),
            point=x(point),
            high=x(high),
            text=f"{text(point)} [{text(low)}, {text(high)}]",
            good=good[i],
        )
        for i, (label, low, point, high) in enumerate(rows)
    )
    ticks = tuple((x(lo + (hi - lo) * k / 4), text(lo + (hi - lo) * k / 4)) for k in range(5))
    return IntervalChart(
        rows=drawn,
        width=WIDTH,
        height=PAD * 2 + ROW * len(rows),
        x0=LABEL_WIDTH,
        span=span,
        top=PAD,
        ticks=ticks,
        lines=tuple((x(v), label) for v, label in lines),
    )


def compare_scores_chart(champion, challengers: Sequence) -> IntervalChart:
    """Compare: each model's score on the held-out rows with its bootstrap interval, the champion first."""
    rows = [(f"champion: version {champion.version}", champion.low, champion.score, champion.high)]
    rows += [(f"version {c.model.version}", c.model.low, c.model.score, c.model.high) for c in challengers]
    return intervals(rows, good=[False] + [c.decision == "promote" for c in challengers])


def compare_difference_chart(challengers: Sequence, margin: float) -> IntervalChart:
    """Compare: each challenger's gain over the champion with its paired interval, against 0 and the margin."""
    rows = [(f"version {c.model.version}", c.low, c.difference, c.high) for c in challengers]
    lines = [(0.0, "0")] + ([(margin, f"margin {fmt(margin)}")] if margin else [])
    return intervals(rows, lines=lines, good=[c.decision == "promote" for c in challengers])
