"""Load a registered version of the project's model and score it row by row, as the baseline scores.

The small API other capabilities build on (compare here; monitoring a labelled batch):

- ``load_model(project, ref)``: the version ``ref`` names (a version number, an alias, or a run id of the
  project's registered model), its estimator and its input signature.
- ``score_rows(model, table, target, metric)``: the model's predictions for every row of ``table`` with a
  target, and the metric on them, computed by the very scorer the baseline's cross-validation uses
  (``omgml.baseline.metrics``), so a champion's score here and its cross-validated estimate are the same
  quantity. ``RowScores.on(rows)`` recomputes the metric on a subset (a bootstrap resample) from the same
  predictions, without predicting again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omgml.errors import ConfigError, InvalidInput, listing
from omgml.workspace import Project

RUN_ID_LENGTH = 32  # MLflow's run ids: 32 hex digits


@dataclass(frozen=True)
class LoadedModel:
    """One registered version, loaded."""

    name: str  # the registered model
    version: str
    ref: str  # as the user named it
    run_id: str | None
    aliases: list[str]
    estimator: Any
    inputs: list[Any] | None  # tracking.InputColumn per signature column; None when it was logged without one
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """'version 3 (@champion)': how messages name it."""
        aliases = ", ".join(f"@{a}" for a in self.aliases)
        return f"version {self.version}" + (f" ({aliases})" if aliases else "")

    @property
    def task(self) -> str:
        classes = getattr(self.estimator, "classes_", None)
        if classes is None:
            return "regression"
        return "binary" if len(classes) == 2 else "multiclass"


@dataclass
class Registry:
    """The project's registered model as the registry holds it now, and where its store is."""

    project: Project
    name: str
    uri: str
    state: Any  # tracking.RegistryState

    @classmethod
    def open(cls, project: Project) -> Registry:
        """The registry of ``project``'s model; a missing omgml.toml, store or registered model is an error."""
        from omgml.config import registered_model_name
        from omgml.tracking import model_name_problem, project_tracking_uri, read_registry, redact, tracking_lock

        config = project.config
        if config is None:
            raise ConfigError(
                f"No omgml.toml in {project.root}",
                "the registered model's name and the success metric come from the project's configuration",
                "run the command in the project folder (--project-dir), or `omgml init` to make one",
            )
        name = registered_model_name(config.name)
        problem = model_name_problem(name)
        if problem:
            raise ConfigError(
                f"The registered model name {name!r} made from the project name cannot be used",
                f"MLflow's registry refuses it: {problem}",
                "rename the project in omgml.toml",
            )
        uri = project_tracking_uri(project.root, config)
        state = read_registry(uri, name, tracking_lock(project.root))
        if not state.exists or not state.versions:
            raise InvalidInput(
                f"The project has no registered model {name!r} in {redact(uri)}",
                "there is no version to load or compare",
                "train one first: `omgml baseline` registers the best model",
            )
        return cls(project, name, uri, state)

    def version_of(self, ref: str) -> str:
        """The version number ``ref`` names: a number, an alias (with or without '@'), or a run id."""
        text = ref.strip()
        versions = [v.version for v in self.state.versions]
        bare = text.removeprefix("@")
        if text.isdigit():
            if str(int(text)) in versions:
                return str(int(text))
        elif bare in self.state.aliases:
            return self.state.aliases[bare]
        else:
            runs = [v for v in self.state.versions if v.run_id == text]
            if runs:
                return runs[-1].version  # a run registered twice: its newest version
        aliases = ", ".join(f"@{a} (version {v})" for a, v in sorted(self.state.aliases.items())) or "none"
        kind = "version" if text.isdigit() else "run id" if len(text) == RUN_ID_LENGTH else "alias or run id"
        raise InvalidInput(
            f"{self.name} has no {kind} {ref!r}",
            f"its versions are {listing(versions)}; its aliases {aliases}",
            "name a version number, one of those aliases, or the MLflow run id of a registered version",
        )

    def load(self, ref: str) -> LoadedModel:
        from omgml.tracking import load_sklearn_model

        version = self.version_of(ref)
        info = next(v for v in self.state.versions if v.version == version)
        estimator, inputs = load_sklearn_model(self.uri, info.source)
        return LoadedModel(
            name=self.name,
            version=version,
            ref=ref,
            run_id=info.run_id,
            aliases=self.state.aliases_of(version),
            estimator=estimator,
            inputs=inputs,
            tags=info.tags,
        )


def load_model(project: Project, ref: str) -> LoadedModel:
    """The version of ``project``'s registered model that ``ref`` names, loaded with its input signature.

    ``ref`` is a version number ("3"), an alias ("champion" or "@champion") or a run id. An unknown one is an
    ``InvalidInput`` naming the versions and aliases that exist; no omgml.toml, store or registered model too.
    """
    return Registry.open(project).load(ref)


@dataclass
class RowScores:
    """A model's predictions on the scored rows and its metric on them, in the metric's natural sign."""

    metric: str
    greater_is_better: bool
    value: float  # on every scored row: equal to the baseline's scorer on them
    predictions: Any  # numpy array: model.predict per scored row
    y: Any  # the target of the scored rows, as the model was trained on it
    rows_dropped: int  # rows of the table without a target value, not scored
    scorer: Any
    replay: Any

    def on(self, rows: Any) -> float:
        """The metric on ``rows`` (positions into the scored rows, repeats allowed), from the same predictions."""
        from omgml.baseline.metrics import BY_NAME

        return BY_NAME[self.metric].natural(float(self.scorer(self.replay, rows, self.y[rows])))


