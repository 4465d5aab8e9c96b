"""What the streaming pass keeps for one column, in bounded memory, batch by batch.

Missing values, finite min and max, infinities, exact value counts while the column has at most
``EXACT_DISTINCT_CAP`` distinct values (then a distinct-count sketch), text that reads as numbers
or dates, and the contract's range and category counts; with a contract to infer, the
``TAIL_VALUES`` smallest and largest values. ``validation/profile.py`` runs the pass over all
columns and the row hashes; drift keeps its own, mergeable summaries (``drift/summaries.py``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omgml.data.kinds import KindStats, date_mask, infer_kind, number_mask, time_mask
from omgml.data.kinds import flags as _flags
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
SMALL_SPAN = 65_536  # integer batches spanning at most this many values are counted with bincount
UNSEEN_CAP = 1000  # distinct unseen categories counted by value
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
    arrow_type: Any = None  # the column's Arrow type: merge() hashes counted values with it when the counts overflow
    sniff_all: bool = False  # a part of a table (a Spark partition): count dates and times whatever the probe says
    probed: tuple[bool, bool] | None = None  # with sniff_all: what this part's first values said (date, time)
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
            if self.sniff_all:  # the first part's probe decides, once the parts are merged (settle_sniff)
                self.probed, self.date_like, self.time_like = (self.date_like, self.time_like), True, True
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
            value = jsonable(value)
            if value in self.unseen or len(self.unseen) < UNSEEN_CAP:
                self.unseen[value] = self.unseen.get(value, 0) + count

    def merge(self, other: ColumnProfile) -> None:
        """Fold in the profile of the rows that follow this one's (the next Spark partition): the result is what
        one pass over both gives, examples included (kept in row order). ``settle_sniff`` then decides dates."""
        import pyarrow as pa

        for name in ("rows", "nulls", "nan", "inf", "fractional", "length_sum", "numeric_text", "other_text"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("date_ok", "date_bad", "time_ok", "time_bad", "below", "above", "unseen_total"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("inf_examples", "fractional_examples", "numeric_examples", "other_examples"):
            _add_examples(getattr(self, name), getattr(other, name))
        for name in ("date_bad_examples", "time_bad_examples", "range_examples"):
            _add_examples(getattr(self, name), getattr(other, name))
        if other.min is not None:
            self._fold_range(other.min, other.max)
        if self.probed is None:
            self.probed = other.probed
        for value, count in other.unseen.items():
            if value in self.unseen or len(self.unseen) < UNSEEN_CAP:
                self.unseen[value] = self.unseen.get(value, 0) + count
        if other.lowest is not None:
            if self.lowest is None:
                self.lowest, self.highest = other.lowest, other.highest
            else:
                low, high = np.concatenate([self.lowest, other.lowest]), np.concatenate([self.highest, other.highest])
                self.lowest, self.highest = np.sort(low)[:TAIL_VALUES], np.sort(high)[::-1][:TAIL_VALUES]
        self.dup_seen = self.dup_seen or other.dup_seen
        self.sketch.update(other.sketch.values)
        if self.counts is not None and other.counts is not None:
            merged = self.counts
            if not self.dup_seen and not merged.keys().isdisjoint(other.counts):
                self.dup_seen = True
            for value, count in other.counts.items():
                merged[value] = merged.get(value, 0) + count
            if len(merged) <= EXACT_DISTINCT_CAP:
                return
        for counts in (self.counts, other.counts):  # past the cap: the sketch takes over every value counted
            if counts:
                self.sketch.update(hash_array(pa.array(list(counts), type=self.arrow_type)))
        self.counts = None

    def settle_sniff(self) -> None:
        """After merging parts counted with ``sniff_all``: dates and times as the first part's first values say."""
        if not self.sniff_all:
            return
        self.sniff_all = False
        if self.probed is None:
            self.date_like = self.time_like = None
            return
        self.date_like, self.time_like = self.probed
        if not self.date_like:
            self.date_ok, self.date_bad, self.date_bad_examples = 0, 0, []
        if not self.time_like:
            self.time_ok, self.time_bad, self.time_bad_examples = 0, 0, []

    def finish(self, candidate: np.ndarray | None, exact_distinct: int | None = None) -> None:
        """Settle distinct counts, uniqueness and the kind; ``candidate`` holds every row's hash when kept, or
        ``exact_distinct`` counts its distinct present values (the Spark engine counts them there)."""
        if self.counts is not None:
            self.distinct, self.distinct_exact = len(self.counts), True
            self.all_distinct = bool(self.counts) and not self.dup_seen
        elif exact_distinct is not None:
            self.distinct, self.distinct_exact = exact_distinct, True
            self.all_distinct = exact_distinct == self.present
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


def jsonable(value: Any) -> Any:
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
        value = jsonable(value)
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
