"""The metrics every candidate is scored on, as scikit-learn scorers, and their natural sign.

scikit-learn scorers are "greater is better", so error metrics come as ``neg_*``; the report
and MLflow carry the natural value (RMSE positive) and say which direction is better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omgml.config import DEFAULT_METRIC, METRICS, metric_names, require_metric


@dataclass(frozen=True)
class MetricSpec:
    name: str
    negated: bool  # the scorer returns minus the metric
    scorer: Callable[[str, list[Any], Any], Any]  # (task, classes, positive class) -> scorer

    @property
    def greater_is_better(self) -> bool:
        return METRICS[self.name].greater_is_better

    def natural(self, score: float) -> float:
        return -score if self.negated else score


def _named(name: str) -> Callable[[str, list[Any], Any], Any]:
    def build(task: str, classes: list[Any], positive: Any) -> Any:
        from sklearn.metrics import get_scorer

        return get_scorer(name)

    return build


def _roc_auc(task: str, classes: list[Any], positive: Any) -> Any:
    from sklearn.metrics import get_scorer

    return get_scorer("roc_auc" if task == "binary" else "roc_auc_ovr")


def _average_precision(task: str, classes: list[Any], positive: Any) -> Any:
    # sklearn's "average_precision" scorer assumes pos_label=1, which fails for text labels.
    from sklearn.metrics import average_precision_score, make_scorer

    return make_scorer(
        average_precision_score, response_method=("decision_function", "predict_proba"), pos_label=positive
    )


def _log_loss(task: str, classes: list[Any], positive: Any) -> Any:
    # Equal to sklearn's "neg_log_loss" when a test fold holds every class; with labels it also
    # scores folds that miss a class (group and time splits).
    from sklearn.metrics import log_loss, make_scorer

    return make_scorer(log_loss, greater_is_better=False, response_method="predict_proba", labels=list(classes))


# Which tasks each metric serves, and its direction, live in config.METRICS; this adds the scorers.
SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("roc_auc", False, _roc_auc),
    MetricSpec("average_precision", False, _average_precision),
    MetricSpec("accuracy", False, _named("accuracy")),
    MetricSpec("balanced_accuracy", False, _named("balanced_accuracy")),
    MetricSpec("f1_macro", False, _named("f1_macro")),
    MetricSpec("log_loss", True, _log_loss),
    MetricSpec("rmse", True, _named("neg_root_mean_squared_error")),
    MetricSpec("mae", True, _named("neg_mean_absolute_error")),
    MetricSpec("r2", False, _named("r2")),
)
BY_NAME = {spec.name: spec for spec in SPECS}


def metrics_for(task: str) -> list[MetricSpec]:
    return [BY_NAME[name] for name in metric_names(task)]


def build_scorers(task: str, classes: list[Any], positive: Any) -> dict[str, Any]:
    """Scorer per metric name for ``task``, in the order the report lists them."""
    return {spec.name: spec.scorer(task, classes, positive) for spec in metrics_for(task)}


def choose_primary(task: str, requested: str | None, configured: str | None) -> tuple[str, str, str]:
    """(metric, source, reason): the request's metric, else omgml.toml's when it fits the task, else the default."""
    if requested:
        name = require_metric(task, requested, "the primary metric ranks the candidates")
        return name, "request", f"{name} was asked for"
    if configured and configured in metric_names(task):
        return configured, "omgml.toml", f"{configured} is the project's success metric in omgml.toml"
    default = DEFAULT_METRIC[task]
    why = METRICS[default].why_default
    if configured:
        return default, "default", f"omgml.toml's metric '{configured}' does not fit a {task} task, so {default}: {why}"
    return default, "default", f"no metric given, so the {task} default {default}: {why}"