def score_rows(model: LoadedModel, table: Any, target: str, metric: str) -> RowScores:
    """``model`` on every row of ``table`` (a pandas frame) with a ``target`` value, scored with ``metric``.

    The frame is fed to the model as the baseline fed its training rows (numbers as numbers, categories as
    text), in the signature's columns. ``InvalidInput`` when the target or a signature column is missing, a
    numeric column holds text, the metric does not fit the model's task, or a label is one the model never saw.
    """
    import numpy as np

    from omgml.baseline.metrics import BY_NAME
    from omgml.baseline.prepare import _target_values  # the baseline's own conversion: labels as it trained on them
    from omgml.config import METRICS, require_metric

    metric = require_metric(model.task, metric, f"{model.label} is a {model.task} model")
    columns = [str(c) for c in table.columns]
    if target not in columns:
        raise InvalidInput(
            f"The evaluation table has no target column '{target}'",
            f"a model is scored against the true values; its columns are: {listing(columns)}",
            "use a table with the target column (held-out rows the models were not fit on)",
        )
    labelled = table.loc[table[target].notna()]
    dropped = len(table) - len(labelled)
    if labelled.empty:
        raise InvalidInput(
            f"The target '{target}' is empty in every one of the table's {len(table):,} rows",
            "there is nothing to score the models against",
            "use a table of labelled rows",
        )
    X = model_input(model, labelled)
    y = _target_values(labelled[target], model.task)
    classes = getattr(model.estimator, "classes_", None)
    positive = None
    if classes is not None:
        known = {str(c) for c in classes}
        unseen = sorted({str(v) for v in np.unique(y.astype(str))} - known)
        if unseen:
            raise InvalidInput(
                f"The target '{target}' holds label(s) {model.label} never saw: {listing(unseen, 5)}",
                f"its classes are {listing(sorted(known), 10)}; a label outside them cannot be scored",
                "score on rows of the classes the model was trained on, or retrain with the new labels",
            )
        positive = classes[1] if model.task == "binary" else None
    scorer = BY_NAME[metric].scorer(model.task, list(classes) if classes is not None else [], positive)
    replay = _replay(model.estimator, X)
    everything = np.arange(len(y))
    scores = RowScores(
        metric=metric,
        greater_is_better=METRICS[metric].greater_is_better,
        value=0.0,
        predictions=replay.predict(everything),
        y=y,
        rows_dropped=dropped,
        scorer=scorer,
        replay=replay,
    )
    scores.value = scores.on(everything)
    return scores


def model_input(model: LoadedModel, frame: Any) -> Any:
    """``frame`` as ``model`` takes it: its signature's columns, numbers as numbers and categories as text."""
    import pandas as pd

    from omgml.baseline.features import FeaturePlan, prepare_features
    from omgml.baseline.models import FeatureInfo
    from omgml.errors import unknown_column

    if model.inputs is None:
        raise InvalidInput(
            f"{model.label} of {model.name} was logged without an input signature",
            "omgml feeds a model the columns its signature names, and this one names none",
            "register a model logged with a signature (the baseline logs one)",
        )
    columns = [str(c) for c in frame.columns]
    plan = FeaturePlan()
    for spec in model.inputs:
        if spec.name not in columns:
            raise unknown_column(
                f"The evaluation table has no column '{spec.name}', which {model.label} takes as input",
                spec.name,
                columns,
                "score on a table with every column the model was trained on",
            )
        kind = "categorical" if spec.type == "string" else "numeric"
        series = frame[spec.name]
        if kind == "numeric" and not (
            pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
        ):
            raise InvalidInput(
                f"The column '{spec.name}' holds {series.dtype} values, and {model.label} takes it as numbers "
                f"({spec.type})",
                "a model scores a column of the type it was trained on",
                "fix the column's values (a stray text value makes a whole csv column text)",
            )
        plan.infos.append(FeatureInfo(name=spec.name, kind=kind, distinct=0, missing=0))
    return prepare_features(frame, plan).reset_index(drop=True)


RESPONSES = ("predict", "predict_proba", "decision_function")


def _replay(estimator: Any, X: Any) -> Any:
    """An estimator that answers for row positions from ``estimator``'s answers on ``X``, computed once each.

    The scorer calls it as it would call the model (``scorer(replay, rows, y[rows])``), so the metric comes
    from the scorer's own code (its response method, positive class and labels) on a resample in
    microseconds instead of a prediction per resample.
    """
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    cache: dict[str, Any] = {}

    def responder(method: str) -> Any:
        def respond(self: Any, rows: Any) -> Any:
            if method not in cache:
                cache[method] = getattr(estimator, method)(X)
            return cache[method][rows]

        respond.__name__ = method
        return respond

    methods = {m: responder(m) for m in RESPONSES if hasattr(estimator, m)}
    classifier = hasattr(estimator, "classes_")
    base = ClassifierMixin if classifier else RegressorMixin
    replay = type("Replay", (base, BaseEstimator), methods)()
    if classifier:
        replay.classes_ = estimator.classes_
    return replay
