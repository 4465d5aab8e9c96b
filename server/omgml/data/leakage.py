"""Target leakage: does one feature (or a sum of two) give the target away?

A feature leaks when it holds the answer: derived from the target, or recorded after it. Four
exact relations are looked for, each holding on every row looked at, so every sample of the same
source large enough to test gives the same verdict; and one score, cross-validated, with an interval:

- ``copy``: each value of a categorical feature goes with one value of the target, so every
  held-out row of 5-fold cross-validation is predicted right;
- ``monotone``: a numeric feature orders the rows exactly as a numeric target does (Spearman's
  rho is +1 or -1): a log, a change of unit, ``24 - sleep``;
- ``threshold``: a numeric feature puts every row of each class on its own side of a cut, and
  each cut runs through the feature's continuum: at the density of the ``NEIGHBOURS`` rows on
  each side, the empty gap at the cut would hold at most ``EMPTY_GAP_ROWS`` rows. The gap around
  a fixed point of a smooth density holds more 0.3% of the time (a Gamma(2) tail, 9e^-8; 0.4% in
  simulated rounded normal samples of 100 rows). That is a cut such as
  ``low = bwt < 2500`` or ``Direction = Today >= 0``; two groups far apart (setosa's petals) are
  a separable problem, and no leak;
- ``identity``: target = a*x1 + b*x2 + c on every row, within the precision the three columns
  are stored with (half a rounding step of each): sums and differences of two columns;
- the score: each feature alone predicts the target on the held-out rows of 5-fold
  cross-validation (every row is held out once): the majority class of its bin (bins cut where
  the training rows' class changes) or the interpolated mean target of the training rows around
  its value. It is balanced accuracy for classes (95% Wilson interval per class) or R^2 for
  numbers (95% normal interval of the mean squared error). An identifier, which never repeats,
  scores like a constant. A leak when the score is at least ``LEAK_SCORE`` and its interval's
  lower end at least ``LEAK_LOW`` (enough rows to tell it from a lucky run).

Why the verdict is stable: the exact relations hold on every subset of rows, so they do not
depend on which rows were sampled or how they were split (at least ``MIN_ROWS`` labelled rows are
needed); the score uses every row once (no single split) on seeded folds, and needs its interval
clear of chance as well as a high estimate. On the real-data corpus (tests/test_leakage.py) the
four known leaks are found on the full file, both random halves and five 60% samples, and the
other datasets report nothing on the file or its halves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

MIN_ROWS = 40
FOLDS = 5
SPLIT_SEED = 7
LEAK_SCORE = 0.99  # cross-validated balanced accuracy or R^2 of one feature alone
LEAK_LOW = 0.95  # ... and the lower end of its 95% interval
EMPTY_GAP_ROWS = 8.0  # a class cut whose gap would hold more rows than this, at the density beside it, parts groups
NEIGHBOURS = 20  # rows on each side of a cut that measure the density there
PAIR_SCREEN = 1e-4  # 1 - R^2 of a two-column linear fit worth confirming row by row
PAIR_SCREEN_ROWS = 5_000
Z = 1.959964  # two-sided 95%
EXACT_FLOAT = 2.0**53  # integers up to this are exact in float64


@dataclass(frozen=True)
class FeatureScore:
    feature: str
    score: float  # cross-validated balanced accuracy or R^2, pooled over every row
    low: float  # the score's 95% interval
    high: float
    metric: str
    rows: int  # rows scored (each held out once)
    relation: str = ""  # the exact relation found: copy, monotone, threshold ("" for none)
    sign: int = 0  # for monotone: +1 when the feature rises with the target, -1 when it falls

    @property
    def leak(self) -> bool:
        return bool(self.relation) or (self.score >= LEAK_SCORE and self.low >= LEAK_LOW)


@dataclass(frozen=True)
class Identity:
    """target = a * first + b * second + c on every row both are present."""

    first: str
    second: str
    a: float
    b: float
    c: float
    rows: int

    def formula(self, target: str) -> str:
        b = f"{'-' if self.b < 0 else '+'} {_coef(abs(self.b))}{self.second}"
        c = f" {'-' if self.c < 0 else '+'} {abs(self.c):.4g}" if abs(self.c) > 1e-9 else ""
        return f"{target} = {'-' if self.a < 0 else ''}{_coef(abs(self.a))}{self.first} {b}{c}"


def _coef(value: float) -> str:
    return "" if abs(value - 1) < 1e-6 else f"{value:.4g}*"


@dataclass(frozen=True)
class Leak:
    """A feature (or a pair) that gives the target away, in words."""

    columns: tuple[str, ...]  # one feature, or the two of an identity
    relation: str  # copy, monotone, threshold, identity, or score
    score: float  # the feature's cross-validated score (1.0 for an identity)
    rows: int
    message: str


def find_leaks(
    sample: pa.Table, target: str, features: list[str], classification: bool, rows: int | None = None
) -> list[Leak]:
    """Every leak of one feature, then every two-column identity among the other numeric features.

    ``rows`` is the size of the table ``sample`` was drawn from, for the messages.
    """
    scores = score_features(sample, target, features, classification)
    if not scores:
        return []  # too few labelled rows, or a single class or value
    n = scores[0].rows
    of = f"{n:,} rows" + (f" (a sample of {rows:,})" if rows is not None and n < rows else "")
    leaks = []
    for s in sorted((s for s in scores if s.leak), key=lambda s: (not s.relation, -s.score, s.feature)):
        scored = f"cross-validated {s.metric} {s.score:.3f}, 95% interval {s.low:.3f} to {s.high:.3f}"
        message = {
            "monotone": f"'{s.feature}' orders all {of} exactly as '{target}' does{'' if s.sign > 0 else ', reversed'} "
            f"(Spearman's rho = {s.sign}): a monotone transform of the target ({scored})",
            "threshold": f"'{s.feature}' puts every one of {of} on its class's side of a cut through its values: "
            f"'{target}' is a threshold on it ({scored})",
            "copy": f"each value of '{s.feature}' goes with one value of '{target}' on all {of}: a recoding of the "
            f"target ({scored})",
            "": f"'{s.feature}' alone predicts '{target}' with {scored} on {of}: a suspected leak",
        }[s.relation]
        leaks.append(Leak((s.feature,), s.relation or "score", s.score, n, message))
    if not classification:
        flagged = {s.feature for s in scores if s.leak}
        for pair in two_column_identities(sample, target, [f for f in features if f not in flagged]):
            message = (
                f"{pair.formula(target)} on every one of {pair.rows:,} rows (to the precision the values are stored "
                "with): the target is a sum of two columns"
            )
            leaks.append(Leak((pair.first, pair.second), "identity", 1.0, pair.rows, message))
    return leaks


@dataclass
class _Target:
    y: np.ndarray  # class codes, or the numbers as float
    exact: np.ndarray | None  # the numbers in their own type (integers above 2^53 stay exact); None for classes
    folds: np.ndarray  # fold number per row


def score_features(sample: pa.Table, target: str, features: list[str], classification: bool) -> list[FeatureScore]:
    """Each feature's cross-validated score and exact relation (see the module docstring)."""
    prepared = _prepare(sample, target, classification)
    if prepared is None:
        return []
    sample, t = prepared
    return [_score(feature, sample.column(feature), t, classification) for feature in features]


