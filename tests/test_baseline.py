"""Baseline building blocks without MLflow: task inference, features, folds, metrics, budget, bad input.

Oracles: scikit-learn's own ``cross_validate`` on the same folds and scorers (agreement to
1e-9: both sum the same float64 fold scores, so only summation order could differ), and the
bundled scikit-learn datasets for task inference. Every refusal asserts its message.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

from omgml.baseline import crossval
from omgml.baseline.candidates import BY_NAME as CANDIDATES
from omgml.baseline.candidates import CANDIDATES as CANDIDATE_LIST
from omgml.baseline.candidates import model_params
from omgml.baseline.features import plan_features, prepare_features
from omgml.baseline.metrics import build_scorers, choose_primary, metrics_for
from omgml.baseline.service import train_baseline, training_threads
from omgml.baseline.splits import SplitContext, make_folds
from omgml.baseline.tasks import check_task, infer_task, target_facts
from omgml.errors import InvalidInput, OmgmlError
from omgml.tracking import TrackingError, stdout_to_stderr

TOL = 1e-9
# sklearn's scorer for each omgml metric: the reference the baseline must agree with.
REFERENCE_SCORERS = {
    "binary": {
        "roc_auc": "roc_auc",
        "average_precision": "average_precision",
        "accuracy": "accuracy",
        "balanced_accuracy": "balanced_accuracy",
        "f1_macro": "f1_macro",
        "log_loss": "neg_log_loss",
    },
    "multiclass": {
        "roc_auc": "roc_auc_ovr",
        "accuracy": "accuracy",
        "balanced_accuracy": "balanced_accuracy",
        "f1_macro": "f1_macro",
        "log_loss": "neg_log_loss",
    },
    "regression": {"rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error", "r2": "r2"},
}


# --- data builders, shared with test_baseline_mlflow.py ------------------------------------------


def mixed_frame(rows: int = 300, seed: int = 0, task: str = "binary") -> pd.DataFrame:
    """Numbers with gaps, categories with gaps and a rare level, plus a target with signal."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    colour = rng.choice(np.array(["red", "green", "blue", "violet"], dtype=object), size=rows, p=[0.4, 0.3, 0.28, 0.02])
    frame = pd.DataFrame(
        {
            "signal": signal,
            "noise": rng.normal(size=rows),
            "count": rng.integers(0, 10, size=rows),
            "colour": colour,
            "flag": rng.random(rows) < 0.5,
        }
    )
    frame.loc[rng.random(rows) < 0.1, "noise"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "colour"] = None
    shift = np.where(colour == "red", 0.8, 0.0)
    if task == "binary":
        frame["churned"] = np.where(signal + shift + 0.5 * rng.normal(size=rows) > 0.3, "yes", "no")
    elif task == "multiclass":
        frame["segment"] = np.array(["low", "mid", "high"])[np.digitize(signal + shift, [-0.3, 0.6])]
    else:
        frame["spend"] = 3.0 * signal + shift + rng.normal(scale=0.5, size=rows)
    return frame


