"""Cross-validate one candidate fold by fold, within the time budget.

Each fold is one ``sklearn.model_selection.cross_validate`` call on that fold's indices, with
the same scorers, so the scores equal one ``cross_validate`` call over all the folds; going
fold by fold lets a candidate stop when the folds left would not fit in the time budget.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omgml.baseline.metrics import MetricSpec
from omgml.errors import first_line

# The overfit check scores each fold's model on up to this many of its training rows.
TRAIN_SCORE_ROWS = 5_000
# Below this many training cells (rows x features) a fold takes seconds on one core: no probe fit
# before the first fold (the check after each fold still stops a candidate that runs long).
PROBE_MIN_CELLS = 5_000_000
# Rows of the probe fit that estimates a fold's time on large data.
PROBE_ROWS = 20_000
# Scoring a fold costs about this share of fitting it (measured on HistGradientBoosting, the slowest to predict).
SCORING_SHARE = 0.3
MAX_NOTES = 5


@dataclass
class Budget:
    seconds: float
    start: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        return self.seconds - self.elapsed()


@dataclass
class Outcome:
    status: str = "ok"  # ok, failed, skipped
    reason: str = ""
    scores: dict[str, list[float]] = field(default_factory=dict)  # metric -> natural value per fold
    train_primary: list[float] = field(default_factory=list)
    fit_times: list[float] = field(default_factory=list)
    score_times: list[float] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    # Each fold's test-row predictions, as its scorers saw them: the best candidate's out-of-fold record.
    predictions: list[np.ndarray] = field(default_factory=list)

    @property
    def folds_done(self) -> int:
        return len(self.fit_times)


def evaluate(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    scorers: dict[str, Any],
    specs: dict[str, MetricSpec],
    primary: str,
    budget: Budget,
    *,
    reference: bool,
    seed: int,
    fold_done: Callable[[int], None] = lambda folds: None,
) -> Outcome:
    """Score ``estimator`` on every fold, or stop early (skipped) when the budget cannot hold the rest.

    ``fold_done(n)`` is called after each of the ``n`` folds scored (or when the candidate stops early: with
    every fold), so a progress bar over candidates x folds moves per fold and ends full.
    """
    from sklearn.model_selection import cross_validate

    started = time.perf_counter()
    outcome = Outcome(scores={name: [] for name in scorers})
    scoring = {**scorers, PREDICTIONS: _keep_predictions(outcome.predictions)}
    k = len(splits)
    train_rows = float(np.mean([len(train) for train, _ in splits]))
    refit_factor = len(y) / train_rows  # the final refit on every row costs about this many fold fits

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not reference:
            skip = _skip_before_start(estimator, X, y, splits, budget, k, refit_factor, seed)
            if skip:
                outcome.status, outcome.reason = "skipped", skip
                outcome.seconds = time.perf_counter() - started
                fold_done(k)
                return outcome
        fold_walls: list[float] = []
        for index, (train, test) in enumerate(splits):
            fold_start = time.perf_counter()
            try:
                result = cross_validate(
                    estimator, X, y, cv=[(train, test)], scoring=scoring, error_score="raise", return_estimator=True
                )
            except Exception as exc:  # noqa: BLE001 -- a candidate that fails is reported; the others go on
                outcome.status = "failed"
                outcome.reason = f"fold {index + 1} of {k}: {type(exc).__name__}: {first_line(exc)}"
                break
            for name in scorers:
                outcome.scores[name].append(specs[name].natural(float(result[f"test_{name}"][0])))
            outcome.fit_times.append(float(result["fit_time"][0]))
            outcome.score_times.append(float(result["score_time"][0]))
            train_score = _train_score(result["estimator"][0], X, y, train, scorers[primary], seed + index)
            if train_score is not None:
                outcome.train_primary.append(specs[primary].natural(train_score))
            fold_walls.append(time.perf_counter() - fold_start)
            fold_done(index + 1)
            left = k - index - 1
            if not reference and left:
                needed = float(np.mean(fold_walls)) * left + float(np.mean(outcome.fit_times)) * refit_factor
                if needed > budget.remaining():
                    outcome.status = "skipped"
                    outcome.reason = (
                        f"stopped after fold {index + 1} of {k}: the {left} fold(s) left and the refit need about "
                        f"{needed:.0f} s, more than the {max(budget.remaining(), 0):.0f} s left of the "
                        f"{budget.seconds:g} s budget"
                    )
                    break
    fold_done(k)
    outcome.notes = _notes(caught)
    outcome.seconds = time.perf_counter() - started
    if outcome.status == "skipped":  # partial folds are not comparable with full ones
        outcome.scores = {name: [] for name in scorers}
        outcome.train_primary, outcome.fit_times, outcome.score_times = [], [], []
    if outcome.status != "ok":
        outcome.predictions.clear()
    return outcome


PREDICTIONS = "omgml_out_of_fold"  # the scorer that keeps the predictions; not a metric


def _keep_predictions(into: list) -> Any:
    """A scorer that keeps each fold's ``predict`` output and scores 0.

    scikit-learn's multi-metric scoring calls ``predict`` once per fold and hands the result to every scorer that
    needs it (accuracy, F1, RMSE, ...), so keeping it costs no prediction; were that cache ever dropped, it would
    cost one ``predict`` of the test fold, still no fit.
    """
    from sklearn.metrics import make_scorer

    def keep(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        into.append(np.asarray(y_pred))
        return 0.0

    return make_scorer(keep, response_method="predict")


def out_of_fold(
    predictions: list[np.ndarray], y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Each test row's prediction by its fold's model (as ``cross_val_predict`` on the same folds), and which rows
    were tested (a time split never tests its first period)."""
    predicted = np.empty(len(y), dtype=y.dtype)
    tested = np.zeros(len(y), dtype=bool)
    for values, (_, test) in zip(predictions, splits, strict=True):
        predicted[test] = values
        tested[test] = True
    return predicted, tested


