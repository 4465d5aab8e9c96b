"""The counts a column's chart draws, taken from the summaries its test read, so the picture is the test's data.

Categories and two-valued columns carry the test's own cells; a numeric column tested on quantile bins (psi and
its kin) carries those bins. A numeric column tested on every value (ks, wasserstein) is counted in bins of a
nice width over both sides' 0.5%..99.5% range, about the square root of the smaller side's count of them and at
most ``MAX_BINS`` with a bin for each tail beyond, or in one bin per value when both sides hold few. Every count
is exact: an edge never falls inside a bucket of a binned saved profile (it moves down to the bucket's smallest
value), so ``numpy.histogram`` on the raw values with the same edges gives the same counts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from omgml.drift.histogram import Grid, Histogram, quantile_bins
from omgml.drift.models import Distribution

if TYPE_CHECKING:
    import numpy as np

MAX_BINS = 40  # a chart stays readable and a 500-column result small
MIN_BINS = 8
MAX_CELLS = 30  # categories drawn by name; the smaller ones share one cell
TAIL = 0.005  # the share of each side's values left to the outer bins, so one outlier cannot squash the chart


def category_distribution(reference: np.ndarray, current: np.ndarray, labels: list[str]) -> Distribution:
    """The test's category cells, the ``MAX_CELLS`` largest (both sides together) by name, largest first."""
    import numpy as np

    order = np.argsort(-(reference + current), kind="stable")
    kept, rest = order[:MAX_CELLS], order[MAX_CELLS:]
    names = [labels[i] for i in kept]
    ref, cur = reference[kept].tolist(), current[kept].tolist()
    note = "The test's cells (categories too rare to test alone are pooled)"
    if rest.size:
        names.append(f"(other: {rest.size} cells)")
        ref.append(int(reference[rest].sum()))
        cur.append(int(current[rest].sum()))
        note += f"; the {rest.size} smallest cells in one"
    return Distribution(kind="categories", labels=names, reference=ref, current=cur, note=note)


def quantile_distribution(reference: Histogram, current: Histogram, grid: Grid) -> Distribution:
    """The cells a counts test reads on a numeric column: the reference's deciles on its grid, and a cell
    below and above its range (empty ones dropped), each bin's edge the smallest value that fell in it."""
    import numpy as np

    upper = quantile_bins(reference, grid)
    lo = np.concatenate((reference.lo, current.lo))
    hi = np.concatenate((reference.hi, current.hi))
    ids = np.concatenate([h.ids if h.ids is not None else grid.ids(h.lo) for h in (reference, current)])
    cell = np.searchsorted(upper, ids, side="left")  # as bin_counts: ids are monotone in the value
    sides = np.repeat([0, 1], [reference.buckets, current.buckets])
    counts = np.concatenate((reference.counts, current.counts))
    used = np.unique(cell)
    edges = [float(lo[cell == k].min()) for k in used] + [float(hi.max())]
    position = np.searchsorted(used, cell)
    ref = np.bincount(position[sides == 0], weights=counts[sides == 0], minlength=used.size)
    cur = np.bincount(position[sides == 1], weights=counts[sides == 1], minlength=used.size)
    return Distribution(
        kind="bins",
        edges=edges,
        reference=ref.astype(np.int64).tolist(),
        current=cur.astype(np.int64).tolist(),
        note="The test's cells: the reference's deciles, and values below or above its range",
    )


