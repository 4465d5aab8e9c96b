"""Compare one side's column summaries with the other's: skips, test choice, effect gate, BH, signals.

Works only on finalized summaries, so a raw reference and a saved profile go through the same
code, and so does every time window.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omgml.drift.columns import untestable_kind
from omgml.drift.histogram import Grid, bin_counts, quantile_bins
from omgml.drift.models import ColumnDrift, ColumnSignals, EffectSize, Role, SkippedColumn
from omgml.drift.profile import CategorySummary, NumericSummary, Summary
from omgml.drift.selection import Facts, select_test
from omgml.drift.stattests import BY_NAME, Outcome, StatTest, aligned_counts, benjamini_hochberg, effect_test
from omgml.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

THREADS = 2
MIN_VALUES = 5  # per side: fewer cannot show a distribution
SIGNAL_NULL_CHANGE = 0.05  # absolute change in the null rate worth an alert
SIGNAL_SHARE = 0.01  # share of values in new/vanished categories or outside the range worth an alert
MAX_LISTED = 10


@dataclass
class Pair:
    """One column to compare: its role, both summaries, and a test the user chose (if any)."""

    column: str
    role: Role
    reference: Summary
    current: Summary
    forced: StatTest | None = None


@dataclass
class _Pending:
    pair: Pair
    kind: str
    spec: StatTest
    why: str
    outcome: Outcome
    effect_spec: StatTest
    effect: Outcome


@dataclass
class Comparison:
    columns: list[ColumnDrift]
    skipped: list[SkippedColumn]
    signals: list[ColumnSignals]


def compare(pairs: list[Pair], thresholds: dict[str, float]) -> Comparison:
    """Test every pair, correct the p-values together, decide; signals for every pair."""
    pending: list[_Pending] = []
    skipped: list[SkippedColumn] = []
    signals = []
    testable = []
    for pair in pairs:
        reason = skip_reason(pair)
        # identifiers and free text bring new values by design: only their null rate is a signal
        novelty = bool(pair.reference.count and pair.current.count) and (
            reason is None or not untestable_kind(pair.reference, pair.column)
        )
        signals.append(column_signals(pair, novelty=novelty))
        if reason is not None:
            skipped.append(SkippedColumn(column=pair.column, role=pair.role, reason=reason))
        else:
            testable.append(pair)
    with ThreadPoolExecutor(THREADS) as pool:  # numpy releases the GIL in the sorts and merges
        futures = [pool.submit(_run, pair, thresholds) for pair in testable]
        for pair, future in zip(testable, futures):
            try:
                pending.append(future.result())
            except _Skip as skip:
                skipped.append(SkippedColumn(column=pair.column, role=pair.role, reason=str(skip)))
    pvalued = [p for p in pending if p.spec.score == "pvalue"]
    adjusted = dict(zip((id(p) for p in pvalued), benjamini_hochberg([p.outcome.pvalue for p in pvalued])))
    columns = [_decide(p, adjusted.get(id(p)), thresholds) for p in pending]
    return Comparison(columns=columns, skipped=skipped, signals=signals)


class _Skip(Exception):
    pass


def threshold_of(spec: StatTest, thresholds: dict[str, float]) -> float:
    return thresholds.get(spec.name, spec.threshold)


def skip_reason(pair: Pair) -> str | None:
    """Why a column cannot be tested, or None. Never silently "no drift"."""
    ref, cur = pair.reference, pair.current
    if ref.count == 0:
        return _empty_reason("reference", ref)
    if cur.count == 0:
        return _empty_reason("current data", cur)
    if ref.count < MIN_VALUES or cur.count < MIN_VALUES:
        side, n = ("reference", ref.count) if ref.count < MIN_VALUES else ("current data", cur.count)
        return f"only {n} value(s) in the {side}: comparing distributions needs at least {MIN_VALUES} per side"
    kind_reason = untestable_kind(ref, pair.column)
    if kind_reason is not None:
        return kind_reason
    numeric = isinstance(ref, NumericSummary) and isinstance(cur, NumericSummary)
    if numeric and ref.minimum == ref.maximum == cur.minimum == cur.maximum:
        return f"constant on both sides (every value is {ref.minimum:g}): nothing varies to compare"
    if (
        not numeric
        and ref.distinct == 1
        and cur.distinct == 1
        and ref.values
        and cur.values
        and ref.values[0] == cur.values[0]
    ):
        return f"constant on both sides (every value is '{ref.values[0]}'): nothing varies to compare"
    return None


def _empty_reason(side: str, summary: Summary) -> str:
    if summary.rows == 0:
        return f"the {side} has no rows"
    if isinstance(summary, NumericSummary) and summary.pos_inf + summary.neg_inf:
        return (
            f"no finite values in the {side} ({summary.nulls:,} null, {summary.pos_inf + summary.neg_inf:,} infinite)"
        )
    return f"all {summary.rows:,} values are null in the {side}"


def column_kind(pair: Pair) -> str:
    """numeric, categorical, or binary (at most two distinct values on both sides together)."""
    ref, cur = pair.reference, pair.current
    if isinstance(ref, NumericSummary):
        if (
            ref.hist.exact
            and cur.hist.exact
            and ref.hist.buckets <= 2
            and cur.hist.buckets <= 2
            and len(set(ref.hist.lo.tolist()) | set(cur.hist.lo.tolist())) <= 2
        ):
            return "binary"
        return "numeric"
    if (
        ref.other_distinct == 0
        and cur.other_distinct == 0
        and len(ref.values) <= 2
        and len(cur.values) <= 2
        and len(set(ref.values) | set(cur.values)) <= 2
    ):
        return "binary"
    return "categorical"


def cell_counts(pair: Pair, kind: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Aligned counts for the counts tests, with cell labels.

    Binary: the two values. Categorical: the reference's categories plus one cell for everything
    else (the reference's "other" bucket and categories it never had). Numeric: the reference's
    deciles on its grid, plus a cell below and above its range.
    """
    import numpy as np

    ref, cur = pair.reference, pair.current
    if isinstance(ref, NumericSummary):
        if kind == "binary":  # two values, both histograms exact (column_kind says binary only then)
            values, rc, cc = aligned_counts(ref.hist, cur.hist)
            return rc, cc, [f"{v:g}" for v in values]
        grid = reference_grid(ref)
        upper = quantile_bins(ref.hist, grid)
        rc = bin_counts(ref.hist, grid, upper)
        cc = bin_counts(cur.hist, grid, upper)
        keep = (rc + cc) > 0
        return rc[keep], cc[keep], [f"bin {i}" for i in np.flatnonzero(keep)]
    if kind == "binary":
        labels = sorted(set(ref.values) | set(cur.values))
        return (
            np.array([ref.count_of(v) for v in labels], dtype=np.int64),
            np.array([cur.count_of(v) for v in labels], dtype=np.int64),
            labels,
        )
    ref = ref.folded()  # as a saved profile keeps it, so both give the same cells
    matched = np.array([cur.count_of(v) for v in ref.values], dtype=np.int64)
    rc = np.append(np.asarray(ref.counts, dtype=np.int64), ref.other_count)
    cc = np.append(matched, cur.count - int(matched.sum()))
    labels = [*ref.values, "(other)"]
    if rc[-1] == 0 and cc[-1] == 0:
        return rc[:-1], cc[:-1], labels[:-1]
    return rc, cc, labels


