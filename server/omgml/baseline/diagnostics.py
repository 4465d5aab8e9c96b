"""What the best model gets wrong, from its out-of-fold predictions: a confusion matrix or a residual summary.

Both are small, fixed-size summaries (at most MAX_CLASSES x MAX_CLASSES counts, RESIDUAL_BINS bins), so the
report stays a few KB whatever the row count, and the HTML chart is drawn from the same numbers.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from omgml.baseline.models import ConfusionMatrix, OutOfFold, ResidualBin, ResidualHistogram, Residuals

MAX_CLASSES = 20  # rows (and columns) of the confusion matrix; past it the rarest classes share the last one
RESIDUAL_BINS = 30  # quantile bins of the predictions ...
ROWS_PER_BIN = 10  # ... with at least this many rows each, so a bin's quantiles mean something
HISTOGRAM_BINS = 30
# The histogram spans these percentiles of the residuals: one outlier would otherwise squeeze the rest into a bar.
HISTOGRAM_RANGE = (0.5, 99.5)


def summarize(
    task: str, y: Any, predicted: Any, tested: Any, classes: list[Any], labels: list[str], seconds: float
) -> OutOfFold:
    """The summary for ``task`` over the ``tested`` rows; ``classes`` (sorted) and their ``labels``: classification."""
    actual, guessed = y[tested], predicted[tested]
    classification = task in ("binary", "multiclass")
    return OutOfFold(
        rows=int(tested.sum()),
        seconds=round(seconds, 3),
        confusion=confusion(actual, guessed, classes, labels) if classification else None,
        residuals=None if classification else residuals(actual, guessed),
    )


def confusion(actual: Any, predicted: Any, classes: list[Any], labels: list[str]) -> ConfusionMatrix:
    """Counts of true class (row) by predicted class (column), over ``classes`` in their order.

    Past MAX_CLASSES, the MAX_CLASSES - 1 most frequent true classes keep their place and the rest are pooled.
    """
    import numpy as np
    import pandas as pd

    # hashing, not sorting: 200,000 text labels are coded in milliseconds
    true_code = pd.Categorical(actual, categories=classes).codes.astype(np.int64)
    pred_code = pd.Categorical(predicted, categories=classes).codes.astype(np.int64)
    n = len(classes)
    counts = np.bincount(true_code * n + pred_code, minlength=n * n).reshape(n, n)
    if n <= MAX_CLASSES:
        return ConfusionMatrix(labels=list(labels), counts=counts.tolist(), classes_pooled=0)
    frequency = counts.sum(axis=1)
    # stable on ties: the earlier class in sorted order stays
    kept = np.sort(np.argsort(-frequency, kind="stable")[: MAX_CLASSES - 1])
    slot = np.full(n, MAX_CLASSES - 1)
    slot[kept] = np.arange(len(kept))
    pooled = np.zeros((MAX_CLASSES, MAX_CLASSES), dtype=np.int64)
    np.add.at(pooled, (slot[:, None], slot[None, :]), counts)
    others = n - len(kept)
    return ConfusionMatrix(
        labels=[labels[i] for i in kept] + [f"(other {others} classes)"],
        counts=pooled.tolist(),
        classes_pooled=others,
    )


def residuals(actual: Any, predicted: Any) -> Residuals:
    """Residuals (actual - predicted) by quantile bin of the prediction, and their histogram."""
    import numpy as np

    predicted = np.asarray(predicted, dtype="float64")
    residual = np.asarray(actual, dtype="float64") - predicted
    # sorted once by prediction, each bin is a slice: no pass over every row per bin
    order = np.argsort(predicted, kind="stable")
    predicted, residual = predicted[order], residual[order]
    bins = max(1, min(RESIDUAL_BINS, len(residual) // ROWS_PER_BIN))
    # ties in the predictions (a tree's leaves) collapse equal edges into one bin
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, bins + 1)))
    # bin i holds edges[i] <= prediction < edges[i + 1]; the last one its upper edge too
    bounds = [0, *np.searchsorted(predicted, edges[1:-1], side="left").tolist(), len(predicted)]
    summary = []
    for index, (start, stop) in enumerate(pairwise(bounds)):
        if start == stop:  # interpolated edges can fall in one gap between two predictions
            continue
        values = residual[start:stop]
        p10, p25, median, p75, p90 = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
        summary.append(
            ResidualBin(
                low=float(edges[index]),
                high=float(edges[min(index + 1, len(edges) - 1)]),
                rows=stop - start,
                predicted_mean=float(predicted[start:stop].mean()),
                residual_mean=float(values.mean()),
                p10=float(p10),
                p25=float(p25),
                median=float(median),
                p75=float(p75),
                p90=float(p90),
            )
        )
    low, high = np.percentile(residual, HISTOGRAM_RANGE)
    if low == high:  # every residual equal: numpy's own widening for an empty range
        low, high = low - 0.5, high + 0.5
    counts, hist_edges = np.histogram(residual, bins=HISTOGRAM_BINS, range=(low, high))
    return Residuals(
        mean=float(residual.mean()),
        bins=summary,
        histogram=ResidualHistogram(
            edges=hist_edges.tolist(),
            counts=counts.tolist(),
            below=int((residual < hist_edges[0]).sum()),
            above=int((residual > hist_edges[-1]).sum()),
        ),
    )
