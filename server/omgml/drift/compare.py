"""Compare one side's column summaries with the other's: skips, test choice, effect gate, Holm, signals.

Works only on finalized summaries, so a raw reference and a saved profile go through the same
code, and so does every time window.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omgml.drift.columns import untestable_kind
from omgml.drift.distribution import category_distribution, numeric_distribution, quantile_distribution
from omgml.drift.histogram import Grid, bin_counts, quantile_bins
from omgml.drift.models import ColumnDrift, ColumnSignals, Distribution, EffectSize, Role, SkippedColumn
from omgml.drift.scan import THREADS
from omgml.drift.selection import Facts, select_test
from omgml.drift.stattests import BY_NAME, Outcome, StatTest, aligned_counts, effect_test, holm, z
from omgml.drift.summaries import CategorySummary, NumericSummary, Summary
from omgml.errors import InvalidInput
from omgml.progress import advance

if TYPE_CHECKING:
    import numpy as np

MIN_VALUES = 5  # per side: fewer cannot show a distribution
SIGNAL_NULL_CHANGE = 0.05  # absolute change in the null rate worth an alert
SIGNAL_SHARE = 0.01  # share of values in new/vanished categories or outside the range worth an alert
# A category cell must be expected this often on each side if nothing changed, else it is pooled with
# the other rare ones: the chi-squared approximation (and a distance's chance level) needs it (Cochran 1954).
MIN_EXPECTED = 5
MAX_LISTED = 10
SIGNAL_CHANCE = 0.001  # a null-rate change or out-of-range share alerts only when chance reaches it this rarely


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
    counts: tuple | None  # the cells a counts test read, with their labels


@dataclass
class Comparison:
    columns: list[ColumnDrift]
    skipped: list[SkippedColumn]
    signals: list[ColumnSignals]


def compare(pairs: list[Pair], thresholds: dict[str, float], distributions: bool = True) -> Comparison:
    """Test every pair, correct the p-values together, decide; signals for every pair.

    With ``distributions``, drifted columns (and the target and prediction) carry the counts their test read.
    """
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
        for tested, (pair, future) in enumerate(zip(testable, futures), 1):
            try:
                pending.append(future.result())
            except _Skip as skip:
                skipped.append(SkippedColumn(column=pair.column, role=pair.role, reason=str(skip)))
            advance("columns tested", tested, len(testable))
    pvalued = [p for p in pending if p.spec.score == "pvalue"]
    adjusted = dict(zip((id(p) for p in pvalued), holm([p.outcome.pvalue for p in pvalued])))
    columns = [_decide(p, adjusted.get(id(p)), thresholds) for p in pending]
    if distributions:
        for p, column in zip(pending, columns):
            if column.drifted or column.role != "feature":
                column.distribution = distribution_of(p)
    signals.sort(key=lambda s: s.severity, reverse=True)  # stable: columns without alerts keep their order
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

    Binary: the two values. Categorical: every category either side has, by name (past
    ``MAX_CATEGORIES`` reference categories, the reference's kept ones and one "(other)" cell),
    with the rare ones pooled (``pool_rare``). Numeric: the reference's deciles on its grid, plus
    a cell below and above its range.
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
    if ref.other_count == 0:
        # Every reference category is known by name, so each current value the reference lacks is a
        # cell of its own (0 in the reference): the cells are the names on either side, whichever
        # rows fell where, and pooling the rare ones stays blind to the split.
        fresh = [(v, int(c)) for v, c in zip(cur.values, cur.counts) if ref.count_of(v) == 0]
        rc = np.concatenate((np.asarray(ref.counts, dtype=np.int64), np.zeros(len(fresh), dtype=np.int64)))
        cc = np.concatenate((matched, np.array([c for _, c in fresh], dtype=np.int64)))
        return pool_rare(rc, cc, [*ref.values, *(v for v, _ in fresh)])
    # Past MAX_CATEGORIES the reference's tail has no names: its values and the current ones outside
    # the kept list share one "(other)" cell.
    rc = np.append(np.asarray(ref.counts, dtype=np.int64), ref.other_count)
    cc = np.append(matched, cur.count - int(matched.sum()))
    return pool_rare(rc, cc, [*ref.values, "(other)"])


def pool_rare(rc: np.ndarray, cc: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The category cells with every rare one pooled into one "(rare)" cell, on both sides alike.

    A cell is rare when, if nothing changed, it is expected fewer than ``MIN_EXPECTED`` times on
    the smaller side: ``(r + c) * min(n_ref, n_cur) / (n_ref + n_cur) < MIN_EXPECTED``. A value
    only one side has is a cell like any other: rare on unchanged data, kept when it is frequent.
    Rareness reads only the pooled counts ``r + c``, which are the same whichever rows fell on
    which side, so choosing cells by them does not bias a test of whether the sides differ (the
    chi-squared test conditions on them). A pooled cell still too small joins the smallest kept cell.
    """
    import numpy as np

    total = rc + cc
    n_ref, n_cur = int(rc.sum()), int(cc.sum())
    smaller = min(n_ref, n_cur) / (n_ref + n_cur)
    rare = total * smaller < MIN_EXPECTED
    if not rare.any():
        return rc, cc, labels
    keep = ~rare
    rc_kept, cc_kept = rc[keep].copy(), cc[keep].copy()
    kept = [label for label, k in zip(labels, keep) if k]
    pooled_ref, pooled_cur = int(rc[rare].sum()), int(cc[rare].sum())
    if pooled_ref + pooled_cur == 0:  # only an empty "(other)" cell
        return rc_kept, cc_kept, kept
    label = f"(rare: {int(rare.sum())} cells)"
    if (pooled_ref + pooled_cur) * smaller >= MIN_EXPECTED or not kept:
        return np.append(rc_kept, pooled_ref), np.append(cc_kept, pooled_cur), [*kept, label]
    smallest = int(np.argmin(rc_kept + cc_kept))
    rc_kept[smallest] += pooled_ref
    cc_kept[smallest] += pooled_cur
    kept[smallest] = f"{kept[smallest]} + {label}"
    return rc_kept, cc_kept, kept