def reference_grid(ref: NumericSummary) -> Grid:
    return ref.grid or Grid.for_values(ref.mean, ref.std)


def _default_distance(kind: str) -> StatTest:
    return BY_NAME["wasserstein" if kind == "numeric" else "jensenshannon"]


def _run(pair: Pair, thresholds: dict[str, float]) -> _Pending:
    kind = column_kind(pair)
    numeric_base = isinstance(pair.reference, NumericSummary)
    counts: tuple | None = None
    if pair.forced is not None:
        spec = pair.forced
        if not spec.applies_to(kind, numeric_base):
            raise InvalidInput(
                f"The test '{spec.name}' does not apply to column '{pair.column}', which is {_kind_words(kind, numeric_base)}",
                f"'{spec.name}' compares {' or '.join(sorted(spec.kinds))} columns",
                f"choose one of: {', '.join(t.name for t in BY_NAME.values() if t.applies_to(kind, numeric_base))}",
            )
        why = f"chosen by the user (--test {pair.column}={spec.name})"
    else:
        distance = _default_distance(kind)
        cells = 0
        if kind != "numeric":
            counts = cell_counts(pair, kind)
            cells = len(counts[0])
        facts = Facts(kind, pair.reference.count, pair.current.count, cells, threshold_of(distance, thresholds))
        name, why = select_test(facts)
        spec = BY_NAME[name]
    if spec.needs_exact and numeric_base and not (pair.reference.hist.exact and pair.current.hist.exact):
        side = "reference profile" if not pair.reference.hist.exact else "current data"
        raise _Skip(
            f"'{spec.name}' needs every value, but the {side} keeps {_buckets(pair)} buckets for this column; "
            "use ks or wasserstein, or compare with the raw reference file"
        )
    effect_spec = effect_test(spec)
    if counts is None and "counts" in (spec.data, effect_spec.data):
        counts = cell_counts(pair, kind)  # once, for the test and its effect size alike
    outcome = _apply(spec, pair, counts)
    effect = outcome if effect_spec is spec else _apply(effect_spec, pair, counts)
    return _Pending(pair, kind, spec, why, outcome, effect_spec, effect)


