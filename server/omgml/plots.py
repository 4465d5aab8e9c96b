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