def write_table(folder, frame: pd.DataFrame, name: str = "data.parquet"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def reference_cv(
    task: str, candidate: str, X: pd.DataFrame, y, splitter, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """(mean, std) per omgml metric from one sklearn ``cross_validate`` call over all folds."""
    numeric = [c for c in X.columns if X[c].dtype != object]
    categorical = [c for c in X.columns if X[c].dtype == object]
    estimator = CANDIDATES[candidate].build(task, numeric, categorical, seed)
    scoring = REFERENCE_SCORERS[task]
    labels = sorted(set(y)) if task != "regression" else []
    if task == "binary" and not isinstance(labels[1], (int, np.integer)):
        from sklearn.metrics import average_precision_score, make_scorer

        scoring = {
            **scoring,
            "average_precision": make_scorer(
                average_precision_score, response_method=("decision_function", "predict_proba"), pos_label=labels[1]
            ),
        }
    result = cross_validate(estimator, X, y, cv=splitter, scoring=scoring)
    out = {}
    for name, scorer in scoring.items():
        values = result[f"test_{name}"]
        if isinstance(scorer, str) and scorer.startswith("neg_"):
            values = -values
        out[name] = (float(np.mean(values)), float(np.std(values)))
    return out


# --- task inference ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "task", "reason"),
    [
        (datasets.load_breast_cancer, "binary", "exactly 2 distinct values (0, 1)"),
        (datasets.load_wine, "multiclass", "whole numbers with only 3 distinct values in 178 rows"),
        (datasets.load_iris, "multiclass", "whole numbers with only 3 distinct values in 150 rows"),
        (datasets.load_diabetes, "regression", "whole numbers with 214 distinct values in 442 rows"),
    ],
)
def test_task_is_inferred_on_the_bundled_datasets(loader, task, reason):
    y = pd.Series(loader().target, name="target")
    inferred, why = infer_task(target_facts(y, "target"))
    assert inferred == task
    assert reason in why


def test_task_inference_on_crafted_targets():
    labels = pd.Series(np.tile(np.arange(1, 12), 20))  # labels 1..11, 220 rows
    assert infer_task(target_facts(labels, "grade")) == (
        "multiclass",
        (
            "'grade' holds whole numbers with only 11 distinct values in 220 rows (at most 20 and 10% of rows read "
            "as class labels)"
        ),
    )
    whole_floats = pd.Series(np.tile([1.0, 2.0, 3.0], 50))
    assert infer_task(target_facts(whole_floats, "y"))[0] == "multiclass"
    strings = pd.Series(np.tile(["cat", "dog", "bird"], 40))
    task, why = infer_task(target_facts(strings, "pet"))
    assert task == "multiclass" and why == "'pet' holds text or categories with 3 distinct values (bird, cat, dog, ...)"
    assert infer_task(target_facts(pd.Series([True, False] * 30), "flag"))[0] == "binary"
    assert infer_task(target_facts(pd.Series(np.linspace(0, 1, 90)), "share")) == (
        "regression",
        "'share' holds numbers with fractions (90 distinct values)",
    )
    many = pd.Series(np.tile(np.arange(30), 3))  # 30 whole numbers over 90 rows: more than 10% of rows
    assert infer_task(target_facts(many, "visits"))[0] == "regression"


def test_constant_and_id_like_targets_are_refused():
    with pytest.raises(InvalidInput) as constant:
        infer_task(target_facts(pd.Series(["yes"] * 40), "churned"))
    assert str(constant.value).startswith(
        "Cannot train on the target 'churned' has a single value (yes) in all 40 rows"
    )
    with pytest.raises(InvalidInput) as text_ids:
        infer_task(target_facts(pd.Series([f"user-{i}" for i in range(100)]), "user"))
    assert "the target 'user' looks like an identifier or free text: 100 distinct values in 100 rows" in str(
        text_ids.value
    )
    with pytest.raises(InvalidInput) as row_ids:
        infer_task(target_facts(pd.Series(np.arange(1000, 1100)), "id"))
    assert "looks like a row identifier: 100 distinct whole numbers, one per row, with no gaps" in str(row_ids.value)
    assert "Fix: pass the column the model should predict as --target" in str(row_ids.value)


def test_a_given_task_is_checked_against_the_target():
    three = target_facts(pd.Series(["a", "b", "c"] * 10), "y")
    with pytest.raises(InvalidInput, match=r"the request says the task is binary, but the target 'y' has 3 distinct"):
        check_task(three, "binary", "request")
    with pytest.raises(
        InvalidInput, match=r"omgml.toml says the task is regression, but the target 'y' is not numeric"
    ):
        check_task(three, "regression", "omgml.toml")
    fractions = target_facts(pd.Series([0.5, 1.25, 2.0] * 10), "y")
    with pytest.raises(InvalidInput, match="the task is multiclass, but the target 'y' holds fractional numbers"):
        check_task(fractions, "multiclass", "request")
    assert check_task(three, "multiclass", "omgml.toml") == "omgml.toml says multiclass"


# --- features ----------------------------------------------------------------------------------


def test_feature_plan_drops_null_id_like_constant_and_time_columns():
    rows = 100_000  # the case: a text column with 100k distinct values
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(rows)],
            "empty": np.full(rows, np.nan),
            "always": np.ones(rows),
            "when": pd.date_range("2024-01-01", periods=rows, freq="min"),
            "city": np.tile(np.array([f"c{i}" for i in range(500)], dtype=object), rows // 500),
            "x": np.arange(rows, dtype=float),
            "y": np.tile([0, 1], rows // 2),
        }
    )
    plan = plan_features(frame, {"y": ""})
    reasons = {d.name: d.reason for d in plan.dropped}
    assert reasons["user_id"] == (
        "identifies rows (every value is a different short text, as in an identifier or a name; "
        "100,000 distinct in 100,000 rows): "
        "nothing learned from a value that names one row carries to new rows"
    )
    assert reasons["empty"] == "entirely null (100,000 rows): nothing to learn from"
    assert reasons["always"] == "constant: the same value in every row"
    assert reasons["when"].startswith("a date/time column")
    assert (plan.numeric, plan.categorical) == (["x"], ["city"])  # 500 levels in 100k rows: grouped, not dropped


