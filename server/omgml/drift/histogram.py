"""Numeric distributions as sorted buckets, exact or binned, and the distances computed on them.

A ``Histogram`` is a sorted list of non-overlapping buckets ``[lo, hi]`` with counts. When every
bucket holds one value (``lo == hi``) it *is* the sample, compressed: the tests on it equal
scipy's on the raw values. A saved reference profile of a large table keeps buckets of a fixed
``Grid`` instead (1% of a standard deviation wide within two of the centre, 1% of the distance
beyond), each with the smallest and largest value that fell in it. The tests then assume values
spread evenly inside a bucket, which moves a statistic by at most a known amount:

- Wasserstein: at most ``sum(width * count) / (2 n)`` per side (within a bucket of width ``w``
  the true distribution and the even spread are two distributions of the same mass on an
  interval of width ``w``; moving that mass costs at most ``w / 2`` per unit, the worst case
  being all of it at one end).
- Kolmogorov-Smirnov: at most the largest share of rows in one bucket that is not a single value,
  per side (the two CDFs agree at bucket ends and both rise monotonically in between).

Buckets holding one distinct value contribute nothing to either bound, so discrete columns
(integers, codes, flags) stay exact whatever their size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

GRID_ALPHA = 0.01  # bucket width: 1% of a std near the centre, 1% of the distance beyond
GRID_LINEAR_STD = 2.0  # equal-width buckets within this many stds of the centre (95% of a normal column)
N_BINS = 10  # reference deciles for the binned tests (psi, jensenshannon, hellinger, kl_div)


def round_significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits, so tiny float differences map to one grid."""
    if value == 0 or not math.isfinite(value):
        return value
    exponent = math.floor(math.log10(abs(value))) - digits + 1
    return round(value / 10.0**exponent) * 10.0**exponent


