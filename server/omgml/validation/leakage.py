"""Single-feature predictors on a sample: how well can one column alone predict the target?

Each feature is cut into bins (quantiles of a numeric feature learned on one half of the
sample, or its values when categorical); each bin predicts the majority class (classification)
or mean target (regression) of its training rows. The predictor is scored on the other half:
balanced accuracy for classes, R^2 for numbers. Unseen bins predict the overall majority or
mean, so an identifier, which never repeats, scores like a constant. A feature that scores
near-perfectly on held-out rows is a suspected leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

BINS = 64
MIN_ROWS = 40
SPLIT_SEED = 7


@dataclass(frozen=True)
class FeatureScore:
    feature: str
    score: float  # balanced accuracy or R^2 on the held-out half
    metric: str
    test_rows: int


def _codes(column: pa.ChunkedArray | pa.Array, train: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Integer codes per row: bins for numbers (edges from the training rows), values otherwise; -1 missing.

    With class labels ``y`` the bin edges sit where the training rows' majority class changes
    along the feature, so a feature that separates the classes is cut exactly at the boundary;
    without, at quantiles.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_temporal(kind)
    ):
        if pa.types.is_temporal(kind):
            column = column.view(pa.int64() if kind.bit_width == 64 else pa.int32())
        values = np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        missing = ~np.isfinite(values)
        known = values[train & ~missing]
        if len(known) == 0:
            return np.full(len(values), -1)
        distinct = np.unique(known)
        if len(distinct) <= BINS:
            position = np.searchsorted(distinct, values)
            inside = position < len(distinct)
            exact = np.zeros(len(values), dtype=bool)
            exact[inside] = distinct[position[inside]] == values[inside]
            codes = np.where(exact, position, len(distinct))  # an unseen value gets a code of its own
        elif y is not None:
            codes = np.searchsorted(_class_edges(values[train & ~missing], y[train & ~missing]), values, side="right")
        else:
            edges = np.unique(np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1]))
            codes = np.searchsorted(edges, values, side="right")
        return np.where(missing, -1, codes)
    codes, _ = pd.factorize(pd.Series(column.to_pandas(), dtype=object), use_na_sentinel=True)
    return codes


def _class_edges(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive distinct values whose majority class differs."""
    distinct, inverse = np.unique(x, return_inverse=True)
    table = np.zeros((len(distinct), int(y.max()) + 1), dtype=np.int64)
    np.add.at(table, (inverse, y), 1)
    majority = table.argmax(axis=1)
    change = np.flatnonzero(majority[1:] != majority[:-1])
    return (distinct[change] + distinct[change + 1]) / 2


def score_features(sample: pa.Table, target: str, features: list[str], classification: bool) -> list[FeatureScore]:
    """Held-out score of the best one-feature rule for each feature (see the module docstring)."""
    import pandas as pd
    import pyarrow.compute as pc

    labels = sample.column(target)
    keep = np.asarray(pc.fill_null(pc.is_valid(labels), False).to_numpy(zero_copy_only=False), dtype=bool)
    if not classification:
        y = np.asarray(pc.cast(labels, "float64").to_numpy(zero_copy_only=False), dtype=float)
        keep &= np.isfinite(y)
    sample = sample.filter(keep)
    n = sample.num_rows
    if n < MIN_ROWS:
        return []
    rng = np.random.default_rng(SPLIT_SEED)
    train = np.zeros(n, dtype=bool)
    train[rng.permutation(n)[: n // 2]] = True
    test = ~train
    labels = sample.column(target)
    if classification:
        y, _ = pd.factorize(pd.Series(labels.to_pandas(), dtype=object))
        if len(np.unique(y[test])) < 2:
            return []
    else:
        y = np.asarray(pc.cast(labels, "float64").to_numpy(zero_copy_only=False), dtype=float)
        if np.var(y[test]) == 0:
            return []
    scores = []
    for feature in features:
        codes = _codes(sample.column(feature), train, y if classification else None)
        prediction = predict_by_code(codes, y, train, classification)
        score = balanced_accuracy(y[test], prediction[test]) if classification else r2(y[test], prediction[test])
        scores.append(
            FeatureScore(feature, float(score), "balanced accuracy" if classification else "R^2", int(test.sum()))
        )
    return scores


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