def test_no_usable_feature_is_refused():
    frame = pd.DataFrame({"empty": [np.nan] * 10, "y": [0, 1] * 5})
    with pytest.raises(InvalidInput) as info:
        plan_features(frame, {"y": ""})
    assert str(info.value).startswith("No usable feature columns are left to train on. 'empty': entirely null")


def test_prepared_features_are_plain_numbers_and_python_strings():
    frame = mixed_frame(50)
    plan = plan_features(frame, {"churned": ""})
    X = prepare_features(frame, plan)
    assert X["colour"].dtype == object and X["colour"].isna().any()
    assert all(isinstance(v, str) for v in X["colour"].dropna())
    assert X["flag"].dtype == np.float64 and X["count"].dtype == np.int64


# --- folds -------------------------------------------------------------------------------------


def test_folds_follow_the_split_rules():
    y = np.array([0, 1] * 30)
    groups = np.repeat(np.arange(12), 5)
    grouped = make_folds(SplitContext("binary", 4, 0, "g", None), y, groups)
    assert grouped.kind == "group_kfold"
    for train, test in grouped.splits:
        assert not set(groups[train]) & set(groups[test])
    timed = make_folds(SplitContext("regression", 3, 0, None, "t"), y.astype(float), None)
    assert timed.kind == "time_series" and not timed.shuffle
    for train, test in timed.splits:
        assert train.max() < test.min()
    stratified = make_folds(SplitContext("binary", 5, 7, None, None), y, None)
    expected = list(StratifiedKFold(5, shuffle=True, random_state=7).split(np.zeros((60, 1)), y))
    assert all((a == c).all() and (b == d).all() for (a, b), (c, d) in zip(stratified.splits, expected))
    assert make_folds(SplitContext("regression", 5, 0, None, None), y.astype(float), None).kind == "kfold"


def test_folds_refuse_data_that_cannot_be_split():
    with pytest.raises(InvalidInput) as few:
        make_folds(SplitContext("regression", 5, 0, None, None), np.arange(3.0), None)
    assert str(few.value).startswith("Only 3 row(s) have a target, fewer than the 5 needed for 5-fold cross-validation")
    rare = np.array(["a"] * 20 + ["b"] * 3)
    with pytest.raises(InvalidInput) as classes:
        make_folds(SplitContext("multiclass", 5, 0, None, None), rare, None)
    assert str(classes.value).startswith("Class(es) 'b' (3 row(s)) have fewer rows than the 5 folds")
    assert "Fix: pass --cv 3 or less" in str(classes.value)
    with pytest.raises(InvalidInput, match="The group column 'g' has 3 distinct value\\(s\\), fewer than the 5 folds"):
        make_folds(SplitContext("binary", 5, 0, "g", None), np.array([0, 1] * 15), np.repeat([1, 2, 3], 10))


# --- metrics -----------------------------------------------------------------------------------


def test_primary_metric_comes_from_request_then_config_then_default():
    assert choose_primary("binary", "F1_macro", "roc_auc")[:2] == ("f1_macro", "request")
    assert choose_primary("binary", None, "average_precision")[:2] == ("average_precision", "omgml.toml")
    metric, source, reason = choose_primary("regression", None, "roc_auc")
    assert (metric, source) == ("rmse", "default")
    assert reason.startswith("omgml.toml's metric 'roc_auc' does not fit a regression task, so rmse")
    with pytest.raises(InvalidInput, match="The metric 'rmse' does not fit a binary task.*use one of: roc_auc"):
        choose_primary("binary", "rmse", None)
    assert [m.name for m in metrics_for("binary")] == [
        "roc_auc",
        "average_precision",
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "log_loss",
    ]