def _buckets(pair: Pair) -> str:
    hist = pair.reference.hist if not pair.reference.hist.exact else pair.current.hist
    return f"{hist.buckets:,}"


def _kind_words(kind: str, numeric_base: bool) -> str:
    if kind == "binary":
        return "two-valued (numbers)" if numeric_base else "two-valued"
    return kind


def _apply(spec: StatTest, pair: Pair, counts: tuple | None) -> Outcome:
    if spec.data == "samples":
        return spec.function(pair.reference.hist, pair.current.hist)
    return spec.function(counts[0], counts[1])


def _decide(p: _Pending, adjusted: float | None, thresholds: dict[str, float]) -> ColumnDrift:
    spec, outcome = p.spec, p.outcome
    threshold = threshold_of(spec, thresholds)
    effect_threshold = threshold_of(p.effect_spec, thresholds)
    material = p.effect.statistic >= effect_threshold
    effect_words = f"{p.effect_spec.name} {_num(p.effect.statistic)}" + (
        f" {p.effect_spec.unit}" if p.effect_spec.unit else ""
    )
    bound = outcome.bound
    if spec.score == "distance":
        drifted = material
        decision = (
            f"{effect_words} >= {threshold:g}: a material change"
            if drifted
            else f"{effect_words} < {threshold:g}: no material change"
        )
        near = bound > 0 and abs(outcome.statistic - threshold) <= bound
    else:
        significant = adjusted is not None and adjusted < threshold
        drifted = significant and material
        p_words = f"p = {_num(outcome.pvalue)} (adjusted {_num(adjusted)})"
        if drifted:
            decision = f"{p_words} < {threshold:g} and {effect_words} >= {effect_threshold:g}: significant and material"
        elif significant:
            decision = (
                f"{p_words} < {threshold:g} but {effect_words} < {effect_threshold:g}: "
                "significant yet too small to matter"
            )
        elif material:
            decision = (
                f"{effect_words} >= {effect_threshold:g} but {p_words} >= {threshold:g}: "
                "could be chance at this sample size"
            )
        else:
            decision = f"{p_words} >= {threshold:g} and {effect_words} < {effect_threshold:g}: no drift"
        near = p.effect.bound > 0 and abs(p.effect.statistic - effect_threshold) <= p.effect.bound
    return ColumnDrift(
        column=p.pair.column,
        role=p.pair.role,
        kind=p.kind,  # type: ignore[arg-type]
        test=spec.name,
        score_kind=spec.score,
        statistic=_finite(outcome.statistic),
        pvalue=outcome.pvalue,
        adjusted_pvalue=adjusted,
        threshold=threshold,
        decision_rule=spec.decision_rule,
        effect=EffectSize(
            measure=p.effect_spec.name, value=_finite(p.effect.statistic), threshold=effect_threshold, material=material
        ),
        drifted=drifted,
        decision=decision,
        why=p.why,
        method=outcome.method,
        rows_reference=p.pair.reference.count,
        rows_current=p.pair.current.count,
        statistic_bound=bound,
        near_threshold=near,
    )


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 1e300


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g}" if value >= 1e-3 or value == 0 else f"{value:.2e}"