def _score(feature: str, column: pa.ChunkedArray, t: _Target, classification: bool) -> FeatureScore:
    numeric = _numbers(column)
    codes = _categories(column) if numeric is None else None
    prediction = _out_of_fold(t, numeric, codes, classification)
    if classification:
        score, low, high = _balanced_accuracy_interval(t.y, prediction)
        exact = _threshold(numeric[1], numeric[2], t.y) if numeric is not None else score == 1.0
        relation, sign = ("threshold" if numeric is not None else "copy") if exact else "", 0
    else:
        score, low, high = _r2_interval(t.y, prediction)
        sign = _monotone(numeric[0], numeric[2], t.exact) if numeric is not None else 0
        relation = "monotone" if sign else "copy" if numeric is None and score == 1.0 else ""
    metric = "balanced accuracy" if classification else "R^2"
    return FeatureScore(feature, score, low, high, metric, len(t.y), relation, sign)


def two_column_identities(sample: pa.Table, target: str, features: list[str]) -> list[Identity]:
    """Pairs of numeric features whose linear combination is a numeric target on every row (see the docstring)."""
    prepared = _prepare(sample, target, False)
    if prepared is None or _beyond_float(prepared[1].exact):
        return []
    sample, t = prepared
    columns = []
    for feature in features:
        numeric = _numbers(sample.column(feature))
        if numeric is None or (~numeric[2]).sum() < MIN_ROWS or np.ptp(numeric[1][~numeric[2]]) == 0:
            continue
        if _beyond_float(numeric[0][~numeric[2]]):
            continue  # float64 cannot check a sum to the unit there (and the values are shifted, see _numbers)
        columns.append((feature, numeric[1], numeric[2]))
    if len(columns) < 2:
        return []
    found = []
    for i, j in _screen_pairs(t.y, columns):
        (name_i, x_i, miss_i), (name_j, x_j, miss_j) = columns[i], columns[j]
        rows = ~(miss_i | miss_j)
        if rows.sum() < MIN_ROWS:
            continue
        design = np.column_stack([x_i[rows], x_j[rows], np.ones(int(rows.sum()))])
        (a, b, c), *_ = np.linalg.lstsq(design, t.y[rows], rcond=None)
        residual = np.abs(t.y[rows] - design @ np.array([a, b, c]))
        # Stored values are rounded: each of the three columns may be off by half its step.
        budget = (_step(t.y[rows]) + abs(a) * _step(x_i[rows]) + abs(b) * _step(x_j[rows])) / 2
        budget += 1e-9 * (np.abs(t.y[rows]).max() + 1)  # float arithmetic
        if residual.max() <= budget * 1.5:  # a least-squares fit spreads the rounding a little
            found.append(Identity(name_i, name_j, float(a), float(b), float(c), int(rows.sum())))
    return found