def _category_cells(pair: Pair, kind: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``cell_counts``; a categorical column whose categories are all rare has nothing a test can compare."""
    counts = cell_counts(pair, kind)
    if kind == "categorical" and len(counts[0]) < 2:
        raise _Skip(
            f"every category is too rare to compare ({pair.reference.count:,} and {pair.current.count:,} values over "
            f"{pair.reference.distinct:,} reference categories): each is expected fewer than {MIN_EXPECTED} times on a "
            "side if nothing changed, so no test of the shares is valid; new and vanished categories are still reported"
        )
    return counts


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
        check_forced(spec, pair.column, (kind,), numeric_base, _kind_words(kind, numeric_base))
        why = f"chosen by the user (--test {pair.column}={spec.name})"
    else:
        distance = _default_distance(kind)
        cells = 0
        if kind != "numeric":
            counts = _category_cells(pair, kind)
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
        counts = _category_cells(pair, kind)  # once, for the test and its effect size alike
    outcome = _apply(spec, pair, counts)
    effect = outcome if effect_spec is spec else _apply(effect_spec, pair, counts)
    return _Pending(pair, kind, spec, why, outcome, effect_spec, effect, counts)


def distribution_of(p: _Pending) -> Distribution:
    """What the column's chart draws: the cells the test (or its effect size) read, else its values binned."""
    ref, cur = p.pair.reference, p.pair.current
    if p.counts is not None and not (p.kind == "numeric" and isinstance(ref, NumericSummary)):
        return category_distribution(*p.counts)
    if p.counts is not None:
        return quantile_distribution(ref.hist, cur.hist, reference_grid(ref))
    return numeric_distribution(ref.hist, cur.hist)


def _buckets(pair: Pair) -> str:
    hist = pair.reference.hist if not pair.reference.hist.exact else pair.current.hist
    return f"{hist.buckets:,}"


def check_forced(spec: StatTest, column: str, kinds: tuple[str, ...], numeric_base: bool, described: str) -> None:
    """Refuse a test the user forced on a column when it applies to none of ``kinds``: what the column may be
    (the service asks before reading the current data) or what it turned out to be (asked again here)."""
    if not any(spec.applies_to(kind, numeric_base) for kind in kinds):
        fits = [t.name for t in BY_NAME.values() if any(t.applies_to(kind, numeric_base) for kind in kinds)]
        raise InvalidInput(
            f"The test '{spec.name}' does not apply to column '{column}', which is {described}",
            f"'{spec.name}' compares {' or '.join(sorted(spec.kinds))} columns",
            f"choose one of: {', '.join(fits)}",
        )


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
    alerts: list[tuple[float, str]] = []  # (share of values the alert is about, what it says)
    if abs(null_cur - null_ref) >= SIGNAL_NULL_CHANGE and _null_change_chance(ref, cur) <= SIGNAL_CHANCE:
        verb = "rose" if null_cur > null_ref else "fell"
        alerts.append((abs(null_cur - null_ref), f"null rate {verb} from {null_ref:.1%} to {null_cur:.1%}"))
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
            text = f"infinite values {'rose' if inf_cur > inf_ref else 'fell'} from {inf_ref:.1%} to {inf_cur:.1%}"
            alerts.append((abs(inf_cur - inf_ref), text))
        if ref.count and cur.count:
            if cur.below is not None and cur.above is not None:
                outside = cur.below + cur.above
            else:
                outside = cur.hist.count_below(ref.minimum) + cur.hist.count_above(ref.maximum)
            out_of_range = outside / cur.count
            chance = outside_range_chance(outside, ref.count, cur.count)
            if out_of_range >= SIGNAL_SHARE and chance <= SIGNAL_CHANCE:
                text = (
                    f"{out_of_range:.1%} of current values lie outside the reference range "
                    f"[{ref.minimum:g}, {ref.maximum:g}] (chance gives {outside:,} or more with probability "
                    f"{_num(chance)} at these sizes)"
                )
                alerts.append((out_of_range, text))
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
            text = (
                f"{new_share:.1%} of current values are in {_categories(len(fresh))} the reference lacks"
                f"{hedge}, e.g. {', '.join(repr(v) for v in new[:3])}"
            )
            alerts.append((new_share, text))
        if vanished_share >= SIGNAL_SHARE:
            verb = "is" if vanished_count == 1 else "are"
            text = (
                f"{_categories(vanished_count)} of the reference ({vanished_share:.1%} of its values) "
                f"{verb} absent now, e.g. {', '.join(repr(v) for v in vanished[:3])}"
            )
            alerts.append((vanished_share, text))
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
        alerts=[text for _, text in alerts],
        severity=max((share for share, _ in alerts), default=0.0),
    )


