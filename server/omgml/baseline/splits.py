"""How rows are split into folds: an ordered table of (condition, splitter, reason) rows.

The folds are materialized once as index arrays, so every candidate sees exactly the same
train and test rows, and a test can hand the same folds to ``cross_validate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from omgml.errors import InvalidInput


@dataclass(frozen=True)
class SplitContext:
    task: str
    n_splits: int
    seed: int
    group_column: str | None
    time_column: str | None


@dataclass(frozen=True)
class SplitRule:
    kind: str
    holds: Callable[[SplitContext], bool]
    make: Callable[[SplitContext], Any]
    shuffle: bool
    reason: Callable[[SplitContext], str]


def _group_kfold(ctx: SplitContext) -> Any:
    from sklearn.model_selection import GroupKFold

    try:
        return GroupKFold(n_splits=ctx.n_splits, shuffle=True, random_state=ctx.seed)
    except TypeError:  # scikit-learn < 1.6 has no shuffle: groups are dealt by size, no seed involved
        return GroupKFold(n_splits=ctx.n_splits)


def _time_series(ctx: SplitContext) -> Any:
    from sklearn.model_selection import TimeSeriesSplit

    return TimeSeriesSplit(n_splits=ctx.n_splits)


def _stratified(ctx: SplitContext) -> Any:
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=ctx.n_splits, shuffle=True, random_state=ctx.seed)


def _kfold(ctx: SplitContext) -> Any:
    from sklearn.model_selection import KFold

    return KFold(n_splits=ctx.n_splits, shuffle=True, random_state=ctx.seed)


RULES: tuple[SplitRule, ...] = (
    SplitRule(
        "group_kfold",
        lambda c: c.group_column is not None,
        _group_kfold,
        True,
        lambda c: f"rows sharing a '{c.group_column}' value stay in one fold, so the score is for unseen groups",
    ),
    SplitRule(
        "time_series",
        lambda c: c.time_column is not None,
        _time_series,
        False,
        lambda c: (
            f"rows ordered by '{c.time_column}'; each fold trains on the past and tests on the next period, "
            "as the model will be used"
        ),
    ),
    SplitRule(
        "stratified_kfold",
        lambda c: c.task in ("binary", "multiclass"),
        _stratified,
        True,
        lambda c: "classification: every fold keeps the class shares of the whole data",
    ),
    SplitRule("kfold", lambda c: True, _kfold, True, lambda c: "regression: shuffled K-fold"),
)


@dataclass(frozen=True)
class Folds:
    kind: str
    shuffle: bool
    reason: str
    splits: list[tuple[np.ndarray, np.ndarray]]


def make_folds(ctx: SplitContext, y: np.ndarray, groups: np.ndarray | None) -> Folds:
    """Check the data can be split ``ctx.n_splits`` ways, then materialize the folds."""
    rule = next(r for r in RULES if r.holds(ctx))
    _check(rule.kind, ctx, y, groups)
    dummy_x = np.zeros((len(y), 1))
    splits = [(train, test) for train, test in rule.make(ctx).split(dummy_x, y, groups)]
    return Folds(rule.kind, rule.shuffle, rule.reason(ctx), splits)


def _check(kind: str, ctx: SplitContext, y: np.ndarray, groups: np.ndarray | None) -> None:
    rows, k = len(y), ctx.n_splits
    needed = k + 1 if kind == "time_series" else k
    if rows < needed:
        raise InvalidInput(
            f"Only {rows:,} row(s) have a target, fewer than the {needed} needed for {k}-fold cross-validation"
            + (" over time" if kind == "time_series" else ""),
            "every fold needs rows to test on",
            f"pass --cv {max(2, rows - (1 if kind == 'time_series' else 0))} or less, or add rows; "
            "a baseline on so few rows measures noise",
        )
    if kind == "stratified_kfold":
        labels, counts = np.unique(y, return_counts=True)
        rare = [(label, count) for label, count in zip(labels, counts) if count < k]
        if rare:
            shown = ", ".join(f"'{label}' ({count} row(s))" for label, count in rare[:5])
            fewest = int(min(count for _, count in rare))
            fix = (
                f"pass --cv {fewest} or less, or merge the rare classes into others"
                if fewest >= 2
                else "merge or drop the classes with a single row (no split can test on them)"
            )
            raise InvalidInput(
                f"Class(es) {shown} have fewer rows than the {k} folds",
                "stratified cross-validation puts each class in every test fold, and scores such as ROC AUC need it",
                fix,
            )
    if kind == "group_kfold":
        distinct = len(np.unique(groups))
        if distinct < k:
            raise InvalidInput(
                f"The group column '{ctx.group_column}' has {distinct} distinct value(s), fewer than the {k} folds",
                "group K-fold keeps each group in one fold, so it needs at least one group per fold",
                f"pass --cv {max(2, distinct)} or less, or group by a finer column",
            )