def _screen_pairs(y: np.ndarray, columns: list[tuple[str, np.ndarray, np.ndarray]]) -> list[tuple[int, int]]:
    """Pairs whose two-column linear fit leaves under PAIR_SCREEN of the target's variance, from moments on a sample."""
    take = np.random.default_rng(SPLIT_SEED).permutation(len(y))[:PAIR_SCREEN_ROWS]
    present = np.column_stack([~m[take] for _, _, m in columns]).astype(float)
    x = np.column_stack([np.where(m[take], 0.0, v[take]) for _, v, m in columns])
    x = (x - (x * present).sum(0) / present.sum(0)) * present  # centred on the present values, 0 when missing
    x /= np.maximum(np.sqrt((x**2).sum(0) / present.sum(0)), 1e-300)
    t = y[take]
    t = (t - t.mean()) / (t.std() or 1.0)
    # Moments over the rows where both columns of a pair are present: matrix products of masked columns.
    n = present.T @ present
    s_x = x.T @ present  # [i, j]: sum of x_i where x_j is present
    s_xx = (x**2).T @ present
    s_xy = x.T @ x
    s_t = present.T @ (present * t[:, None])  # sum of t where both are present
    s_tt = present.T @ (present * (t**2)[:, None])
    s_xt = (x * t[:, None]).T @ present
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_i, mean_j, mean_t = s_x / n, s_x.T / n, s_t / n
        var_i, var_j = s_xx / n - mean_i**2, s_xx.T / n - mean_j**2
        cov_ij = s_xy / n - mean_i * mean_j
        cov_it, cov_jt = s_xt / n - mean_i * mean_t, s_xt.T / n - mean_j * mean_t
        var_t = s_tt / n - mean_t**2
        det = var_i * var_j - cov_ij**2
        explained = (var_j * cov_it**2 - 2 * cov_ij * cov_it * cov_jt + var_i * cov_jt**2) / det
        unexplained = 1 - explained / var_t
        usable = (n >= MIN_ROWS) & (det > 1e-9 * var_i * var_j) & (var_t > 0)
    i, j = np.nonzero(np.triu(usable & (unexplained <= PAIR_SCREEN), k=1))
    return list(zip(i.tolist(), j.tolist()))


def _beyond_float(values: np.ndarray) -> bool:
    """Integers some of which float64 cannot hold exactly (beyond 2^53)."""
    return values.dtype.kind in "iu" and len(values) > 0 and float(np.abs(values.astype(float)).max()) > EXACT_FLOAT


def _step(values: np.ndarray) -> float:
    """The smallest gap between distinct values: the rounding step of stored numbers."""
    gaps = np.diff(np.unique(values))
    return float(gaps.min()) if len(gaps) else 0.0


def _prepare(sample: pa.Table, target: str, classification: bool) -> tuple[pa.Table, _Target] | None:
    import pandas as pd
    import pyarrow.compute as pc

    labels = sample.column(target)
    keep = np.asarray(pc.fill_null(pc.is_valid(labels), False).to_numpy(zero_copy_only=False), dtype=bool)
    numbers = None if classification else _numbers(labels)
    if not classification:
        if numbers is None:
            return None
        keep &= ~numbers[2]
    sample = sample.filter(keep)
    n = sample.num_rows
    if n < MIN_ROWS:
        return None
    folds = np.random.default_rng(SPLIT_SEED).permutation(n) % FOLDS
    if classification:
        y, _ = pd.factorize(pd.Series(sample.column(target).to_pandas(), dtype=object))
        if len(np.unique(y)) < 2:
            return None
        return sample, _Target(y, None, folds)
    exact, y = numbers[0][keep], numbers[1][keep]
    if np.var(y) == 0:
        return None
    return sample, _Target(y, exact, folds)