@dataclass(frozen=True)
class Grid:
    """Bucket boundaries fixed by a centre and a scale, so any batch of values maps to the same buckets.

    In standard units ``z = (x - center) / scale``: buckets are ``alpha`` wide for
    ``|z| <= linear`` and grow geometrically by ``1 + alpha`` beyond, so a bucket is never wider
    than ``alpha * max(linear, |z|)`` standard deviations. Bucket ids are integers that increase
    with the value.
    """

    center: float
    scale: float
    alpha: float = GRID_ALPHA
    linear: float = GRID_LINEAR_STD

    @classmethod
    def for_values(cls, mean: float, std: float, alpha: float = GRID_ALPHA) -> Grid:
        """A grid for a column with this mean and std, rounded so two computations of them agree."""
        scale = round_significant(std) if std > 0 and math.isfinite(std) else max(abs(mean) * 1e-3, 1e-9)
        step = 10.0 ** (math.floor(math.log10(scale)) - 2)
        center = round(mean / step) * step if math.isfinite(mean) else 0.0
        return cls(center=float(center), scale=float(scale), alpha=alpha)

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """``(x - center) / scale`` as a new array."""
        import numpy as np

        z = np.subtract(np.asarray(x, dtype=np.float64), self.center)
        z *= 1.0 / self.scale
        return z

    def ids(self, x: np.ndarray) -> np.ndarray:
        """The bucket id of each value (monotone non-decreasing in the value)."""
        return self.ids_of_standardized(self.standardize(x))

    def ids_of_standardized(self, z: np.ndarray) -> np.ndarray:
        """Bucket ids of standardized values: ``floor(z / alpha)`` within ``linear`` stds, else
        ``sign(z) * (linear/alpha + ceil(log(|z| / linear) / log(1 + alpha)))``."""
        import numpy as np

        ids = z * (1.0 / self.alpha)
        np.floor(ids, out=ids)
        outside = np.abs(z) > self.linear
        if outside.any():
            zo = z[outside]
            far = np.abs(zo)
            far *= 1.0 / self.linear
            np.log(far, out=far)
            far *= 1.0 / math.log1p(self.alpha)
            np.ceil(far, out=far)
            far += round(self.linear / self.alpha)
            ids[outside] = np.copysign(far, zo)
        return ids.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Histogram:
    """Sorted, non-overlapping buckets ``[lo, hi]`` with counts; exact when every ``lo == hi``.

    ``mean`` and ``std`` (population, ddof=0) are of the values themselves, not of the buckets.
    ``ids`` are the grid bucket ids of a binned histogram (None when exact).
    """

    lo: np.ndarray
    hi: np.ndarray
    counts: np.ndarray
    mean: float
    std: float
    ids: np.ndarray | None = None
    _cum: list = field(default_factory=list, repr=False)

    @classmethod
    def from_buckets(
        cls, lo: np.ndarray, hi: np.ndarray, counts: np.ndarray, mean: float, std: float, ids: np.ndarray
    ) -> Histogram:
        """A binned histogram, or an exact one when every bucket holds a single value."""
        import numpy as np

        if np.array_equal(lo, hi):
            return cls(lo, lo, counts, mean, std)
        return cls(lo, hi, counts, mean, std, ids=ids)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def exact(self) -> bool:
        return self.ids is None

    @property
    def buckets(self) -> int:
        return int(self.lo.shape[0])

    @property
    def minimum(self) -> float:
        return float(self.lo[0])

    @property
    def maximum(self) -> float:
        return float(self.hi[-1])

    @classmethod
    def from_samples(cls, values: np.ndarray) -> Histogram:
        """The exact histogram of finite values (mean and std as ``np.mean`` and ``np.std``)."""
        import numpy as np

        values = np.asarray(values, dtype=np.float64)
        ordered = np.sort(values)
        return cls.from_sorted(ordered, float(np.mean(values)), float(np.std(values)))

    @classmethod
    def from_sorted(cls, ordered: np.ndarray, mean: float, std: float) -> Histogram:
        import numpy as np

        if ordered.size == 0:
            empty = np.empty(0)
            return cls(empty, empty, np.empty(0, dtype=np.int64), math.nan, math.nan)
        new_value = ordered[1:] != ordered[:-1]
        if new_value.all():  # continuous data: every value once; counts of 1 take no memory
            return cls(ordered, ordered, np.broadcast_to(np.int64(1), ordered.shape), mean, std)
        starts = np.flatnonzero(np.concatenate(([True], new_value)))
        values = ordered[starts]
        counts = np.diff(np.append(starts, ordered.size)).astype(np.int64)
        return cls(values, values, counts, mean, std)

    @classmethod
    def from_counts(cls, values: np.ndarray, counts: np.ndarray, mean: float, std: float) -> Histogram:
        """An exact histogram from distinct sorted values and their counts."""
        import numpy as np

        values = np.asarray(values, dtype=np.float64)
        return cls(values, values, np.asarray(counts, dtype=np.int64), mean, std)

    def samples(self) -> np.ndarray:
        """The raw values again (exact histograms only)."""
        import numpy as np

        if not self.exact:
            raise ValueError("a binned histogram does not keep its values")
        return np.repeat(self.lo, self.counts)

    def cumulative(self) -> np.ndarray:
        """Counts of values up to and including each bucket, with a leading 0 (cached)."""
        import numpy as np

        if not self._cum:
            self._cum.append(np.concatenate(([0], np.cumsum(self.counts))))
        return self._cum[0]

    def grid_counts(self, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
        """Bucket ids on ``grid`` and the count in each (sorted by id)."""
        import numpy as np

        if self.ids is not None:
            return self.ids, self.counts
        ids = grid.ids(self.lo)
        if ids.size == 0:
            return ids, self.counts
        starts = run_starts(ids)
        return ids[starts], np.add.reduceat(self.counts, starts)

    def wasserstein_bound(self) -> float:
        """Largest change to a Wasserstein distance from spreading values evenly in buckets (0 when exact)."""
        if self.exact or self.n == 0:
            return 0.0
        return float(((self.hi - self.lo) * self.counts).sum() / (2.0 * self.n))

    def ks_bound(self) -> float:
        """Largest change to a CDF difference from spreading values evenly in buckets (0 when exact)."""
        spread = self.hi > self.lo
        if self.exact or not spread.any():
            return 0.0
        return float(self.counts[spread].max() / self.n)

    def count_below(self, x: float) -> float:
        """Values strictly below ``x`` (bucket-interpolated for binned histograms)."""
        import numpy as np

        return float(_cdf(self, np.array([x]), "left")[0])

    def count_above(self, x: float) -> float:
        import numpy as np

        return float(self.n - _cdf(self, np.array([x]), "right")[0])


def _cdf(h: Histogram, x: np.ndarray, side: str) -> np.ndarray:
    """Counts at or below (``right``) or strictly below (``left``) each ``x``, values spread evenly in a bucket."""
    import numpy as np

    cum = h.cumulative()
    k = np.searchsorted(h.hi, x, side="right" if side == "right" else "left")
    total = cum[k].astype(np.float64)
    if h.exact or h.buckets == 0:
        return total
    kk = np.minimum(k, h.buckets - 1)
    lo, hi = h.lo[kk], h.hi[kk]
    inside = (k < h.buckets) & (lo < x) & (hi > lo)
    if inside.any():
        width = np.where(inside, hi - lo, 1.0)
        total = total + np.where(inside, (x - lo) / width, 0.0) * h.counts[kk]
    return total


def cdf_difference(a: Histogram, b: Histogram) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Breakpoints ``x`` and, on each interval ``(x[i], x[i+1])``, ``F_a - F_b`` at its start and end.

    Between breakpoints both CDFs are linear (flat for exact histograms), so integrals and maxima
    of ``|F_a - F_b|`` follow from these values exactly. Returns ``(x, d_start, d_end, d_at)``
    where ``d_at`` is the right-continuous difference at each breakpoint.
    """
    import numpy as np

    if a.exact and b.exact:
        # Both are sorted runs: a stable argsort merges them in linear time; integer cumulative
        # counts keep each CDF exactly what scipy computes with searchsorted.
        values = np.concatenate((a.lo, b.lo))
        order = np.argsort(values, kind="stable")
        values = values[order]
        ca = np.concatenate((a.counts, np.zeros(b.buckets, dtype=np.int64)))[order].cumsum()
        cb = np.concatenate((np.zeros(a.buckets, dtype=np.int64), b.counts))[order].cumsum()
        last = np.concatenate((values[1:] != values[:-1], [True]))
        x = values[last]
        d = ca[last] / a.n - cb[last] / b.n
        return x, d[:-1], d[:-1], d
    x = np.unique(np.concatenate((a.lo, a.hi, b.lo, b.hi)))
    right = _cdf(a, x, "right") / a.n - _cdf(b, x, "right") / b.n
    left_end = _cdf(a, x[1:], "left") / a.n - _cdf(b, x[1:], "left") / b.n
    return x, right[:-1], left_end, right


def wasserstein(a: Histogram, b: Histogram) -> float:
    """The 1-Wasserstein distance ``integral |F_a - F_b| dx`` (scipy's ``wasserstein_distance``)."""
    import numpy as np

    if a.exact and b.exact:
        # One merge of the two sorted value lists; on a common denominator n_a * n_b the CDF
        # difference is an exact integer. Ties contribute zero-width steps, so no grouping is needed.
        values = np.concatenate((a.lo, b.lo))
        order = np.argsort(values, kind="stable")
        values = values[order]
        steps = np.concatenate((a.counts * b.n, -b.counts * a.n))[order]
        diff = np.cumsum(steps)[:-1]
        return float(np.dot(np.abs(diff), np.diff(values)) / (float(a.n) * float(b.n)))
    x, d0, d1, _ = cdf_difference(a, b)
    dx = np.diff(x)
    same = d0 * d1 >= 0
    total = np.abs(d0) + np.abs(d1)
    crossing = np.divide(d0 * d0 + d1 * d1, 2 * total, out=np.zeros_like(total), where=total > 0)
    return float(np.sum(dx * np.where(same, total / 2, crossing)))


def ks_statistic(a: Histogram, b: Histogram) -> float:
    """``sup |F_a - F_b|`` (scipy's ``ks_2samp`` statistic)."""
    import numpy as np

    _, _, d1, d_at = cdf_difference(a, b)
    parts = [np.abs(d_at)]
    if not (a.exact and b.exact):
        parts.append(np.abs(d1))
    return float(max(p.max(initial=0.0) for p in parts))


def quantile_bins(reference: Histogram, grid: Grid, bins: int = N_BINS) -> np.ndarray:
    """Upper bucket ids of the reference's quantile bins, plus a bin below and above its range.

    Bin ``i`` holds the ids in ``(upper[i-1], upper[i]]``; ids ``<= upper[0]`` fall below the
    reference's smallest bucket and ids ``> upper[-1]`` above its largest. Bin edges sit on grid
    bucket boundaries, so a raw sample and a saved profile put every value in the same bin.
    """
    import numpy as np

    ids, counts = reference.grid_counts(grid)
    cum = np.cumsum(counts)
    total = int(cum[-1])
    # first bucket whose cumulative count reaches k/bins of the total (integers: no rounding)
    targets = [(k * total + bins - 1) // bins for k in range(1, bins)]
    cuts = ids[np.searchsorted(cum, targets, side="left")]
    return np.unique(np.concatenate(([ids[0] - 1], cuts, [ids[-1]])))


def bin_counts(hist: Histogram, grid: Grid, upper: np.ndarray) -> np.ndarray:
    """Counts of ``hist`` in the bins given by ``upper`` (see ``quantile_bins``)."""
    import numpy as np

    ids, counts = hist.grid_counts(grid)
    return np.bincount(np.searchsorted(upper, ids, side="left"), weights=counts, minlength=upper.size + 1).astype(
        np.int64
    )


def run_starts(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values in ``keys`` (sorted, or grouped) starts."""
    import numpy as np

    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