def _skip_before_start(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    budget: Budget,
    k: int,
    refit_factor: float,
    seed: int,
) -> str:
    """Why the candidate should not start (the budget is spent, or a probe fit says it will not fit), or ''."""
    remaining = budget.remaining()
    if remaining <= 0:
        return (
            f"the {budget.seconds:g} s time budget was used up before it could start ({budget.elapsed():.1f} s elapsed)"
        )
    train = splits[0][0]
    if len(train) * max(X.shape[1], 1) < PROBE_MIN_CELLS:
        return ""
    from sklearn.base import clone

    rows = sample_rows(train, PROBE_ROWS, seed)
    probe_start = time.perf_counter()
    try:
        clone(estimator).fit(X.iloc[rows], y[rows])
    except Exception:  # noqa: BLE001 -- the real folds will report the error
        return ""
    per_row = (time.perf_counter() - probe_start) / len(rows)
    fit = per_row * len(train)
    needed = fit * (1 + SCORING_SHARE) * k + fit * refit_factor
    if needed > budget.remaining():
        return (
            f"estimated at about {needed:.0f} s for {k} folds and the refit (timed on {len(rows):,} rows, scaled to "
            f"{len(train):,}), more than the {max(budget.remaining(), 0):.0f} s left of the {budget.seconds:g} s budget"
        )
    return ""


def sample_rows(population: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` of ``population`` (ascending) drawn without replacement with ``seed``, in ascending order."""
    if len(population) <= n:
        return population
    return np.sort(np.random.default_rng(seed).choice(population, size=n, replace=False))


def _train_score(model: Any, X: Any, y: np.ndarray, train: np.ndarray, scorer: Any, seed: int) -> float | None:
    rows = sample_rows(train, TRAIN_SCORE_ROWS, seed)
    try:
        return float(scorer(model, X.iloc[rows], y[rows]))
    except Exception:  # noqa: BLE001 -- e.g. a sample missing a class for ROC AUC: the check is skipped, not the candidate
        return None


def _notes(caught: list[warnings.WarningMessage]) -> list[str]:
    notes: list[str] = []
    for item in caught:
        text = f"{item.category.__name__}: {first_line(item.message)}"
        if text not in notes:
            notes.append(text)
    return notes[:MAX_NOTES]