def _null_change_chance(ref: Summary, cur: Summary) -> float:
    """The two-proportion z-test's p-value for the null rates: how often chance moves them this far
    (at 76 rows a side, 30% against 18% null is p = 0.09: no alert; 0% against 93% always is)."""
    import numpy as np

    present = (ref.rows - ref.nulls, cur.rows - cur.nulls)
    return z(np.array([present[0], ref.nulls]), np.array([present[1], cur.nulls])).pvalue


def outside_range_chance(k: int, n_ref: int, n_cur: int) -> float:
    """Probability that ``k`` or more of ``n_cur`` current values fall outside the min..max of
    ``n_ref`` reference values when both sides come from one continuous distribution.

    With no change every order of the pooled values is equally likely, so the current values
    outside the range are the runs of current values at the two ends of the pooled order. The
    ``j`` lowest and highest positions together are all current with probability
    ``F(j) = C(n_cur, j) / C(n_ref + n_cur, j)``, and summing the joint law of the two runs gives
    ``P(K >= k) = (k + 1) F(k) - k F(k + 1)``. Ties (repeated values) only lower the chance, so the
    value is an upper bound for discrete columns. One value is outside with probability about
    ``2 / (n_ref + 1)``: on small samples some always are, which is why the alert needs this
    probability to be small and not only the share to be large.
    """
    if k <= 0:
        return 1.0

    def falling(j: int) -> float:  # F(j), through log-gamma: no overflow at millions of rows
        if j > n_cur:
            return 0.0
        total = n_ref + n_cur
        return math.exp(
            math.lgamma(n_cur + 1) - math.lgamma(n_cur - j + 1) - math.lgamma(total + 1) + math.lgamma(total - j + 1)
        )

    return min(max((k + 1) * falling(k) - k * falling(k + 1), 0.0), 1.0)


def _categories(n: int) -> str:
    return f"{n} {'category' if n == 1 else 'categories'}"
