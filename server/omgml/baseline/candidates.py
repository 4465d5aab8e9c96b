"""The candidate models, a registry: each is a name, a description and a builder of an unfitted estimator.

Every estimator is a plain scikit-learn object (pipelines of library transformers, no omgml
classes), so a registered model loads anywhere scikit-learn and MLflow are installed.
Adding a candidate is one new ``Candidate`` in ``CANDIDATES`` plus its test against
``sklearn.model_selection.cross_validate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Categories seen in fewer training rows than this are grouped into one "infrequent" level.
MIN_CATEGORY_ROWS = 10
# One-hot columns per categorical feature for the linear model, the infrequent level included.
MAX_ONE_HOT_LEVELS = 100
# HistGradientBoosting takes at most 255 categories per feature (max_bins), the grouped level included.
MAX_TREE_CATEGORIES = 255
LINEAR_MAX_ITER = 1000


@dataclass(frozen=True)
class Candidate:
    name: str
    reference: bool  # the bar the others must clear; always run, never skipped for time
    build: Callable[[str, list[str], list[str], int], Any]  # (task, numeric, categorical, seed) -> estimator
    describe: Callable[[str, list[str], list[str]], str]


def _is_classifier(task: str) -> bool:
    return task in ("binary", "multiclass")


def build_dummy(task: str, numeric: list[str], categorical: list[str], seed: int) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyClassifier(strategy="prior") if _is_classifier(task) else DummyRegressor(strategy="mean")


def describe_dummy(task: str, numeric: list[str], categorical: list[str]) -> str:
    if _is_classifier(task):
        return "DummyClassifier(strategy='prior'): predicts the training class shares and ignores the features"
    return "DummyRegressor(strategy='mean'): predicts the training mean and ignores the features"


def build_linear(task: str, numeric: list[str], categorical: list[str], seed: int) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    if numeric:
        parts.append(
            (
                "numeric",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median", add_indicator=True)), ("scale", StandardScaler())]
                ),
                list(numeric),
            )
        )
    if categorical:
        parts.append(
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=MIN_CATEGORY_ROWS,
                    max_categories=MAX_ONE_HOT_LEVELS,
                ),
                list(categorical),
            )
        )
    model = LogisticRegression(max_iter=LINEAR_MAX_ITER) if _is_classifier(task) else Ridge(alpha=1.0)
    return Pipeline([("prepare", ColumnTransformer(parts)), ("model", model)])


def describe_linear(task: str, numeric: list[str], categorical: list[str]) -> str:
    model = f"LogisticRegression(max_iter={LINEAR_MAX_ITER})" if _is_classifier(task) else "Ridge(alpha=1.0)"
    steps = []
    if numeric:
        steps.append(f"median imputation with missing-value indicators and scaling of {len(numeric)} numeric column(s)")
    if categorical:
        steps.append(
            f"one-hot encoding of {len(categorical)} categorical column(s) (unknown levels ignored, levels in fewer "
            f"than {MIN_CATEGORY_ROWS} rows grouped, at most {MAX_ONE_HOT_LEVELS} per column)"
        )
    return f"{model} after " + " and ".join(steps)


def build_hgb(task: str, numeric: list[str], categorical: list[str], seed: int) -> Any:
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    parts = []
    if categorical:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            min_frequency=MIN_CATEGORY_ROWS,
            max_categories=MAX_TREE_CATEGORIES,
        )
        parts.append(("categorical", encoder, list(categorical)))
    if numeric:
        parts.append(("numeric", "passthrough", list(numeric)))
    # The ColumnTransformer puts the categorical columns first: the mask follows that order.
    mask = [True] * len(categorical) + [False] * len(numeric) if categorical else None
    cls = HistGradientBoostingClassifier if _is_classifier(task) else HistGradientBoostingRegressor
    return Pipeline(
        [("prepare", ColumnTransformer(parts)), ("model", cls(random_state=seed, categorical_features=mask))]
    )


def describe_hgb(task: str, numeric: list[str], categorical: list[str]) -> str:
    cls = "HistGradientBoostingClassifier" if _is_classifier(task) else "HistGradientBoostingRegressor"
    text = f"{cls} (100 iterations at most, early stopping on large data) on {len(numeric)} numeric column(s)"
    if categorical:
        text += (
            f" and {len(categorical)} categorical column(s) with native categorical splits (levels in fewer than "
            f"{MIN_CATEGORY_ROWS} rows grouped, at most {MAX_TREE_CATEGORIES} per column, unknown levels as missing)"
        )
    return text


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("dummy", True, build_dummy, describe_dummy),
    Candidate("linear", False, build_linear, describe_linear),
    Candidate("hgb", False, build_hgb, describe_hgb),
)
BY_NAME = {c.name: c for c in CANDIDATES}


def model_params(estimator: Any) -> dict[str, str]:
    """The final model's own hyperparameters (not the whole pipeline's), as strings for MLflow."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    params = {"model": type(final).__name__}
    for key, value in sorted(final.get_params(deep=False).items()):
        if isinstance(value, (list, tuple)) and len(value) > 20:
            value = f"{type(value).__name__} of {len(value)}"
        params[f"model.{key}"] = str(value)[:500]
    return params