# --- cross-validation equals sklearn's ---------------------------------------------------------


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("candidate", [c.name for c in CANDIDATE_LIST])
def test_fold_by_fold_scores_equal_one_cross_validate_call(task, candidate):
    target = {"binary": "churned", "multiclass": "segment", "regression": "spend"}[task]
    frame = mixed_frame(240, seed=3, task=task)
    plan = plan_features(frame, {target: ""})
    X = prepare_features(frame, plan)
    y = frame[target].to_numpy(dtype=object if task != "regression" else float)
    if task != "regression":
        y = np.array([str(v) for v in y], dtype=object)
    splitter = (KFold if task == "regression" else StratifiedKFold)(4, shuffle=True, random_state=11)
    splits = list(splitter.split(X, y))
    labels = sorted(set(y)) if task != "regression" else []
    scorers = build_scorers(task, labels, labels[1] if task == "binary" else None)
    from omgml.baseline.metrics import BY_NAME

    estimator = CANDIDATES[candidate].build(task, plan.numeric, plan.categorical, 0)
    outcome = crossval.evaluate(
        estimator, X, y, splits, scorers, BY_NAME, next(iter(scorers)), crossval.Budget(600), reference=True, seed=0
    )
    assert outcome.status == "ok", outcome.reason
    expected = reference_cv(task, candidate, X, y, splitter)
    for name, (mean, std) in expected.items():
        assert np.mean(outcome.scores[name]) == pytest.approx(mean, abs=TOL), name
        assert np.std(outcome.scores[name]) == pytest.approx(std, abs=TOL), name
    assert len(outcome.fit_times) == 4 and outcome.train_primary


def test_candidate_params_are_the_final_models_own():
    estimator = CANDIDATES["hgb"].build("binary", ["a"], ["b"], 5)
    params = model_params(estimator)
    assert params["model"] == "HistGradientBoostingClassifier"
    assert params["model.random_state"] == "5" and params["model.categorical_features"] == "[True, False]"


# --- the time budget and failures --------------------------------------------------------------


class _Sleepy(ClassifierMixin, BaseEstimator):
    """Predicts the majority class after sleeping ``seconds`` per fit; fails on demand."""

    def __init__(self, seconds=0.0, fail=False):
        self.seconds = seconds
        self.fail = fail

    def fit(self, X, y):
        if self.fail:
            raise RuntimeError("boom: this model cannot fit")
        time.sleep(self.seconds)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[counts.argmax()]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)

    def predict_proba(self, X):
        return np.tile((self.classes_ == self.majority_).astype(float), (len(X), 1))