# ---------------------------------------------------------------------------------------------
# signals


def column_signals(pair: Pair, novelty: bool = True) -> ColumnSignals:
    ref, cur = pair.reference, pair.current
    null_ref = ref.nulls / ref.rows if ref.rows else 0.0
    null_cur = cur.nulls / cur.rows if cur.rows else 0.0
    alerts: list[str] = []
    if abs(null_cur - null_ref) >= SIGNAL_NULL_CHANGE:
        alerts.append(f"null rate {'rose' if null_cur > null_ref else 'fell'} from {null_ref:.1%} to {null_cur:.1%}")
    inf_ref = inf_cur = 0.0
    new: list[str] = []
    new_count = vanished_count = 0
    new_share = vanished_share = 0.0
    vanished: list[str] = []
    out_of_range: float | None = None
    if not novelty:
        pass
    elif isinstance(ref, NumericSummary) and isinstance(cur, NumericSummary):
        inf_ref = (ref.pos_inf + ref.neg_inf) / ref.rows if ref.rows else 0.0
        inf_cur = (cur.pos_inf + cur.neg_inf) / cur.rows if cur.rows else 0.0
        if abs(inf_cur - inf_ref) >= SIGNAL_SHARE:
            alerts.append(
                f"infinite values {'rose' if inf_cur > inf_ref else 'fell'} from {inf_ref:.1%} to {inf_cur:.1%}"
            )
        if ref.count and cur.count:
            if cur.below is not None and cur.above is not None:
                outside = cur.below + cur.above
            else:
                outside = cur.hist.count_below(ref.minimum) + cur.hist.count_above(ref.maximum)
            out_of_range = outside / cur.count
            if out_of_range >= SIGNAL_SHARE:
                alerts.append(
                    f"{out_of_range:.1%} of current values lie outside the reference range "
                    f"[{ref.minimum:g}, {ref.maximum:g}]"
                )
    elif isinstance(ref, CategorySummary) and isinstance(cur, CategorySummary):
        known = set(ref.values)
        fresh = [(v, int(c)) for v, c in zip(cur.values, cur.counts) if v not in known]
        new = [v for v, _ in fresh[:MAX_LISTED]]
        new_count = len(fresh) + cur.other_distinct
        new_share = (sum(c for _, c in fresh) / cur.count) if cur.count else 0.0
        gone = (
            [(v, int(c)) for v, c in zip(ref.values, ref.counts) if cur.count_of(v) == 0]
            if cur.other_distinct == 0
            else []
        )
        vanished = [v for v, _ in gone[:MAX_LISTED]]
        vanished_count = len(gone)
        vanished_share = (sum(c for _, c in gone) / ref.count) if ref.count else 0.0
        hedge = " (the profile keeps only the most frequent reference values)" if ref.other_count else ""
        if new_share >= SIGNAL_SHARE:
            alerts.append(
                f"{new_share:.1%} of current values are in {_categories(len(fresh))} the reference lacks"
                f"{hedge}, e.g. {', '.join(repr(v) for v in new[:3])}"
            )
        if vanished_share >= SIGNAL_SHARE:
            verb = "is" if vanished_count == 1 else "are"
            alerts.append(
                f"{_categories(vanished_count)} of the reference ({vanished_share:.1%} of its values) "
                f"{verb} absent now, e.g. {', '.join(repr(v) for v in vanished[:3])}"
            )
    return ColumnSignals(
        column=pair.column,
        role=pair.role,
        null_rate_reference=null_ref,
        null_rate_current=null_cur,
        null_rate_change=null_cur - null_ref,
        infinite_rate_reference=inf_ref,
        infinite_rate_current=inf_cur,
        new_categories=new,
        new_category_count=new_count,
        new_category_share=new_share,
        vanished_categories=vanished,
        vanished_category_count=vanished_count,
        vanished_reference_share=vanished_share,
        out_of_range_share=out_of_range,
        alerts=alerts,
    )


def _categories(n: int) -> str:
    return f"{n} {'category' if n == 1 else 'categories'}"