def _numbers(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A numeric (or boolean, date, time) column as (values in their own type, as float, missing); None otherwise.

    Integers keep their type in the first array, so integers above 2^53 (where float64 has gaps)
    still order and tie exactly; the float copy, for means and fits, is only ever rounded.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_temporal(kind):
        column = column.view(pa.int64() if kind.bit_width == 64 else pa.int32())
    elif pa.types.is_boolean(kind):
        column = pc.cast(column, pa.int8())
    elif pa.types.is_decimal(kind):
        column = pc.cast(column, pa.float64())
    elif not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        return None
    missing = np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)
    exact = np.asarray(column.fill_null(0).to_numpy(zero_copy_only=False))
    as_float = exact.astype(np.float64)
    if _beyond_float(exact[~missing]):
        # Beyond 2^53 float64 merges neighbours (2^60 + 1 is 2^60): measured from the smallest value, in
        # extended precision where the platform has it, the differences stay exact while the span allows.
        wide = exact.astype(np.longdouble)
        as_float = (wide - wide[~missing].min()).astype(np.float64)
    missing |= ~np.isfinite(as_float)
    return exact, as_float, missing


def _categories(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """One integer code per distinct value; -1 missing."""
    import pandas as pd

    codes, _ = pd.factorize(pd.Series(column.to_pandas(), dtype=object), use_na_sentinel=True)
    return codes


def _class_bins(x: np.ndarray, missing: np.ndarray, train: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bins of a numeric feature cut where the training rows' majority class changes along it; -1 missing."""
    seen = train & ~missing
    if not seen.any():
        return np.full(len(x), -1)
    return np.where(missing, -1, np.searchsorted(_class_edges(x[seen], y[seen]), x, side="right"))


def _class_edges(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive distinct values whose majority class differs."""
    distinct, inverse = np.unique(x, return_inverse=True)
    table = np.zeros((len(distinct), int(y.max()) + 1), dtype=np.int64)
    np.add.at(table, (inverse, y), 1)
    majority = table.argmax(axis=1)
    change = np.flatnonzero(majority[1:] != majority[:-1])
    return (distinct[change] + distinct[change + 1]) / 2


def _out_of_fold(
    t: _Target, numeric: tuple[np.ndarray, np.ndarray, np.ndarray] | None, codes: np.ndarray | None, classes: bool
) -> np.ndarray:
    """Each row's prediction from the one-feature model fitted on the other folds.

    Classes: the majority class per category, or per bin of a number cut where the training rows'
    class changes along it. Numbers: the mean target per category, or interpolated along a number.
    """
    prediction = np.empty(len(t.y), dtype=t.y.dtype if classes else float)
    for fold in range(FOLDS):
        train, held = t.folds != fold, t.folds == fold
        if numeric is None:
            predicted = predict_by_code(codes, t.y, train, classes)  # type: ignore[arg-type]
        elif classes:
            predicted = predict_by_code(_class_bins(numeric[1], numeric[2], train, t.y), t.y, train, True)
        else:
            predicted = _interpolate(numeric[1], numeric[2], t.y, train)
        prediction[held] = predicted[held]
    return prediction


def _interpolate(x: np.ndarray, missing: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The training rows' mean target at each distinct value, linearly interpolated; rows missing x get their mean."""
    seen = train & ~missing
    if not seen.any():
        return np.full(len(y), y[train].mean())
    distinct, inverse = np.unique(x[seen], return_inverse=True)
    means = np.bincount(inverse, weights=y[seen]) / np.bincount(inverse)
    prediction = np.interp(np.where(missing, distinct[0], x), distinct, means)
    unknown = train & missing
    prediction[missing] = y[unknown].mean() if unknown.any() else y[train].mean()
    return prediction


def _monotone(exact: np.ndarray, missing: np.ndarray, y: np.ndarray) -> int:
    """+1 (or -1) when the feature orders its present rows exactly as (against) the target: Spearman's rho; else 0."""
    present = ~missing
    if present.sum() < MIN_ROWS:
        return 0
    _, rank_x = np.unique(exact[present], return_inverse=True)  # dense ranks: equal values share one
    _, rank_y = np.unique(y[present], return_inverse=True)
    if rank_y.max() < 2:
        return 0  # two values: a copy of a binary number, which the score sees
    return 1 if np.array_equal(rank_x, rank_y) else -1 if np.array_equal(rank_x.max() - rank_x, rank_y) else 0


def _threshold(x: np.ndarray, missing: np.ndarray, y: np.ndarray) -> bool:
    """Cuts on the feature put every present row on its class's side, each cut inside the values' continuum."""
    present = ~missing
    if present.sum() < MIN_ROWS or len(np.unique(y[present])) != len(np.unique(y)):
        return False
    distinct, inverse = np.unique(x[present], return_inverse=True)
    table = np.zeros((len(distinct), int(y.max()) + 1), dtype=np.int64)
    np.add.at(table, (inverse, y[present]), 1)
    if np.any((table > 0).sum(axis=1) > 1):
        return False  # one value holds two classes
    order = table.argmax(axis=1)
    cuts = np.flatnonzero(order[1:] != order[:-1])
    if len(cuts) != len(np.unique(y)) - 1:
        return False  # a class comes back after another: no set of cuts
    values = np.sort(x[present])
    step = float(np.diff(distinct).min())
    for cut in cuts:
        low, high = distinct[cut], distinct[cut + 1]
        below = values[
            max(0, np.searchsorted(values, low, side="right") - NEIGHBOURS) : np.searchsorted(values, low, side="right")
        ]
        above = values[np.searchsorted(values, high) : np.searchsorted(values, high) + NEIGHBOURS]
        # Rows per unit of the feature next to the cut, and the rows the empty gap would hold at that density.
        density = (len(below) + len(above)) / (low - below[0] + above[-1] - high + 2 * step)
        if density * (high - low - step) > EMPTY_GAP_ROWS:
            return False  # two groups far apart: a separable problem, not a cut through one continuum
    return True


def predict_by_code(codes: np.ndarray, y: np.ndarray, train: np.ndarray, classification: bool) -> np.ndarray:
    """Each row gets the majority class (or mean target) of the training rows sharing its code."""
    shifted = codes + 1  # missing (-1) becomes a code of its own
    size = int(shifted.max()) + 1 if len(shifted) else 1
    seen = np.bincount(shifted[train], minlength=size) > 0
    if classification:
        classes = int(y.max()) + 1
        table = np.zeros((size, classes), dtype=np.int64)
        np.add.at(table, (shifted[train], y[train]), 1)
        fallback = int(np.bincount(y[train], minlength=classes).argmax())
        best = table.argmax(axis=1)
        per_code = np.where(seen, best, fallback)
    else:
        sums = np.bincount(shifted[train], weights=y[train], minlength=size)
        counts = np.bincount(shifted[train], minlength=size)
        fallback = float(y[train].mean())
        per_code = np.where(seen, sums / np.maximum(counts, 1), fallback)
    return per_code[shifted]


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present in ``y_true`` (scikit-learn's balanced_accuracy_score)."""
    recalls = [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]
    return float(np.mean(recalls))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination (scikit-learn's r2_score)."""
    total = np.sum((y_true - y_true.mean()) ** 2)
    return float(1 - np.sum((y_true - y_pred) ** 2) / total) if total else 0.0


def wilson(hits: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (statsmodels' proportion_confint, method='wilson')."""
    p = hits / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return float(centre - half), float(centre + half)


def _balanced_accuracy_interval(y: np.ndarray, prediction: np.ndarray) -> tuple[float, float, float]:
    """Balanced accuracy with the mean of its classes' Wilson intervals."""
    bounds = [wilson(int(np.sum(prediction[y == c] == c)), int(np.sum(y == c))) for c in np.unique(y)]
    return (
        balanced_accuracy(y, prediction),
        float(np.mean([b[0] for b in bounds])),
        float(np.mean([b[1] for b in bounds])),
    )


def _r2_interval(y: np.ndarray, prediction: np.ndarray) -> tuple[float, float, float]:
    """R^2 with a 95% normal interval of the mean squared error (the target's variance taken as known)."""
    squared = (y - prediction) ** 2
    variance = float(np.var(y))
    spread = Z * float(np.std(squared)) / np.sqrt(len(y))
    mse = float(squared.mean())
    return r2(y, prediction), 1 - (mse + spread) / variance, 1 - max(mse - spread, 0.0) / variance