def _tiny_problem(rows=60):
    X = pd.DataFrame({"a": np.arange(rows, dtype=float)})
    y = np.array([0, 1] * (rows // 2))
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    scorers = build_scorers("binary", [0, 1], 1)
    from omgml.baseline.metrics import BY_NAME

    return X, y, splits, scorers, BY_NAME


def test_a_candidate_stops_when_its_remaining_folds_would_exceed_the_budget():
    X, y, splits, scorers, specs = _tiny_problem()
    budget = crossval.Budget(0.5)
    outcome = crossval.evaluate(_Sleepy(0.4), X, y, splits, scorers, specs, "roc_auc", budget, reference=False, seed=0)
    assert outcome.status == "skipped"
    assert outcome.reason.startswith("stopped after fold 1 of 3: the 2 fold(s) left and the refit need about")
    assert outcome.scores["roc_auc"] == [] and outcome.folds_done == 0  # partial folds are not reported as scores


def test_a_candidate_is_skipped_when_the_budget_is_spent_or_the_probe_says_so(monkeypatch):
    X, y, splits, scorers, specs = _tiny_problem()
    spent = crossval.Budget(0.01, start=time.perf_counter() - 1)
    outcome = crossval.evaluate(_Sleepy(), X, y, splits, scorers, specs, "roc_auc", spent, reference=False, seed=0)
    assert outcome.status == "skipped"
    assert outcome.reason.startswith("the 0.01 s time budget was used up before it could start")
    monkeypatch.setattr(crossval, "PROBE_MIN_CELLS", 10)
    monkeypatch.setattr(crossval, "PROBE_ROWS", 20)
    probed = crossval.evaluate(
        _Sleepy(0.3), X, y, splits, scorers, specs, "roc_auc", crossval.Budget(1.0), reference=False, seed=0
    )
    assert probed.status == "skipped" and probed.folds_done == 0
    assert "for 3 folds and the refit (timed on 20 rows, scaled to 40)" in probed.reason
    reference = crossval.evaluate(_Sleepy(), X, y, splits, scorers, specs, "roc_auc", spent, reference=True, seed=0)
    assert reference.status == "ok"  # the dummy is the bar: it always runs


def test_a_failing_candidate_reports_its_error():
    X, y, splits, scorers, specs = _tiny_problem()
    outcome = crossval.evaluate(
        _Sleepy(fail=True), X, y, splits, scorers, specs, "roc_auc", crossval.Budget(60), reference=False, seed=0
    )
    assert (outcome.status, outcome.reason) == ("failed", "fold 1 of 3: RuntimeError: boom: this model cannot fit")


def test_threads_are_pinned_on_small_machines(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    for cpus, threads in ((1, 1), (2, 1), (4, 3), (8, 7), (64, 16)):
        monkeypatch.setattr("os.sched_getaffinity", lambda pid, n=cpus: set(range(n)), raising=False)
        assert training_threads()[0] == threads
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert training_threads() == (3, "OMP_NUM_THREADS=3 is set; 64 CPU(s) available")


def test_stdout_goes_to_stderr_and_is_restored_across_threads(capsys):
    original = sys.stdout
    barrier = threading.Barrier(2)

    def worker():
        with stdout_to_stderr():
            barrier.wait()
            print("from a worker")
            barrier.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    with stdout_to_stderr():
        barrier.wait()
        print("from the caller")
        barrier.wait()
    thread.join()
    assert sys.stdout is original
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "from a worker" in captured.err and "from the caller" in captured.err


# --- bad input through the public function: refused before MLflow is touched --------------------


@pytest.fixture
def table_dir(tmp_path):
    return tmp_path / "proj"


def _refused(project, **request) -> str:
    with pytest.raises(OmgmlError) as info:
        train_baseline({"project_dir": str(project), **request})
    assert not (project / "mlflow.db").exists() and not (project / ".omgml" / "reports").exists()
    return str(info.value)


def test_target_missing_from_the_data(table_dir):
    write_table(table_dir, mixed_frame(40), "data.csv")
    message = _refused(table_dir, data_path="data.csv", target="churn")
    assert message.startswith("The target 'churn' is not a column of data.csv. Its columns are: signal, noise, count")
    assert "Fix: did you mean 'churned' or 'count'? pass one of them as --target" in message


def test_target_all_null(table_dir):
    write_table(table_dir, mixed_frame(40).assign(churned=None), "data.csv")
    message = _refused(table_dir, data_path="data.csv", target="churned")
    assert message.startswith("The target 'churned' is empty: all 40 row(s) of data.csv are null")


def test_single_class(table_dir):
    write_table(table_dir, mixed_frame(40).assign(churned="no"))
    message = _refused(table_dir, data_path="data.parquet", target="churned")
    assert message.startswith("Cannot train on the target 'churned' has a single value (no) in all 40 rows")


def test_fewer_rows_than_folds(table_dir):
    write_table(table_dir, mixed_frame(40, task="regression").head(3))
    message = _refused(table_dir, data_path="data.parquet", target="spend", cv=5)
    assert message.startswith("Only 3 row(s) have a target, fewer than the 5 needed for 5-fold cross-validation")


def test_infinite_regression_target(table_dir):
    frame = mixed_frame(40, task="regression")
    frame.loc[[1, 2], "spend"] = np.inf
    write_table(table_dir, frame)
    message = _refused(table_dir, data_path="data.parquet", target="spend")
    assert message.startswith("The target 'spend' has 2 infinite value(s)")


def test_time_column_that_is_not_a_time(table_dir):
    frame = mixed_frame(40).assign(when=[f"2024-01-{i % 28 + 1:02d}" for i in range(40)])
    frame.loc[[3, 7], "when"] = ["yesterday", "soon"]
    write_table(table_dir, frame)
    message = _refused(table_dir, data_path="data.parquet", target="churned", time_column="when")
    assert message.startswith(
        "The time column 'when' is not a time: 2 of 40 value(s) cannot be read as dates (e.g. 'yesterday', 'soon')"
    )


def test_requests_that_cannot_be_honoured(table_dir):
    write_table(table_dir, mixed_frame(40))
    assert _refused(
        table_dir, data_path="data.parquet", target="churned", group_column="colour", time_column="count"
    ).startswith("Both --group-column and --time-column were given")
    assert _refused(table_dir, target="churned").startswith("No training table was given")
    assert "'cv': Input should be greater than or equal to 2 (got 1)" in _refused(
        table_dir, data_path="data.parquet", cv=1
    )
    assert "'models.0': Input should be 'dummy', 'linear' or 'hgb' (got 'xgboost')" in _refused(
        table_dir, data_path="data.parquet", models=["xgboost"]
    )
    assert _refused(table_dir, data_path="data.parquet", target="churned", metric="rmse").startswith(
        "The metric 'rmse' does not fit a binary task"
    )
    assert _refused(table_dir, data_path="../outside.csv", target="churned").startswith(
        "The data path '../outside.csv'"
    )


def test_an_unreachable_tracking_server_stops_before_training(table_dir, monkeypatch):
    write_table(table_dir, mixed_frame(40))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(TrackingError) as info:
        train_baseline({"project_dir": str(table_dir), "data_path": "data.parquet", "target": "churned"})
    message = str(info.value)
    assert message.startswith(
        "MLflow tracking at http://127.0.0.1:9 (from MLFLOW_TRACKING_URI) cannot be reached or used"
    )
    assert "Nothing was trained or logged" in message
    assert "Fix: start the tracking server or correct the URI; unset MLFLOW_TRACKING_URI" in message
    assert not (table_dir / ".omgml" / "reports").exists() and not (table_dir / "mlflow.db").exists()


def test_task_and_features_name_the_ambiguous_task_and_every_dropped_column():
    """The function train_baseline (and tests/realdata.py) use: ids, names and times never become features."""
    from omgml.baseline.prepare import task_and_features

    rng = np.random.default_rng(2)
    n = 200
    frame = pd.DataFrame(
        {
            "rownames": np.sort(rng.choice(np.arange(7381, 453870), n, replace=False)),
            "name": [f"model {i}" for i in range(n)],
            "clock": [f"{h}:{m:02d}" for h, m in zip(rng.integers(0, 24, n), rng.integers(0, 60, n))],
            "x": rng.normal(size=n),
            "rating": np.arange(n) % 5 + 1,
        }
    )
    task, plan, findings = task_and_features(frame, "rating")
    assert (task.value, task.source) == ("multiclass", "inferred")
    assert [f.code for f in findings] == ["task_ambiguous", "column_dropped", "column_dropped", "column_dropped"]
    assert findings[0].message == (
        "Task assumed multiclass: 'rating' could also be a rating or a small count (1, 2, 3, 4, 5); it was taken "
        "as class labels. If that is wrong, pass --task regression (or set task in omgml.toml)."
    )
    assert [d.name for d in plan.dropped] == ["rownames", "name", "clock"]
    assert plan.dropped[0].reason.startswith("identifies rows (every value is different, and the name says identifier")
    assert plan.dropped[2].reason.startswith("a date/time column (every value is a time of day")
    assert (plan.numeric, plan.categorical) == (["x"], [])
    given, _, said = task_and_features(frame, "rating", "regression", "request")
    assert (given.value, given.source, given.reason) == ("regression", "request", "the request says regression")
    assert "task_ambiguous" not in {f.code for f in said}


def test_count_targets_are_regression_without_doubt():
    """AER Affairs: 0, 1, 2, 3, 7, 12 were six classes (f1_macro 0.18); they are counts."""
    from omgml.baseline.tasks import choose_task

    affairs = pd.Series([0] * 451 + [1] * 34 + [2] * 17 + [3] * 19 + [7] * 42 + [12] * 38)
    task, findings = choose_task(affairs, "affairs")
    assert task.value == "regression" and findings == []
    assert task.reason.startswith("'affairs' holds counts: whole numbers from 0 with gaps (0, 1, 2, 3, 7, ...)")


# --- the best model's out-of-fold errors: equal to cross_val_predict on the same folds ------------------------


def _dataset(loader):
    bunch = loader(as_frame=True)
    frame = bunch.frame.rename(columns={bunch.frame.columns[-1]: "target"})
    plan = plan_features(frame, {"target": ""})
    return frame, prepare_features(frame, plan), plan


def _reference_residuals(residual: np.ndarray, predicted: np.ndarray, summary) -> None:
    """The summary against numpy on the same predictions: each bin's rows, means and percentiles, the histogram."""
    assert sum(b.rows for b in summary.bins) == len(residual)
    assert summary.mean == pytest.approx(residual.mean(), abs=TOL)
    for number, b in enumerate(summary.bins):
        last = number == len(summary.bins) - 1
        inside = (predicted >= b.low) & ((predicted <= b.high) if last else (predicted < b.high))
        values = residual[inside]
        assert b.rows == inside.sum()
        assert b.predicted_mean == pytest.approx(predicted[inside].mean(), abs=TOL)
        assert b.residual_mean == pytest.approx(values.mean(), abs=TOL)
        expected = np.percentile(values, [10, 25, 50, 75, 90])
        assert [b.p10, b.p25, b.median, b.p75, b.p90] == pytest.approx(expected, abs=TOL)
    low, high = np.percentile(residual, [0.5, 99.5])
    counts, edges = np.histogram(residual, bins=30, range=(low, high))
    assert summary.histogram.counts == counts.tolist()
    assert summary.histogram.edges == pytest.approx(edges, abs=TOL)
    assert summary.histogram.below == (residual < low).sum() and summary.histogram.above == (residual > high).sum()
    assert sum(counts) + summary.histogram.below + summary.histogram.above == len(residual)


@pytest.mark.parametrize(
    ("loader", "task"),
    [
        (datasets.load_wine, "multiclass"),
        (datasets.load_breast_cancer, "binary"),
        (datasets.load_diabetes, "regression"),
    ],
)
@pytest.mark.parametrize("candidate", ["linear", "hgb"])
def test_out_of_fold_summary_equals_cross_val_predict_on_the_same_folds(loader, task, candidate):
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import cross_val_predict

    from omgml.baseline import diagnostics
    from omgml.baseline.metrics import BY_NAME

    frame, X, plan = _dataset(loader)
    y = frame["target"].to_numpy(dtype="float64" if task == "regression" else "int64")
    folds = make_folds(SplitContext(task, 5, 0, None, None), y, None)
    classes = sorted(set(y)) if task != "regression" else []
    scorers = build_scorers(task, classes, classes[1] if task == "binary" else None)
    estimator = CANDIDATES[candidate].build(task, plan.numeric, plan.categorical, 0)
    outcome = crossval.evaluate(
        estimator,
        X,
        y,
        folds.splits,
        scorers,
        BY_NAME,
        next(iter(scorers)),
        crossval.Budget(600),
        reference=True,
        seed=0,
    )
    predicted, tested = crossval.out_of_fold(outcome.predictions, y, folds.splits)
    summary = diagnostics.summarize(task, y, predicted, tested, classes, [str(c) for c in classes], 0.0)

    splitter = (KFold if task == "regression" else StratifiedKFold)(5, shuffle=True, random_state=0)
    fresh = CANDIDATES[candidate].build(task, plan.numeric, plan.categorical, 0)
    expected = cross_val_predict(fresh, X, y, cv=splitter)
    assert summary.rows == len(y)
    if task == "regression":
        assert summary.confusion is None
        np.testing.assert_allclose(predicted, expected, rtol=0, atol=1e-9)
        _reference_residuals(y - expected, expected, summary.residuals)
        sizes = [b.rows for b in summary.residuals.bins]
        assert len(sizes) == 30 and min(sizes) >= 14 and max(sizes) <= 15  # 442 rows in 30 quantile bins
    else:
        assert summary.residuals is None
        assert summary.confusion.labels == [str(c) for c in classes] and summary.confusion.classes_pooled == 0
        assert summary.confusion.counts == confusion_matrix(y, expected, labels=classes).tolist()


class _Counting(_Sleepy):
    predicts: ClassVar[list[int]] = []  # class-level: cross_validate fits clones

    def predict(self, X):
        _Counting.predicts.append(len(X))
        return super().predict(X)


def test_the_out_of_fold_record_costs_no_prediction():
    """The predictions are the ones the scorers used: one predict per test fold, shared by accuracy, F1 and the record."""
    X, y, splits, scorers, specs = _tiny_problem()
    _Counting.predicts.clear()
    outcome = crossval.evaluate(
        _Counting(), X, y, splits, scorers, specs, "roc_auc", crossval.Budget(60), reference=True, seed=0
    )
    assert outcome.status == "ok" and crossval.PREDICTIONS not in outcome.scores
    assert _Counting.predicts == [len(test) for _, test in splits]
    predicted, tested = crossval.out_of_fold(outcome.predictions, y, splits)
    assert tested.all() and (predicted == outcome.predictions[0][0]).all()  # the majority class, every row


def test_a_time_split_predicts_only_the_rows_it_tests():
    from sklearn.model_selection import TimeSeriesSplit

    from omgml.baseline import diagnostics

    X, y, _, scorers, specs = _tiny_problem(90)
    splits = list(TimeSeriesSplit(3).split(X))
    estimator = CANDIDATES["linear"].build("binary", ["a"], [], 0)
    outcome = crossval.evaluate(
        estimator, X, y, splits, scorers, specs, "roc_auc", crossval.Budget(60), reference=True, seed=0
    )
    predicted, tested = crossval.out_of_fold(outcome.predictions, y, splits)
    assert tested.sum() == sum(len(test) for _, test in splits) == 66 and not tested[:24].any()
    summary = diagnostics.summarize("binary", y, predicted, tested, [0, 1], ["0", "1"], 0.0)
    assert summary.rows == 66 and sum(map(sum, summary.confusion.counts)) == 66


def test_many_classes_keep_the_most_frequent_and_pool_the_rest():
    from sklearn.metrics import confusion_matrix

    from omgml.baseline import diagnostics

    rng = np.random.default_rng(4)
    labels = np.array([f"c{i:02d}" for i in range(25)], dtype=object)
    y = rng.choice(labels, size=3000, p=np.linspace(1, 3, 25) / np.linspace(1, 3, 25).sum())
    predicted = np.where(rng.random(3000) < 0.7, y, rng.choice(labels, size=3000))
    matrix = diagnostics.confusion(y, predicted, list(labels), list(labels))
    assert len(matrix.labels) == len(matrix.counts) == diagnostics.MAX_CLASSES and matrix.classes_pooled == 6
    classes, frequency = np.unique(y, return_counts=True)
    kept = sorted(np.argsort(-frequency, kind="stable")[:19])
    assert matrix.labels[:19] == [classes[i] for i in kept] and matrix.labels[19] == "(other 6 classes)"
    full = confusion_matrix(y, predicted, labels=classes)
    slot = np.full(25, 19)
    slot[kept] = np.arange(19)
    expected = np.zeros((20, 20), dtype=int)
    for i in range(25):
        for j in range(25):
            expected[slot[i], slot[j]] += full[i, j]
    assert matrix.counts == expected.tolist() and expected.sum() == 3000


def test_train_baseline_reports_the_best_models_out_of_fold_confusion_matrix(tmp_path):
    """Through the service, on real data: the registered candidate's counts are sklearn's for the same folds."""
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import cross_val_predict

    frame, X, plan = _dataset(datasets.load_wine)
    write_table(tmp_path / "proj", frame, "wine.csv")
    with stdout_to_stderr():
        report = train_baseline(
            {
                "project_dir": str(tmp_path / "proj"),
                "data_path": "wine.csv",
                "target": "target",
                "register_model": False,
            }
        )
    best = next(c for c in report.candidates if c.name == report.best)
    others = [c for c in report.candidates if c.name != report.best]
    assert best.out_of_fold is not None and all(c.out_of_fold is None for c in others)
    estimator = CANDIDATES[report.best].build("multiclass", plan.numeric, plan.categorical, 0)
    y = frame["target"].to_numpy()
    expected = cross_val_predict(estimator, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0))
    assert best.out_of_fold.confusion.counts == confusion_matrix(y, expected).tolist()
    assert best.out_of_fold.confusion.labels == ["0", "1", "2"] and best.out_of_fold.rows == 178
    assert 0 <= best.out_of_fold.seconds < best.fit_time_mean * best.folds_done  # no fit, no predict