def numeric_distribution(reference: Histogram, current: Histogram) -> Distribution:
    """Both sides' values counted in the same bins (see the module's docstring)."""
    import numpy as np

    values = np.union1d(reference.lo, current.lo) if reference.exact and current.exact else None
    edges = _value_edges(values) if values is not None and values.size <= MAX_BINS else None
    if edges is not None:
        distribution = _counted(
            "values", edges, reference, current, f"The values the test compared, one bin per value ({values.size})"
        )
        distribution.labels = [f"{v:.10g}" for v in values.tolist()]
        return distribution
    low, high = min(reference.minimum, current.minimum), max(reference.maximum, current.maximum)
    start = min(_quantile(reference, TAIL), _quantile(current, TAIL))
    stop = max(_quantile(reference, 1 - TAIL), _quantile(current, 1 - TAIL))
    if not stop > start:  # nearly every value is one value: the tails are the whole picture
        start, stop = low, high
    # about sqrt(n) bins (at least MIN_BINS): a few hundred values spread over 40 bins draw mostly noise
    bins = min(MAX_BINS - 4, max(MIN_BINS, math.isqrt(min(reference.n, current.n))))
    inner = [e for e in _nice_edges(start, stop, bins) if low < e < high]
    spread = [(h.lo[h.hi > h.lo], h.hi[h.hi > h.lo]) for h in (reference, current) if not h.exact]
    inner = [_outside_buckets(e, spread) for e in inner]
    edges = np.unique(np.array([low, *(e for e in inner if e > low), high]))
    tails = (start > low) or (stop < high)
    note = f"The values the test compared, in {edges.size - 1} bins" + (
        f"; the outer ones hold what lies beyond both sides' {TAIL:.1%}..{1 - TAIL:.1%} range" if tails else ""
    )
    return _counted("bins", edges, reference, current, note)


def _value_edges(values: np.ndarray) -> np.ndarray | None:
    """Edges half-way between sorted distinct values, and half a gap beyond the ends (None past float range)."""
    import numpy as np

    gaps = np.diff(values)
    edges = np.concatenate(([values[0] - gaps[0] / 2], values[:-1] + gaps / 2, [values[-1] + gaps[-1] / 2]))
    return edges if np.isfinite(edges).all() else None


def _counted(kind: str, edges: np.ndarray, reference: Histogram, current: Histogram, note: str) -> Distribution:
    return Distribution(
        kind=kind,  # type: ignore[arg-type]
        edges=edges.tolist(),
        reference=_bin(reference, edges),
        current=_bin(current, edges),
        note=note,
    )


def _bin(hist: Histogram, edges: np.ndarray) -> list[int]:
    """Counts per bin as ``numpy.histogram(values, edges)``; a bucket lies in one bin, so its smallest value places it."""
    import numpy as np

    where = np.clip(np.searchsorted(edges, hist.lo, side="right") - 1, 0, edges.size - 2)
    return np.bincount(where, weights=hist.counts, minlength=edges.size - 1).astype(np.int64).tolist()


def _quantile(hist: Histogram, share: float) -> float:
    """A value with about ``share`` of the values below it (a bucket's end: only where the display bins go)."""
    import numpy as np

    k = int(np.searchsorted(hist.cumulative()[1:], share * hist.n, side="left"))
    k = min(k, hist.buckets - 1)
    return float(hist.lo[k] if share < 0.5 else hist.hi[k])


def _nice_edges(start: float, stop: float, bins: int) -> list[float]:
    """Edges k * step covering ``start..stop`` with a step of 1, 2 or 5 times a power of ten, at most
    ``bins + 2`` bins; written from decimal text so they print short."""
    raw = (stop - start) / bins
    if not (raw > 0 and math.isfinite(raw) and 10.0 ** math.floor(math.log10(raw)) > 0):
        return []  # a span floats cannot step through: the bins are the tails alone
    exponent = math.floor(math.log10(raw))
    mantissa = next(m for m in (1, 2, 5, 10) if m * 10.0**exponent >= raw * (1 - 1e-12))
    step = mantissa * 10.0**exponent
    first, last = math.floor(start / step), math.ceil(stop / step)
    return [float(f"{k * mantissa}e{exponent}") for k in range(first, last + 1)]


def _outside_buckets(edge: float, spread: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """``edge``, moved down to the smallest value of any binned bucket it would split (until none is split)."""
    while True:
        inside = [lo[(lo < edge) & (hi >= edge)] for lo, hi in spread]
        below = [float(x.min()) for x in inside if x.size]
        if not below:
            return edge
        edge = min(below)
