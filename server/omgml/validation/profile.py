"""One streaming pass over a table that keeps everything the checks need, in bounded memory.

Per column: missing values, finite min and max, infinities, exact value counts while a column
has at most ``EXACT_DISTINCT_CAP`` distinct values (then a distinct-count sketch), text that
reads as numbers or dates, and the contract's range and category counts. Per row: one 64-bit
hash of the whole row (duplicates, overlap), of the key columns, and of features and target
(label conflicts): 8 bytes a row each. Exact uniqueness of a high-cardinality integer or text
column keeps 8 bytes a row for that column while no duplicate has been seen, within
``UNIQUE_BUDGET_ROWS``. With a target, a uniform random sample of rows is kept for the leakage
check. When a contract is to be inferred, each numeric column keeps its ``TAIL_VALUES`` smallest and
largest values (the order statistics its bounds are extrapolated from). Nothing else grows with the table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omgml.data.kinds import KindStats, date_mask, infer_kind, number_mask, physical_of, time_mask
from omgml.data.kinds import flags as _flags
from omgml.data.tables import RaggedRows, Table, read_settled
from omgml.validation.hashing import (
    NULL_HASH,
    DistinctSketch,
    hash_array,
    hash_floats,
    integer_parts,
    mark_nulls,
    mix,
    numpy_filled,
)

if TYPE_CHECKING:
    import pyarrow as pa

EXACT_DISTINCT_CAP = 1000
MAX_EXAMPLES = 5
UNIQUE_BUDGET_ROWS = 64_000_000  # 512 MB of hashes over all columns tracked for exact uniqueness
SMALL_SPAN = 65_536  # integer batches spanning at most this many values are counted with bincount
UNSEEN_CAP = 1000  # distinct unseen categories counted by value
SAMPLE_ROWS = 50_000
SAMPLE_SEED = 20240611
TAIL_VALUES = 50  # smallest and largest values kept per numeric column when a contract is inferred
DATE_PROBE_VALUES = 1000
DATE_LIKE_SHARE = 0.5  # a text column is date-like (or time-like) when at least half its first values read so


@dataclass(frozen=True)
class ColumnRules:
    """What a contract asks of one column, in the form the pass counts it."""

    min: Any = None
    max: Any = None
    categories: tuple | None = None
    dates: bool = False  # parse text as dates whatever the first values look like
    times: bool = False  # parse text as times of day whatever the first values look like


@dataclass
class ColumnProfile:
    index: int
    name: str
    dtype: str
    physical: str
    rows: int = 0
    nulls: int = 0  # null or NaN
    nan: int = 0
    inf: int = 0
    inf_examples: list = field(default_factory=list)
    fractional: int = 0  # floats that are not whole numbers
    fractional_examples: list = field(default_factory=list)
    min: Any = None  # finite
    max: Any = None
    counts: dict | None = field(default_factory=dict)  # value -> rows, while distinct <= EXACT_DISTINCT_CAP
    sketch: DistinctSketch = field(default_factory=DistinctSketch)
    dup_seen: bool = False  # some value is known to repeat
    length_sum: int = 0
    numeric_text: int = 0
    numeric_examples: list = field(default_factory=list)
    other_text: int = 0
    other_examples: list = field(default_factory=list)
    date_like: bool | None = None
    date_ok: int = 0
    date_bad: int = 0
    date_bad_examples: list = field(default_factory=list)
    time_like: bool | None = None
    time_ok: int = 0
    time_bad: int = 0
    time_bad_examples: list = field(default_factory=list)
    below: int = 0
    above: int = 0
    range_examples: list = field(default_factory=list)
    unseen: dict = field(default_factory=dict)
    unseen_total: int = 0
    keep_tails: bool = False  # keep the extreme values below (a contract is inferred from this pass)
    lowest: np.ndarray | None = None  # the TAIL_VALUES smallest finite values, ascending (float64)
    highest: np.ndarray | None = None  # the TAIL_VALUES largest, descending
    # set by finish()
    distinct: int = 0
    distinct_exact: bool = True
    all_distinct: bool | None = None
    kind: str = "text"
    kind_reason: str = ""
    _seen_in_counts: bool = False  # the batch that overflowed the counts is already hashed

    def __post_init__(self) -> None:
        if self.physical in ("null", "other"):
            self.counts = None

    @property
    def present(self) -> int:
        return self.rows - self.nulls

    def kind_stats(self) -> KindStats:
        span = None
        if self.physical == "integer" and self.min is not None:
            span = int(self.max) - int(self.min) + 1
        return KindStats(
            physical=self.physical,  # type: ignore[arg-type]
            non_null=self.present,
            distinct=self.distinct,
            all_distinct=self.all_distinct,
            mean_length=self.length_sum / self.present if self.physical == "string" and self.present else None,
            numeric_text=self.numeric_text,
            date_text=self.date_ok if self.date_like else 0,
            span=span,
            time_text=self.time_ok if self.time_like else 0,
            name=self.name,
        )

    def update(self, arr: pa.Array, rules: ColumnRules | None) -> np.ndarray:
        """Fold one batch of this column into the profile; return the column's hashes for the row hashes."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        n = len(arr)
        self.rows += n
        self.nulls += arr.null_count
        physical = self.physical
        hashes = None
        if physical == "float" and pa.types.is_floating(arr.type):
            hashes, batch_range = self._update_floats(arr)
        elif physical == "float":  # decimals: no NaN or infinity
            batch_range = self._min_max(arr)
            values = numpy_filled(pc.cast(arr, pa.float64()), 0.0)
            self._count_fractional(values, integer_parts(values)[1], None)
            if self._tails_reached(batch_range):
                self._fold_tails(values if not arr.null_count else values[~_flags(arr.is_null())])
        elif physical in ("integer", "datetime", "time"):
            batch_range = self._min_max(arr)
            if physical == "integer" and self._tails_reached(batch_range):
                self._fold_tails(np.asarray(pc.drop_null(arr).to_numpy(zero_copy_only=False), dtype=np.float64))
        else:
            batch_range = None
        if rules is not None and physical != "null":
            self._check_range(arr, rules, batch_range)
        if physical == "string":
            return self._update_text(arr, rules)
        counted = None
        if physical == "integer" and self.counts is not None and batch_range is not None:
            counted = _count_small_span(arr, *batch_range)
        elif physical == "boolean" and self.counts is not None:
            counted = _count_small_span(arr, 0, 1)  # hashed as 0 and 1, as hash_array does
        if counted is not None:
            values, weights, hashes = counted
        elif hashes is None:
            hashes = hash_array(arr)
        if physical in ("null", "other"):
            return hashes
        if counted is None and self.counts is not None and self._many_distinct(arr):
            self._give_up_counts(hashes, arr)
        if self.counts is not None:
            if counted is None:
                counts = pc.value_counts(pc.drop_null(arr))
                values, weights = counts.field("values"), np.asarray(counts.field("counts").to_numpy())
            self._check_categories(values, weights, rules)
            self._merge_counts(values, weights, arr)
        elif rules is not None and rules.categories is not None:
            self._check_categories(pc.drop_null(arr), None, rules)
        if self.counts is None:
            self._track(hashes, arr)
        return hashes

    def _update_floats(self, arr: pa.Array) -> tuple[np.ndarray, tuple[float, float] | None]:
        """NaN, infinities, the finite range and fractional values of a float batch, and its hashes:
        one numpy view of the values feeds them all (fewer passes over the batch than one kernel each)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not pa.types.is_float64(arr.type):
            arr = pc.cast(arr, pa.float64())
        values = np.asarray(arr.to_numpy(zero_copy_only=False))  # nulls read as NaN
        nulls = arr.null_count
        finite = np.isfinite(values)
        n_finite = int(np.count_nonzero(finite))
        odd = len(values) - n_finite - nulls  # NaN and infinities that are not nulls
        nan = 0
        if odd:
            nan = int(np.count_nonzero(np.isnan(values))) - nulls
            self.nan += nan
            self.nulls += nan
            if odd > nan:
                self.inf += odd - nan
                _add_examples(self.inf_examples, values[np.isinf(values)][:20].tolist())
        finite_values = values if n_finite == len(values) else values[finite]
        batch_range = None
        if len(finite_values):
            batch_range = float(finite_values.min()) + 0.0, float(finite_values.max()) + 0.0  # + 0.0: no -0.0
            self._fold_range(*batch_range)
            if self._tails_reached(batch_range):
                self._fold_tails(finite_values)
        as_int, integral = integer_parts(values)
        not_integral = n_finite - int(np.count_nonzero(integral))
        if not_integral and (len(self.fractional_examples) < MAX_EXAMPLES or not _within_int64(batch_range)):
            self._count_fractional(values, integral, finite)
        else:  # every finite value that is not an int64 is fractional: count them without a mask
            self.fractional += not_integral
        hashes = hash_floats(values, as_int, integral, nan=nan > 0)  # nulls read as NaN: marked next
        return mark_nulls(hashes, arr), batch_range

    def _count_fractional(self, values: np.ndarray, integral: np.ndarray, finite: np.ndarray | None) -> None:
        """Count finite values that are not whole numbers (``integral`` misses whole numbers beyond int64)."""
        if finite is None:
            finite = np.isfinite(values)
        with np.errstate(invalid="ignore"):
            frac_mask = finite & ~integral & (np.abs(values) < 2.0**63)
        frac = int(np.count_nonzero(frac_mask))
        if frac:
            self.fractional += frac
            if len(self.fractional_examples) < MAX_EXAMPLES:
                _add_examples(self.fractional_examples, values[np.flatnonzero(frac_mask)[:20]].tolist())

    def _tails_reached(self, batch_range: tuple[Any, Any] | None) -> bool:
        """Whether tails are kept and the batch's range reaches past them (most batches do not, once they are full)."""
        if not self.keep_tails or batch_range is None:
            return False
        if self.lowest is None or len(self.lowest) < TAIL_VALUES:
            return True
        return batch_range[0] < self.lowest[-1] or batch_range[1] > self.highest[-1]

    def _fold_tails(self, values: np.ndarray) -> None:
        """Keep the ``TAIL_VALUES`` smallest and largest of the values seen so far (in float64).

        Only values past the kept ones can enter, and only values past a subset's k-th extremes can be
        among the batch's k extremes (a subset's k-th largest is at most the batch's): one comparison
        pass leaves a few thousand values of a large batch to partition.
        """
        k = TAIL_VALUES
        low_cut = high_cut = None
        if self.lowest is not None and len(self.lowest) == k:
            low_cut, high_cut = self.lowest[-1], self.highest[-1]
        if len(values) > 64 * k:
            subset = values[:: max(1, len(values) // 8192)]
            sub_low, sub_high = np.partition(subset, (k - 1, len(subset) - k))[[k - 1, len(subset) - k]]
            low_cut = sub_low if low_cut is None else min(low_cut, sub_low)
            high_cut = sub_high if high_cut is None else max(high_cut, sub_high)
        if low_cut is not None:
            values = values[(values <= low_cut) | (values >= high_cut)]
        if len(values) > k:
            low, high = np.partition(values, k - 1)[:k], np.partition(values, len(values) - k)[-k:]
        else:
            low = high = values
        if self.lowest is not None:
            low, high = np.concatenate([self.lowest, low]), np.concatenate([self.highest, high])
        self.lowest, self.highest = np.sort(low)[:k], np.sort(high)[::-1][:k]

    def _fold_range(self, lo: Any, hi: Any) -> None:
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)

    def _min_max(self, arr: pa.Array) -> tuple[Any, Any] | None:
        """Fold the batch's smallest and largest value in; return them (None when it has no value)."""
        import pyarrow.compute as pc

        if len(arr) == arr.null_count:
            return None
        result = pc.min_max(arr)
        lo, hi = result["min"].as_py(), result["max"].as_py()
        if lo is None:
            return None
        self._fold_range(lo, hi)
        return lo, hi

    def _merge_counts(self, values: pa.Array, counts: np.ndarray, arr: pa.Array) -> None:
        """Add one batch's distinct values and counts; past ``EXACT_DISTINCT_CAP`` switch to the sketch."""
        import pyarrow as pa

        merged = self.counts
        if len(values) > EXACT_DISTINCT_CAP:
            # The batch alone has too many distinct values: switch without a Python loop over them.
            if len(counts) and counts.max() > 1:
                self.dup_seen = True
            self._give_up_counts(hash_array(values), values)
            return
        found = values.to_pylist()
        if self.physical == "float":  # NaN is missing, not a category
            keep = [not (isinstance(v, float) and math.isnan(v)) for v in found]
            found, counts = [v for v, k in zip(found, keep) if k], counts[np.array(keep, dtype=bool)]
        before, get = len(merged), merged.get
        for value, count in zip(found, counts.tolist()):
            merged[value] = get(value, 0) + count
        # a value repeats within the batch, or met one counted before (Python may equate values Arrow keeps apart)
        if len(counts) and (counts.max() > 1 or len(merged) < before + len(found)):
            self.dup_seen = True
        if len(merged) <= EXACT_DISTINCT_CAP:
            return
        self.counts = None
        self.sketch.update(hash_array(pa.array(list(merged), type=arr.type)))
        self._seen_in_counts = True

    def _many_distinct(self, arr: pa.Array) -> bool:
        """Whether the batch's first values alone exceed the cap (then counting them all is wasted work)."""
        import pyarrow.compute as pc

        if len(arr) <= 2 * EXACT_DISTINCT_CAP:
            return False
        return pc.count_distinct(arr.slice(0, 2 * EXACT_DISTINCT_CAP)).as_py() > EXACT_DISTINCT_CAP

    def _give_up_counts(self, hashes: np.ndarray, arr: pa.Array) -> None:
        """Switch to the sketch, seeding it with the values counted so far and this batch."""
        import pyarrow as pa
        import pyarrow.compute as pc

        merged = self.counts
        present = hashes if not arr.null_count else hashes[~_flags(arr.is_null())]
        if merged:
            previous = pa.array(list(merged), type=arr.type)
            if max(merged.values()) > 1 or pc.any(pc.is_in(previous, value_set=pc.drop_null(arr))).as_py():
                self.dup_seen = True
            present = np.concatenate([hash_array(previous), present])
        self.counts = None
        self.sketch.update(present)
        self._seen_in_counts = True

    def _track(self, hashes: np.ndarray, arr: pa.Array) -> None:
        """Feed the distinct-count sketch once value counts were given up."""
        if self._seen_in_counts:  # this batch's values went into the sketch when the counts overflowed
            self._seen_in_counts = False
            return
        self.sketch.update(hashes if not arr.null_count else hashes[~_flags(arr.is_null())])

    def _update_text(self, arr: pa.Array, rules: ColumnRules | None) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = pc.cast(arr, pa.large_string())
        if self.counts is not None and self._many_distinct(arr):
            hashes = hash_array(arr)
            self._give_up_counts(hashes, arr)
            self._seen_in_counts = False  # no _track call follows for this batch
            self._text_stats(arr, None, rules)
            self._check_categories(pc.drop_null(arr), None, rules)
            return hashes
        if self.counts is not None:
            encoded = pc.dictionary_encode(arr)
            dictionary = encoded.dictionary
            indices = encoded.indices
            codes = numpy_filled(indices, 0)
            weights = np.bincount(
                codes[~indices.is_null().to_numpy(zero_copy_only=False)] if arr.null_count else codes,
                minlength=len(dictionary),
            )
            hashes = (
                np.take(hash_array(dictionary), codes) if len(dictionary) else np.full(len(arr), NULL_HASH, np.uint64)
            )
            mark_nulls(hashes, arr)
            self._text_stats(dictionary, weights, rules)
            self._check_categories(dictionary, weights, rules)
            self._merge_counts(dictionary, weights, arr)
            if self.counts is None:
                self._seen_in_counts = False
            return hashes
        hashes = hash_array(arr)
        self._text_stats(arr, None, rules)
        self._check_categories(pc.drop_null(arr), None, rules)
        self._track(hashes, arr)
        return hashes

    def _text_stats(self, values: pa.Array, weights: np.ndarray | None, rules: ColumnRules | None) -> None:
        """Lengths, numbers stored as text, dates stored as text; ``weights`` counts each value when distinct."""
        import pyarrow.compute as pc

        def total(mask: np.ndarray) -> int:
            return int(weights[mask].sum()) if weights is not None else int(mask.sum())

        lengths = pc.binary_length(values)
        if weights is not None:
            self.length_sum += int((numpy_filled(lengths, 0) * weights).sum())
        else:
            self.length_sum += pc.sum(lengths).as_py() or 0
        numeric = number_mask(values)
        n_numeric = total(numeric)
        n_present = int(weights.sum()) if weights is not None else len(values) - values.null_count
        self.numeric_text += n_numeric
        self.other_text += n_present - n_numeric
        if n_numeric and len(self.numeric_examples) < MAX_EXAMPLES:
            _add_examples(self.numeric_examples, values.filter(numeric).slice(0, 20).to_pylist())
        if n_numeric < n_present and len(self.other_examples) < MAX_EXAMPLES:
            _add_examples(self.other_examples, values.filter(~numeric).slice(0, 20).to_pylist())
        if self.date_like is None and n_present:
            probe = pc.drop_null(values).slice(0, DATE_PROBE_VALUES)
            self.date_like = bool((rules is not None and rules.dates) or _mostly(date_mask(probe)))
            self.time_like = bool((rules is not None and rules.times) or _mostly(time_mask(probe)))
        if self.date_like:
            good, bad = _sniffed(values, date_mask(values), total, self.date_bad_examples)
            self.date_ok, self.date_bad = self.date_ok + good, self.date_bad + bad
        if self.time_like:
            good, bad = _sniffed(values, time_mask(values), total, self.time_bad_examples)
            self.time_ok, self.time_bad = self.time_ok + good, self.time_bad + bad

    def _check_range(self, arr: pa.Array, rules: ColumnRules, batch_range: tuple[Any, Any] | None) -> None:
        """Count values below the contract's min and above its max (skipped when the batch's range fits)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.physical not in ("integer", "float", "datetime") or (rules.min is None and rules.max is None):
            return
        if batch_range is None:
            return
        lo, hi = batch_range
        numeric = self.physical != "datetime"
        if (
            numeric
            and (rules.min is None or _fits(lo, rules.min, True))
            and (rules.max is None or _fits(hi, rules.max, False))
        ):
            return
        if pa.types.is_floating(arr.type):
            arr = pc.filter(arr, pc.is_finite(arr))  # infinities are reported by infinite_values
        for bound, op, attr in ((rules.min, pc.less, "below"), (rules.max, pc.greater, "above")):
            if bound is None:
                continue
            scalar = _bound_scalar(bound, arr.type, attr == "below")
            if scalar is None:
                continue
            mask = pc.fill_null(op(arr, scalar), False)
            hits = pc.sum(mask).as_py() or 0
            if hits:
                setattr(self, attr, getattr(self, attr) + hits)
                _add_examples(self.range_examples, pc.filter(arr, mask).slice(0, 20).to_pylist())

    def _check_categories(self, values: pa.Array, weights: np.ndarray | None, rules: ColumnRules | None) -> None:
        """Count values outside the contract's categories; ``weights`` counts each value when they are distinct."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if rules is None or rules.categories is None or len(values) == 0:
            return
        if self.physical == "float":
            keep = pc.invert(pc.is_nan(values))
            weights = weights[_flags(keep)] if weights is not None else None
            values = pc.filter(values, keep)
        allowed = _value_set(rules.categories, values.type)
        if allowed is None:
            values = pc.cast(values, pa.string())
            allowed = pa.array([str(_category_text(c)) for c in rules.categories], type=pa.string())
        outside = _flags(pc.invert(pc.is_in(values, value_set=allowed)))
        if not outside.any():
            return
        if weights is not None:
            found = list(zip(values.filter(pa.array(outside)).to_pylist(), weights[outside].tolist()))
        else:
            counts = pc.value_counts(values.filter(pa.array(outside)))
            found = list(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
        found.sort(key=lambda pair: -pair[1])  # past UNSEEN_CAP, the most frequent values are the ones kept
        for value, count in found:
            self.unseen_total += count
            value = _jsonable(value)
            if value in self.unseen or len(self.unseen) < UNSEEN_CAP:
                self.unseen[value] = self.unseen.get(value, 0) + count

    def finish(self, candidate: np.ndarray | None) -> None:
        """Settle distinct counts, uniqueness and the kind; ``candidate`` holds every row's hash when kept."""
        if self.counts is not None:
            self.distinct, self.distinct_exact = len(self.counts), True
            self.all_distinct = bool(self.counts) and not self.dup_seen
        elif candidate is not None:
            present = np.sort(candidate[candidate != NULL_HASH])
            self.distinct = int(len(present) > 0) + int(np.count_nonzero(present[1:] != present[:-1]))
            self.distinct_exact = True
            self.all_distinct = self.distinct == len(present)
        else:
            self.distinct = max(self.sketch.estimate(), EXACT_DISTINCT_CAP + 1)
            self.distinct_exact = False
            self.all_distinct = False if self.dup_seen else None
        if self.physical == "float":
            self.all_distinct = None  # continuous values are distinct by nature: no evidence of an id
        self.kind, self.kind_reason = infer_kind(self.kind_stats())


@dataclass
class Profile:
    """What one pass learned about a table."""

    source: str
    format: str
    names: list[str]
    rows: int
    columns: list[ColumnProfile]
    ragged: RaggedRows
    row_hashes: np.ndarray
    key_hashes: dict[tuple[str, ...], np.ndarray]
    feature_hashes: np.ndarray | None
    target_hashes: np.ndarray | None
    common_hashes: np.ndarray | None
    sample: pa.Table | None
    id_columns: list[str]  # id-like and single-column key columns left out of feature and overlap hashes
    untracked: list[str]  # columns whose uniqueness was not tracked (over the memory budget)

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)

    def first_columns(self) -> list[ColumnProfile]:
        """One profile per distinct column name: the first column of a repeated name speaks for it."""
        seen: set[str] = set()
        out = []
        for column in self.columns:
            if column.name not in seen:
                seen.add(column.name)
                out.append(column)
        return out


@dataclass
class PassPlan:
    """What the pass must compute besides the per-column basics."""

    rules: dict[str, ColumnRules] = field(default_factory=dict)
    keys: list[tuple[str, ...]] = field(default_factory=list)
    target: str | None = None
    common: list[str] | None = None  # columns hashed for an overlap test; None: no overlap test
    sample_rows: int = 0
    tails: bool = False  # keep each numeric column's extreme values (a contract is inferred)


def profile_table(table: Table, plan: PassPlan) -> Profile:
    """Read ``table`` once (again from the start if a csv column had to be widened) and profile it."""
    return read_settled(table, lambda: _Pass(table, plan).run())


def row_hashes_of(table: Table, columns: list[str]) -> np.ndarray:
    """Row hashes over ``columns`` (distinct names) of ``table``, salted as the profile salts the first
    column of each name: the other side of an overlap test."""
    salts = column_salts(columns)

    def read() -> np.ndarray:
        parts = []
        for batch in table.batches(columns):
            row = np.zeros(batch.num_rows, dtype=np.uint64)
            with np.errstate(over="ignore"):
                for arr, salt in zip(batch.columns, salts):
                    row += salted(hash_array(arr), salt)
            parts.append(row)
        return _concat(parts)

    return read_settled(table, read)


def fetch_rows(table: Table, rows: list[int], columns: list[str]) -> dict[int, dict[str, Any]]:
    """The values of ``columns`` in the given 0-based rows; reads only as far as the last of them."""
    wanted = sorted(set(rows))
    if not wanted:
        return {}

    def read() -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        offset = 0
        for batch in table.batches(columns):
            for row in wanted:
                if offset <= row < offset + batch.num_rows:
                    found[row] = {
                        name: _jsonable(batch.column(i)[row - offset].as_py()) for i, name in enumerate(columns)
                    }
            offset += batch.num_rows
            if offset > wanted[-1]:
                break
        return found

    return read_settled(table, read)


class _Pass:
    def __init__(self, table: Table, plan: PassPlan) -> None:
        self.table = table
        self.plan = plan
        schema = table.schema
        self.names = list(schema.names)
        self.columns = [
            ColumnProfile(
                index=i,
                name=name,
                dtype=str(schema.field(i).type),
                physical=physical_of(schema.field(i).type),
                keep_tails=plan.tails,
            )
            for i, name in enumerate(self.names)
        ]
        self.first: dict[str, int] = {}
        for i, name in enumerate(self.names):
            self.first.setdefault(name, i)
        self.salts = column_salts(self.names)
        self.odd_salts = [salt | np.uint64(1) for salt in self.salts]
        self.rules = {self.first[n]: r for n, r in plan.rules.items() if n in self.first}
        self.keys = [(k, [self.first[c] for c in k]) for k in plan.keys]
        self.target = self.first.get(plan.target) if plan.target else None
        self.common = [self.first[c] for c in plan.common] if plan.common is not None else None
        self.rng = np.random.default_rng(SAMPLE_SEED)
        self.candidates: dict[int, _Rows] | None = None  # columns that may be unique: their hashes
        self.budget = UNIQUE_BUDGET_ROWS
        self.untracked: list[str] = []

    def run(self) -> Profile:
        rows = 0
        total = self.table.num_rows
        row_parts, target_parts, common_parts = _Rows(total), _Rows(total), _Rows(total)
        key_parts: dict[tuple[str, ...], _Rows] = {k: _Rows(total) for k, _ in self.keys}
        sample_parts: list[tuple[np.ndarray, Any]] = []
        threshold = 1.0
        members: dict[int, list[tuple[str, ...]]] = {}
        for key, idx in self.keys:
            for i in idx:
                members.setdefault(i, []).append(key)
        common_set = set(self.common or [])
        common_is_all = self.common is not None and len(common_set) == len(self.columns)
        # Text comes in batches a quarter the size of parquet's (tables.CSV_BATCH_ROWS): as many rows may wait.
        depth = 8 if self.table.format in ("csv", "tsv") else 2
        for batch in prefetch(self.table.batches(), depth):
            n = batch.num_rows
            if n == 0:
                continue
            # Row hashes add each column's salted hash, accumulated in place (no per-column arrays kept).
            row = np.zeros(n, dtype=np.uint64)
            term = np.empty(n, dtype=np.uint64)
            keyed = {key: np.zeros(n, dtype=np.uint64) for key, _ in self.keys}
            shared = np.zeros(n, dtype=np.uint64) if self.common is not None and not common_is_all else None
            hashes = []
            for i, column in enumerate(self.columns):
                h = column.update(batch.column(i), self.rules.get(i))
                hashes.append(h)
                with np.errstate(over="ignore"):
                    np.multiply(h, self.odd_salts[i], out=term)
                    row += term
                    for key in members.get(i, ()):
                        keyed[key] += term
                    if shared is not None and i in common_set:
                        shared += term
            row_parts.add(row)
            for key, hashed in keyed.items():
                key_parts[key].add(hashed)
            if self.target is not None:
                target_parts.add(hashes[self.target])
            if self.common is not None and not common_is_all:
                common_parts.add(shared)
            self._keep_candidates(hashes, total)
            if self.plan.sample_rows:
                draws = self.rng.random(n)
                chosen = np.flatnonzero(draws < threshold)
                if len(chosen):
                    sample_parts.append((draws[chosen], batch.take(chosen)))
                    if sum(len(d) for d, _ in sample_parts) > 2 * self.plan.sample_rows:
                        sample_parts, threshold = _shrink(sample_parts, self.plan.sample_rows)
            rows += n
        candidates = {i: parts.result() for i, parts in (self.candidates or {}).items()}
        self.candidates = None
        for i, column in enumerate(self.columns):
            column.finish(candidates.get(i))
        # Id-like and single-column key columns differ on every row by design: label conflicts and
        # overlap compare rows without them (a key's term is its key hash when the key is one column).
        key_terms = {idx[0]: k for k, idx in self.keys if len(idx) == 1}
        ids = sorted({i for i in candidates if self.columns[i].kind == "id_like"} | set(key_terms) - {self.target})
        if len(ids) == len(self.columns):
            ids = []  # nothing but ids: the whole row is what there is to compare
        keys_total = {k: v.result() for k, v in key_parts.items()}
        row_hashes = row_parts.result()
        common_hashes = None
        if self.common is not None:
            common_hashes = row_hashes.copy() if common_is_all else common_parts.result()
        feature_hashes = target_hashes = None
        if self.target is not None:
            feature_hashes = row_hashes.copy()
            target_hashes = target_parts.result()
        with np.errstate(over="ignore"):
            for i in ids:
                term = keys_total[key_terms[i]] if i in key_terms else salted(candidates[i], self.salts[i])
                if feature_hashes is not None:
                    feature_hashes -= term
                if common_hashes is not None and i in common_set:
                    common_hashes -= term
            if feature_hashes is not None:
                feature_hashes -= salted(target_hashes, self.salts[self.target])
        del candidates
        sample = None
        if self.plan.sample_rows and sample_parts:
            sample_parts, _ = _shrink(sample_parts, self.plan.sample_rows)
            sample = _to_table(sample_parts[0][1])
        return Profile(
            source=self.table.source,
            format=self.table.format,
            names=self.names,
            rows=rows,
            columns=self.columns,
            ragged=self.table.ragged,
            row_hashes=row_hashes,
            key_hashes=keys_total,
            feature_hashes=feature_hashes,
            target_hashes=target_hashes,
            common_hashes=common_hashes,
            sample=sample,
            id_columns=[self.names[i] for i in ids],
            untracked=self.untracked,
        )

    def _keep_candidates(self, hashes: list[np.ndarray], total: int | None) -> None:
        """Keep each row's hash of integer and text columns with no repeated value so far (ids, unique keys)."""
        if self.candidates is None:
            self.candidates = {}
            for i, column in enumerate(self.columns):
                if column.physical not in ("integer", "string") or column.present == 0:
                    continue
                if column.counts is None and not column.dup_seen:
                    if column.physical == "integer" and column.max - column.min + 1 < column.present:
                        column.dup_seen = True  # more values than room for distinct ones
                    else:
                        present = np.sort(hashes[i][hashes[i] != NULL_HASH])
                        column.dup_seen = bool((present[1:] == present[:-1]).any())
                if not column.dup_seen:
                    self.candidates[i] = _Rows(total)
        for i in list(self.candidates):
            if self.columns[i].dup_seen:
                del self.candidates[i]
            elif self.budget < len(hashes[i]):
                self.budget += self.candidates.pop(i).n
                self.untracked.append(self.names[i])
            else:
                self.budget -= len(hashes[i])
                self.candidates[i].add(hashes[i])


def prefetch(batches: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Read the next batches in a thread while the caller works on this one (Arrow decodes without the GIL).

    At most ``depth`` batches wait in memory; an error in the reader is raised here, in order.
    """
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def read() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, raised there
            slots.put(exc)

    reader = threading.Thread(target=read, name="omgml-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                reader.join(timeout=0.1)


def column_salts(names: list[str]) -> list[np.uint64]:
    """One salt per column from its name (and its place among columns of the same name)."""
    import pyarrow as pa

    seen: dict[str, int] = {}
    labels = []
    for name in names:
        labels.append(f"{name}\x00{seen.get(name, 0)}")
        seen[name] = seen.get(name, 0) + 1
    return list(hash_array(pa.array(labels, type=pa.string()))) if labels else []


def salted(hashes: np.ndarray, salt: np.uint64) -> np.ndarray:
    """A column's contribution to a row hash; row hashes add contributions, so a column can be taken out.

    Values are already well-mixed 64-bit hashes, so one multiplication by the column's odd salt
    keeps columns apart (swapping two columns' values changes the sum) at a fraction of a mix.
    """
    with np.errstate(over="ignore"):
        return hashes * (salt | np.uint64(1))  # the same term the pass adds


def _within_int64(batch_range: tuple[float, float] | None) -> bool:
    return batch_range is not None and -(2.0**63) < batch_range[0] and batch_range[1] < 2.0**63


def _count_small_span(arr: pa.Array, lo: int, hi: int) -> tuple[pa.Array, np.ndarray, np.ndarray] | None:
    """Distinct values, their counts and every row's hash for an integer (or boolean) batch whose values span
    at most ``SMALL_SPAN`` (or its length): counted by offset from the smallest (no hash table), each value
    hashed once. None for a wider span."""
    import pyarrow as pa
    import pyarrow.compute as pc

    span = hi - lo + 1
    if span > max(SMALL_SPAN, len(arr)) or hi >= 2**63:
        return None
    offsets = numpy_filled(pc.cast(arr, pa.int64()) if not pa.types.is_int64(arr.type) else arr, lo) - lo
    weights = np.bincount(offsets, minlength=span)
    weights[0] -= arr.null_count  # nulls were counted as the smallest value
    hashes = mark_nulls(np.take(mix(np.arange(lo, hi + 1, dtype=np.int64).view(np.uint64)), offsets), arr)
    present = np.flatnonzero(weights)
    return pa.array(present + lo, type=arr.type), weights[present], hashes


class _Rows:
    """One uint64 per row, filled batch by batch: preallocated when the row count is known (no concat copy)."""

    def __init__(self, total: int | None) -> None:
        self.buffer = np.empty(total, dtype=np.uint64) if total is not None else None
        self.parts: list[np.ndarray] = []
        self.n = 0

    def add(self, values: np.ndarray) -> None:
        if self.buffer is not None and self.n + len(values) <= len(self.buffer) and not self.parts:
            self.buffer[self.n : self.n + len(values)] = values
        else:
            if self.buffer is not None:
                self.parts, self.buffer = [self.buffer[: self.n]], None
            self.parts.append(values)
        self.n += len(values)

    def result(self) -> np.ndarray:
        if self.buffer is not None:
            return self.buffer[: self.n]
        return _concat(self.parts)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)


def _shrink(parts: list[tuple[np.ndarray, Any]], keep: int) -> tuple[list[tuple[np.ndarray, Any]], float]:
    """Keep the ``keep`` rows with the smallest random draws (a uniform sample without replacement)."""
    import pyarrow as pa

    draws = np.concatenate([d for d, _ in parts])
    table = pa.concat_tables([_to_table(b) for _, b in parts]) if len(parts) > 1 else _to_table(parts[0][1])
    if len(draws) <= keep:
        return [(draws, table)], 1.0
    order = np.argpartition(draws, keep)[:keep]
    order.sort()  # keep the rows in file order
    threshold = float(draws[order].max())
    return [(draws[order], table.take(order).combine_chunks())], threshold


def _to_table(data: Any) -> pa.Table:
    import pyarrow as pa

    return data if isinstance(data, pa.Table) else pa.Table.from_batches([data])


def _jsonable(value: Any) -> Any:
    """A value as it can appear in JSON: dates as ISO text, bytes and others as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _add_examples(store: list, values: list, limit: int = MAX_EXAMPLES) -> None:
    for value in values:
        if len(store) >= limit:
            return
        value = _jsonable(value)
        if value not in store:
            store.append(value)


def _sniffed(values: pa.Array, ok: np.ndarray, total: Callable[[np.ndarray], int], examples: list) -> tuple[int, int]:
    """(values that read so, present values that do not), keeping a few of the latter as examples."""
    valid = ~_flags(values.is_null())
    good, bad = ok & valid, ~ok & valid
    if bad.any() and len(examples) < MAX_EXAMPLES:
        _add_examples(examples, values.filter(bad).slice(0, 20).to_pylist())
    return total(good), total(bad)


def _mostly(mask: np.ndarray) -> bool:
    """Whether at least ``DATE_LIKE_SHARE`` of the probed values hold (the probe decides what to count)."""
    return bool(len(mask)) and mask.sum() >= DATE_LIKE_SHARE * len(mask)


def _fits(value: Any, bound: Any, lower: bool) -> bool:
    """Whether a batch's extreme ``value`` is inside ``bound`` (False when they do not compare)."""
    try:
        return value >= bound if lower else value <= bound
    except TypeError:
        return False


def _category_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_set(categories: tuple, kind: pa.DataType) -> pa.Array | None:
    import pyarrow as pa

    try:
        return pa.array(list(categories), type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None


def _bound_scalar(bound: Any, kind: pa.DataType, lower: bool) -> Any:
    """The contract's bound as a scalar comparable with the column (dates come as ISO text); None when none can break it.

    An integer column gets an integer of its own type (below min is below ceil(min), above max above
    floor(max)): a float bound would cast the column to float64, which fails beyond 2^53.
    """
    import pyarrow as pa

    try:
        if pa.types.is_temporal(kind):
            value = dt.datetime.fromisoformat(str(bound)) if not isinstance(bound, (dt.date, dt.datetime)) else bound
            if pa.types.is_date(kind):
                value = value.date() if isinstance(value, dt.datetime) else value
                return pa.scalar(value, type=pa.date32()).cast(kind)
            if getattr(kind, "tz", None) and value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return pa.scalar(value, type=pa.timestamp("us", tz=getattr(kind, "tz", None))).cast(kind)
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            return None
        if pa.types.is_integer(kind) and math.isfinite(bound):
            whole = math.ceil(bound) if lower else math.floor(bound)
            info = np.iinfo(kind.to_pandas_dtype())
            if (lower and whole <= info.min) or (not lower and whole >= info.max):
                return None  # no value of the type lies beyond it
            return pa.scalar(max(min(whole, int(info.max)), int(info.min)), type=kind)
        return pa.scalar(float(bound))
    except (ValueError, TypeError, pa.ArrowInvalid):
        return None
