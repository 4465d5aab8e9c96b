"""Mergeable per-batch column summaries: what the drift check reads from the data.

Every summary here is an accumulator with three operations: ``update(batch_column)``,
``merge(other)`` and ``finalize()``. ``merge`` is associative and commutative up to float
rounding of the mean and variance, so the same summary comes out whether one reader feeds
every batch or many workers each summarize a part and their summaries are merged. The drift
check never needs anything else from the data, which is what lets a saved profile
(``drift/profile.py``) stand in for the raw reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from omgml.drift.histogram import Grid, Histogram, run_starts

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

EXACT_CAP = 5_000  # a profile keeps every distinct numeric value up to this many per column
CURRENT_EXACT_ROWS = 5_000  # against a profile, the current side keeps its raw values up to this many rows
MAX_CATEGORIES = 1_000  # categories kept by name; the rest share one "other" bucket
DISTINCT_MEMORY_CAP = 20_000_000  # integer columns: exact distinct tracking gives up beyond this
COMPACT_PARTS = 32

# ---------------------------------------------------------------------------------------------
# finalized summaries


@dataclass
class NumericSummary:
    """One numeric column on one side. ``hist`` is None when no finite value was seen."""

    physical: str
    rows: int
    count: int  # finite values
    nulls: int  # null or NaN
    pos_inf: int
    neg_inf: int
    minimum: float
    maximum: float
    mean: float
    std: float
    hist: Histogram | None
    distinct: int | None  # exact when known
    grid: Grid | None = None
    below: int | None = None  # values below / above the bounds given to the accumulator
    above: int | None = None


@dataclass
class CategorySummary:
    """One categorical column on one side: counts by value, most frequent first."""

    physical: str
    rows: int
    count: int  # non-null values
    nulls: int
    values: list[str]
    counts: np.ndarray
    other_count: int = 0  # values folded into "other" (a saved profile keeps MAX_CATEGORIES)
    other_distinct: int = 0
    mean_length: float | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def distinct(self) -> int:
        return len(self.values) + self.other_distinct

    def count_of(self, value: str) -> int:
        if not self._index:
            self._index.update({v: int(c) for v, c in zip(self.values, self.counts)})
        return self._index.get(value, 0)

    def folded(self, keep: int = MAX_CATEGORIES) -> CategorySummary:
        """The ``keep`` most frequent values by name, the rest in "other"."""
        if len(self.values) <= keep:
            return self
        rest = self.counts[keep:]
        return CategorySummary(
            physical=self.physical,
            rows=self.rows,
            count=self.count,
            nulls=self.nulls,
            values=self.values[:keep],
            counts=self.counts[:keep],
            other_count=self.other_count + int(rest.sum()),
            other_distinct=self.other_distinct + len(rest),
            mean_length=self.mean_length,
        )


Summary = NumericSummary | CategorySummary


# ---------------------------------------------------------------------------------------------
# accumulators


_NUMPY_TYPES = {
    "int8": "i1",
    "int16": "i2",
    "int32": "i4",
    "int64": "i8",
    "uint8": "u1",
    "uint16": "u2",
    "uint32": "u4",
    "uint64": "u8",
    "halffloat": "f2",
    "float": "f4",
    "double": "f8",
}


def numpy_view(array: pa.Array) -> np.ndarray:
    """The values of a primitive Arrow array without nulls, as a numpy view.

    ``to_numpy`` would do, but its first call imports pandas (half a second) for nothing here.
    """
    import numpy as np

    dtype = np.dtype(_NUMPY_TYPES[str(array.type)])
    if array.null_count or len(array) == 0:
        if len(array) == 0:
            return np.empty(0, dtype=dtype)
        raise ValueError("numpy_view needs an array without nulls")
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def arrow_int64(values: np.ndarray) -> pa.Array:
    """A numpy integer array as an Arrow int64 array (``pa.array`` would import pandas to check its type)."""
    import numpy as np
    import pyarrow as pa

    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def finite_values(array: pa.Array) -> tuple[np.ndarray, int, int, int]:
    """Finite float64 values of a numeric Arrow array, and its null-or-NaN, +inf and -inf counts."""
    import numpy as np
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_decimal(array.type) or str(array.type) not in _NUMPY_TYPES:
        array = array.cast(pa.float64())
    nulls = array.null_count
    if nulls:
        array = array.drop_null()
    x = numpy_view(array).astype(np.float64, copy=False)
    finite = np.isfinite(x)
    if finite.all():
        return x, nulls, 0, 0
    bad = x[~finite]
    pos = int(np.count_nonzero(bad == np.inf))
    neg = int(np.count_nonzero(bad == -np.inf))
    return x[finite], nulls + (bad.size - pos - neg), pos, neg


class NumericAccumulator:
    """Running summary of a numeric column: counts, exact moments, values or grid buckets.

    ``keep`` decides what is kept of the values: ``all`` (every value: an exact comparison),
    ``distinct`` (distinct values and counts, giving up past ``cap`` distinct values), ``rows``
    (raw values while at most ``cap`` rows were seen) or ``none``. With a ``grid``, values are
    also counted in grid buckets; with ``bounds``, values below and above them are counted.
    """

    def __init__(
        self,
        physical: str,
        *,
        keep: Literal["all", "distinct", "rows", "none"],
        cap: int | None = None,
        grid: Grid | None = None,
        bounds: tuple[float, float] | None = None,
    ) -> None:
        self.physical, self.keep, self.cap, self.grid, self.bounds = physical, keep, cap, grid, bounds
        self.rows = self.count = self.nulls = self.pos_inf = self.neg_inf = 0
        self.minimum, self.maximum = math.inf, -math.inf
        self.mean = self.m2 = 0.0
        self.parts: list[Any] = []  # value chunks (all, rows) or (values, counts) pairs (distinct)
        self.parts_size = 0
        self.overflow = keep == "none"
        self.buckets: list[tuple[Any, Any, Any, Any]] = []  # (ids, counts, lo, hi) per batch
        self.below = self.above = 0

    def fresh(self) -> NumericAccumulator:
        return NumericAccumulator(self.physical, keep=self.keep, cap=self.cap, grid=self.grid, bounds=self.bounds)

    def update(self, array: pa.Array) -> None:
        import numpy as np

        x, nulls, pos, neg = finite_values(array)
        self.rows += len(array)
        self.nulls += nulls
        self.pos_inf += pos
        self.neg_inf += neg
        if x.size == 0:
            return
        z = None
        if self.grid is not None:
            # Standardized once, for the buckets and the moments (shifted sums: no cancellation
            # unless the values sit millions of stds from the grid's centre).
            z = self.grid.standardize(x)
            mz = float(z.sum()) / z.size
            mean = self.grid.center + self.grid.scale * mz
            m2 = self.grid.scale**2 * max(float(np.dot(z, z)) - z.size * mz * mz, 0.0)
        elif self.keep == "all":
            mean = m2 = 0.0  # finalize computes both from the sorted values, the same whatever the order
        else:
            mean = float(x.mean())
            centred = x - mean
            m2 = float(np.dot(centred, centred))
        self._add_moments(x.size, mean, m2, float(x.min()), float(x.max()))
        if self.bounds is not None:
            self.below += int(np.count_nonzero(x < self.bounds[0]))
            self.above += int(np.count_nonzero(x > self.bounds[1]))
        if z is not None:
            self.buckets.append(_grid_buckets(x, z, self.grid))
            if len(self.buckets) > COMPACT_PARTS:
                self.buckets = [_merge_buckets(self.buckets)]
        if self.overflow:
            return
        if self.keep == "distinct":
            values, starts = _sorted_unique(x)
            self.parts.append((values, np.diff(np.append(starts, x.size))))
            self.parts_size += values.size
            self._maybe_compact()
        else:
            self.parts.append(x)
            self.parts_size += x.size
            if self.keep == "rows" and self.cap is not None and self.count > self.cap:
                self._give_up()

    def merge(self, other: NumericAccumulator) -> None:
        """Fold ``other`` (a summary of other rows of the same column) into this one."""
        self.rows += other.rows
        self.nulls += other.nulls
        self.pos_inf += other.pos_inf
        self.neg_inf += other.neg_inf
        self.below += other.below
        self.above += other.above
        if other.count:
            self._add_moments(other.count, other.mean, other.m2, other.minimum, other.maximum)
        self.buckets.extend(other.buckets)
        if len(self.buckets) > COMPACT_PARTS:  # as update compacts: a merge of many partitions stays bounded
            self.buckets = [_merge_buckets(self.buckets)]
        if other.overflow and not self.overflow:
            self._give_up()
        if self.overflow:
            return
        self.parts.extend(other.parts)
        self.parts_size += other.parts_size
        if self.keep == "rows" and self.cap is not None and self.count > self.cap:
            self._give_up()
        elif self.keep == "distinct":
            self._maybe_compact()

    def _add_moments(self, n: int, mean: float, m2: float, lo: float, hi: float) -> None:
        # Chan, Golub and LeVeque (1979): exact pairwise update of the count, mean and sum of squares.
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total
        self.minimum = min(self.minimum, lo)
        self.maximum = max(self.maximum, hi)

    def _give_up(self) -> None:
        self.overflow = True
        self.parts = []
        self.parts_size = 0

    def _maybe_compact(self) -> None:
        limit = DISTINCT_MEMORY_CAP if self.cap is None else 2 * self.cap
        if self.parts_size > limit or len(self.parts) > COMPACT_PARTS:
            values, counts = _merge_distinct(self.parts)
            self.parts, self.parts_size = [(values, counts)], values.size
            if values.size > (DISTINCT_MEMORY_CAP if self.cap is None else self.cap):
                self._give_up()

    def finalize(self) -> NumericSummary:
        import numpy as np

        std = math.sqrt(self.m2 / self.count) if self.count else math.nan
        mean = self.mean if self.count else math.nan
        hist: Histogram | None = None
        distinct: int | None = None
        if self.count and not self.overflow and self.keep == "distinct":
            values, counts = _merge_distinct(self.parts)
            if self.cap is None or values.size <= self.cap:
                hist = Histogram.from_counts(values, counts, mean, std)
                distinct = hist.buckets
        elif self.count and not self.overflow:
            ordered = np.concatenate(self.parts) if len(self.parts) > 1 else self.parts[0].copy()
            ordered.sort()
            if self.keep == "all":
                self.parts = [ordered]  # drop the batches' buffers; finalize stays repeatable
                # mean and std from the sorted values: the same bits whatever the row order
                mean = float(ordered.sum()) / ordered.size
                centred = ordered - mean
                std = math.sqrt(float(np.dot(centred, centred)) / ordered.size)
            hist = Histogram.from_sorted(ordered, mean, std)
            distinct = hist.buckets
        if hist is None and self.count and self.buckets:
            ids, counts, lo, hi = _merge_buckets(self.buckets)
            hist = Histogram.from_buckets(lo, hi, counts, mean, std, ids)
            if hist.exact:
                distinct = hist.buckets
        bounded = self.bounds is not None
        return NumericSummary(
            physical=self.physical,
            rows=self.rows,
            count=self.count,
            nulls=self.nulls,
            pos_inf=self.pos_inf,
            neg_inf=self.neg_inf,
            minimum=self.minimum if self.count else math.nan,
            maximum=self.maximum if self.count else math.nan,
            mean=mean,
            std=std,
            hist=hist,
            distinct=distinct,
            grid=self.grid,
            below=self.below if bounded else None,
            above=self.above if bounded else None,
        )


def _sorted_unique(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    ordered = np.sort(x)
    starts = run_starts(ordered)
    return ordered[starts], starts


def _merge_distinct(parts: list) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    values = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts])
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = run_starts(values)
    return values[starts], np.add.reduceat(counts, starts)


def _grid_buckets(x: np.ndarray, z: np.ndarray, grid: Grid) -> tuple:
    import numpy as np

    ids = grid.ids_of_standardized(z)
    first = int(ids.min())
    span = int(ids.max()) - first + 1
    if span <= 4 * x.size + 1024:
        k = ids
        k -= first
        counts = np.bincount(k, minlength=span)
        lo = np.full(span, np.inf)
        hi = np.full(span, -np.inf)
        np.minimum.at(lo, k, x)
        np.maximum.at(hi, k, x)
        used = np.flatnonzero(counts)
        return used + first, counts[used], lo[used], hi[used]
    uniq, inverse = np.unique(ids, return_inverse=True)
    counts = np.bincount(inverse)
    lo = np.full(uniq.size, np.inf)
    hi = np.full(uniq.size, -np.inf)
    np.minimum.at(lo, inverse, x)
    np.maximum.at(hi, inverse, x)
    return uniq, counts, lo, hi


def _merge_buckets(parts: list) -> tuple:
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([p[0] for p in parts])
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    counts = np.concatenate([p[1] for p in parts])[order]
    lo = np.concatenate([p[2] for p in parts])[order]
    hi = np.concatenate([p[3] for p in parts])[order]
    starts = run_starts(ids)
    return (
        ids[starts],
        np.add.reduceat(counts, starts),
        np.minimum.reduceat(lo, starts),
        np.maximum.reduceat(hi, starts),
    )


class CategoryAccumulator:
    """Running counts of a categorical column's values (Arrow's hash counting per batch)."""

    def __init__(self, physical: str) -> None:
        self.physical = physical
        self.rows = self.nulls = 0
        self.parts: list[tuple[Any, Any]] = []

    def fresh(self) -> CategoryAccumulator:
        return CategoryAccumulator(self.physical)

    def update(self, array: pa.Array) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        self.rows += len(array)
        if pa.types.is_dictionary(array.type) and array.dictionary.null_count == 0:
            # Count the codes, not the strings: parquet hands text columns over dictionary-encoded.
            self.nulls += array.null_count
            codes = array.indices.drop_null() if array.null_count else array.indices
            counts = np.bincount(numpy_view(codes).astype(np.int64, copy=False), minlength=len(array.dictionary))
            used = np.flatnonzero(counts)
            if used.size:
                values = as_text(array.dictionary.take(arrow_int64(used)))
                self.parts.append((values, arrow_int64(counts[used])))
        else:
            array = as_text(array)
            self.nulls += array.null_count
            counted = pc.value_counts(array.drop_null() if array.null_count else array)
            if len(counted):
                self.parts.append((counted.field("values"), counted.field("counts")))
        if len(self.parts) > COMPACT_PARTS:
            self.parts = [self._merged()]

    def merge(self, other: CategoryAccumulator) -> None:
        self.rows += other.rows
        self.nulls += other.nulls
        self.parts.extend(other.parts)
        if len(self.parts) > COMPACT_PARTS:
            self.parts = [self._merged()]

    def _merged(self) -> tuple[Any, Any]:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if len(self.parts) == 1:
            return self.parts[0]
        # Hash the values once (a compute kernel; Table.group_by would pull in Arrow's query engine).
        encoded = pc.dictionary_encode(pa.concat_arrays([p[0] for p in self.parts]))
        counts = np.concatenate([numpy_view(p[1]) for p in self.parts])
        codes = numpy_view(encoded.indices).astype(np.int64, copy=False)
        summed = np.bincount(codes, weights=counts, minlength=len(encoded.dictionary))
        return encoded.dictionary, arrow_int64(np.rint(summed))

    def finalize(self) -> CategorySummary:
        import numpy as np
        import pyarrow.compute as pc

        if not self.parts:
            return CategorySummary(self.physical, self.rows, 0, self.nulls, [], np.zeros(0, dtype=np.int64))
        values, counts = self._merged()
        counts_np = numpy_view(counts).astype(np.int64, copy=False)
        lengths = numpy_view(pc.binary_length(values)).astype(np.float64)
        texts = values.to_pylist()
        order = sorted(range(len(texts)), key=lambda i: (-counts_np[i], texts[i]))
        total = int(counts_np.sum())
        return CategorySummary(
            physical=self.physical,
            rows=self.rows,
            count=total,
            nulls=self.nulls,
            values=[texts[i] for i in order],
            counts=counts_np[order],
            mean_length=float((lengths * counts_np).sum() / total) if total else None,
        )


def as_text(array: pa.Array) -> pa.Array:
    """A categorical column's values as plain strings (booleans become ``true``/``false``)."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_string(array.type):
        array = array.cast(pa.string())
    return array
