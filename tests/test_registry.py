"""compare, promote and rollback against a real MLflow sqlite store, on models the baseline trained on real data.

The breast-cancer project has three registered versions: 1 on two weak features (the champion), 2 on every
feature, 3 on the ten "mean" features; each is scored on held-out rows none was fit on. Every score is checked
against scikit-learn's metric on the model's own predictions, and the interval against a bootstrap by hand.
Tests that move aliases run last, in order, as the loop does.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets, metrics

from omgml.config import load_config, metric_names
from omgml.errors import ConfigError, InvalidInput
from omgml.project.init import init_project
from omgml.registry import service
from omgml.registry.models import CompareReport, PromoteResult
from omgml.registry.scoring import load_model, score_rows
from omgml.registry.service import compare_models, promote_model, rollback_model
from omgml.tracking import TrackingError
from omgml.workspace import Project
from tests.test_baseline_mlflow import clean_env, empty_store, with_store  # noqa: F401 -- fixtures

TOL = 1e-12
WEAK = ["mean texture", "mean fractal dimension"]
MODEL = "cancer-model"


def _train(project, table: str, **extra):
    from omgml.baseline.service import train_baseline

    report = train_baseline({"project_dir": str(project), "data_path": table, "cv": 3, "models": ["linear"], **extra})
    assert report.tracking.model_version, report.headline
    return report.tracking.model_version


@pytest.fixture(scope="module")
def cancer(tmp_path_factory, empty_store, clean_env):  # noqa: F811
    """Versions 1 (weak features, @champion), 2 (every feature) and 3 (the "mean" features, @baseline)."""
    project = tmp_path_factory.mktemp("cancer") / "cancer"
    init_project(
        {
            "project_dir": str(project),
            "name": "Cancer",
            "task": "binary",
            "target": "diagnosis",
            "data_path": "data/raw/train.csv",
        }
    )
    frame = datasets.load_breast_cancer(as_frame=True).frame.rename(columns={"target": "diagnosis"})
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, valid = frame.iloc[:320], frame.iloc[320:]
    raw = project / "data" / "raw"
    train.to_csv(raw / "train.csv", index=False)
    train[[*WEAK, "diagnosis"]].to_csv(raw / "weak.csv", index=False)
    train[[c for c in train.columns if c.startswith("mean ")] + ["diagnosis"]].to_csv(raw / "means.csv", index=False)
    valid.to_csv(raw / "valid.csv", index=False)
    config = project / "omgml.toml"
    text = config.read_text()
    config.write_text(
        text.replace(
            'train = "data/raw/train.csv"\n', 'train = "data/raw/train.csv"\nvalidation = "data/raw/valid.csv"\n'
        )
    )
    with_store(project, empty_store)
    assert [_train(project, t) for t in ("data/raw/weak.csv", "data/raw/train.csv", "data/raw/means.csv")] == [
        "1",
        "2",
        "3",
    ]
    return project


def aliases(project) -> dict[str, str]:
    from mlflow.tracking import MlflowClient

    from omgml.tracking import project_tracking_uri

    uri = project_tracking_uri(project, load_config(project))
    registered = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model(MODEL)
    return {alias: str(version) for alias, version in registered.aliases.items()}


def version_tags(project, version: str) -> dict[str, str]:
    from mlflow.tracking import MlflowClient

    from omgml.tracking import project_tracking_uri

    uri = project_tracking_uri(project, load_config(project))
    return dict(MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version(MODEL, version).tags)


def by_hand(project, version: str, monkeypatch):
    """The registered estimator as a person loads it with MLflow, and the held-out rows it takes."""
    import mlflow.sklearn

    from omgml.tracking import project_tracking_uri

    monkeypatch.setenv("MLFLOW_TRACKING_URI", project_tracking_uri(project, load_config(project)))
    estimator = mlflow.sklearn.load_model(f"models:/{MODEL}/{version}")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    valid = pd.read_csv(project / "data/raw/valid.csv")
    return estimator, valid[list(estimator.feature_names_in_)], valid["diagnosis"].to_numpy()


# --- scoring: the baseline's scorers on a registered version's predictions -----------------------------------


def test_binary_scores_equal_sklearn_on_the_models_predictions(cancer, monkeypatch):
    estimator, X, y = by_hand(cancer, "2", monkeypatch)
    model = load_model(Project.open(cancer, None), "2")
    assert (model.version, model.task, [c.name for c in model.inputs]) == ("2", "binary", list(X.columns))
    valid = pd.read_csv(cancer / "data/raw/valid.csv")
    # sklearn's roc_auc and average_precision scorers rank by decision_function where the model has one
    score, proba, label = estimator.decision_function(X), estimator.predict_proba(X), estimator.predict(X)

    def expected(rows):
        return {
            "roc_auc": metrics.roc_auc_score(y[rows], score[rows]),
            "average_precision": metrics.average_precision_score(y[rows], score[rows], pos_label=1),
            "accuracy": metrics.accuracy_score(y[rows], label[rows]),
            "balanced_accuracy": metrics.balanced_accuracy_score(y[rows], label[rows]),
            "f1_macro": metrics.f1_score(y[rows], label[rows], average="macro"),
            "log_loss": metrics.log_loss(y[rows], proba[rows], labels=estimator.classes_),
        }

    every, resample = np.arange(len(y)), np.random.default_rng(3).integers(0, len(y), len(y))
    assert set(expected(every)) == set(metric_names("binary"))
    for name in metric_names("binary"):
        rows = score_rows(model, valid, "diagnosis", name)
        assert rows.value == pytest.approx(expected(every)[name], abs=TOL), name
        assert rows.on(resample) == pytest.approx(expected(resample)[name], abs=TOL), name  # a bootstrap draw
        assert list(rows.predictions) == list(label) and rows.rows_dropped == 0


@pytest.fixture(scope="module")
def other_tasks(tmp_path_factory, empty_store, clean_env):  # noqa: F811
    """A regression project (diabetes) and a multiclass one (wine), one linear version each, and held-out rows."""
    made = {}
    for task, loader, target in (
        ("regression", datasets.load_diabetes, "progression"),
        ("multiclass", datasets.load_wine, "cultivar"),
    ):
        project = tmp_path_factory.mktemp(task) / task
        init_project({"project_dir": str(project), "name": task, "task": task, "target": target})
        frame = loader(as_frame=True).frame.rename(columns={"target": target})
        frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
        cut = int(len(frame) * 0.6)
        frame.iloc[:cut].to_csv(project / "data/raw/train.csv", index=False)
        frame.iloc[cut:].to_csv(project / "data/raw/valid.csv", index=False)
        with_store(project, empty_store)
        _train(project, "data/raw/train.csv")
        made[task] = (project, target)
    return made


def test_regression_and_multiclass_scores_equal_sklearn(other_tasks):
    for task, (project, target) in other_tasks.items():
        model = load_model(Project.open(project, None), "champion")
        valid = pd.read_csv(project / "data/raw/valid.csv")
        X, y = valid[[c.name for c in model.inputs]], valid[target].to_numpy()
        estimator = model.estimator
        if task == "regression":
            predicted = estimator.predict(X)
            expected = {
                "rmse": metrics.root_mean_squared_error(y, predicted),
                "mae": metrics.mean_absolute_error(y, predicted),
                "r2": metrics.r2_score(y, predicted),
            }
        else:
            label, proba = estimator.predict(X), estimator.predict_proba(X)
            expected = {
                "roc_auc": metrics.roc_auc_score(y, proba, multi_class="ovr"),
                "accuracy": metrics.accuracy_score(y, label),
                "balanced_accuracy": metrics.balanced_accuracy_score(y, label),
                "f1_macro": metrics.f1_score(y, label, average="macro"),
                "log_loss": metrics.log_loss(y, proba, labels=estimator.classes_),
            }
        assert set(expected) == set(metric_names(task))
        for name, value in expected.items():
            assert score_rows(model, valid, target, name).value == pytest.approx(value, abs=TOL), (task, name)


def test_no_validation_table_is_refused_saying_why_the_training_table_will_not_do(other_tasks):
    project, _ = other_tasks["regression"]
    with pytest.raises(InvalidInput) as refused:
        compare_models({"project_dir": str(project), "challengers": ["1"]})
    text = str(refused.value)
    assert "No evaluation table was given, and omgml.toml has no [data] validation" in text
    assert "the baseline refits every model on all of it" in text and "pass --data FILE" in text


def test_rmse_gain_is_signed_so_positive_is_better(other_tasks):
    """A lower RMSE is better: the challenger's gain is the champion's RMSE minus its own."""
    project, _ = other_tasks["regression"]
    report = compare_models(
        {"project_dir": str(project), "challengers": ["1"], "data": "data/raw/valid.csv", "resamples": 100}
    )
    [same] = report.challengers
    assert not report.evaluation.greater_is_better and same.difference == 0 and same.decision == "keep"
    assert same.reason == "it is the champion itself (version 1)"


def test_promote_without_a_decision_is_refused_and_nothing_moves(cancer):
    before = aliases(cancer)
    with pytest.raises(InvalidInput, match="No saved comparison has evaluated version 2 of cancer-model"):
        promote_model({"project_dir": str(cancer), "ref": "2"})  # nothing has been compared yet
    with pytest.raises(InvalidInput, match="--force was given without --reason"):
        promote_model({"project_dir": str(cancer), "ref": "2", "force": True})
    assert aliases(cancer) == before


# --- compare ------------------------------------------------------------------------------------------------


def test_compare_interval_equals_a_paired_bootstrap_by_hand(cancer, monkeypatch):
    report = compare_models(
        {"project_dir": str(cancer), "challengers": ["2"], "champion": "1", "resamples": 300, "seed": 7}
    )
    champion, X1, y = by_hand(cancer, "1", monkeypatch)
    challenger, X2, _ = by_hand(cancer, "2", monkeypatch)
    s1, s2 = champion.decision_function(X1), challenger.decision_function(X2)
    rng = np.random.default_rng(7)
    a, b = [], []
    for _ in range(300):
        rows = rng.integers(0, len(y), len(y))
        a.append(metrics.roc_auc_score(y[rows], s1[rows]))
        b.append(metrics.roc_auc_score(y[rows], s2[rows]))
    a, b = np.array(a), np.array(b)
    low, high = np.percentile(b - a, [2.5, 97.5])
    [result] = report.challengers
    assert report.champion.score == pytest.approx(metrics.roc_auc_score(y, s1), abs=TOL)
    assert result.model.score == pytest.approx(metrics.roc_auc_score(y, s2), abs=TOL)
    assert result.difference == pytest.approx(result.model.score - report.champion.score, abs=TOL)
    assert (result.low, result.high) == pytest.approx((low, high), abs=TOL)
    assert (report.champion.low, report.champion.high) == pytest.approx(tuple(np.percentile(a, [2.5, 97.5])), abs=TOL)
    assert (result.model.low, result.model.high) == pytest.approx(tuple(np.percentile(b, [2.5, 97.5])), abs=TOL)
    assert report.evaluation.rows == len(y) == 249 and report.evaluation.data == "data/raw/valid.csv"
    assert report.evaluation.data_source == "omgml.toml" and report.evaluation.resamples_undefined == 0
    # every feature against two: a large gain whose interval is far above zero
    assert result.decision == "promote" and low > 0.05 and report.promote == "2" and report.ok
    changes = {(c.column, c.change) for c in result.signature_changes}
    assert ("mean radius", "added") in changes and len(changes) == 28
    assert any("Version 2 takes 'mean radius' (double), which the champion does not" in w for w in report.warnings)
    saved = json.loads((cancer / report.report_path).read_text())
    assert CompareReport.model_validate(saved).challengers == report.challengers
    html = (cancer / report.html_path).read_text()
    assert html.count("<circle") == 3 and "Gain over the champion" in html


def test_several_challengers_get_bonferroni_intervals_and_the_best_is_named(cancer):
    report = compare_models(
        {"project_dir": str(cancer), "challengers": ["2", "baseline"], "champion": "1", "resamples": 200}
    )
    assert report.evaluation.confidence == pytest.approx(0.975)
    assert [c.model.version for c in report.challengers] == ["2", "3"]
    assert [c.model.aliases for c in report.challengers] == [[], ["baseline"]]
    best = max(report.challengers, key=lambda c: c.difference)
    assert report.promote == best.model.version


def test_a_margin_larger_than_the_gain_keeps_the_champion(cancer):
    report = compare_models({"project_dir": str(cancer), "challengers": ["2"], "champion": "1", "margin": 0.9})
    [result] = report.challengers
    assert result.decision == "keep" and not report.ok and report.promote is None
    assert result.reason.startswith(f"its gain {result.difference:+.4g} is not more than the margin 0.9")
    assert report.evaluation.margin_source == "request"
    assert report.headline.startswith("Keep the champion (version 1, roc_auc ")


def test_margin_in_omgml_toml_must_be_a_number(tmp_path):
    init_project({"project_dir": str(tmp_path / "p"), "task": "binary", "target": "y"})
    config = tmp_path / "p" / "omgml.toml"
    config.write_text(config.read_text() + '\n[registry]\nmargin = "a lot"\n')
    with pytest.raises(ConfigError, match=r"\[registry\] margin: Input should be a valid number"):
        load_config(tmp_path / "p")
    config.write_text(config.read_text().replace('"a lot"', "0.01"))
    assert load_config(tmp_path / "p").registry.margin == 0.01


def test_an_alias_that_does_not_exist_names_those_that_do(cancer):
    with pytest.raises(InvalidInput) as refused:
        compare_models({"project_dir": str(cancer)})  # the default challenger, @challenger, is not set
    assert str(refused.value).startswith(
        "cancer-model has no alias or run id 'challenger'. Its versions are 1, 2, 3; its aliases @baseline "
        "(version 3), @champion (version 1)."
    )
    with pytest.raises(InvalidInput, match="cancer-model has no version '9'"):
        load_model(Project.open(cancer, None), "9")


def test_a_table_without_the_target_or_a_models_column_is_refused(cancer):
    valid = pd.read_csv(cancer / "data/raw/valid.csv")
    valid.drop(columns="diagnosis").to_csv(cancer / "data/raw/unlabelled.csv", index=False)
    valid.drop(columns="mean radius").to_csv(cancer / "data/raw/narrow.csv", index=False)
    with pytest.raises(InvalidInput, match="The evaluation table has no target column 'diagnosis'"):
        compare_models({"project_dir": str(cancer), "challengers": ["2"], "data": "data/raw/unlabelled.csv"})
    with pytest.raises(InvalidInput) as refused:
        compare_models({"project_dir": str(cancer), "challengers": ["2"], "data": "data/raw/narrow.csv"})
    assert str(refused.value).startswith(
        "The evaluation table has no column 'mean radius', which version 2 takes as input"
    )


def test_the_training_table_is_scored_with_a_warning(cancer):
    report = compare_models(
        {"project_dir": str(cancer), "challengers": ["3"], "data": "data/raw/train.csv", "resamples": 100}
    )
    assert report.warnings[0].startswith("data/raw/train.csv is the training table: the baseline refit every model")


# --- the loop: compare, promote, refuse, roll back ----------------------------------------------------------


def test_a_better_challenger_is_promoted_a_worse_kept_and_rollback_restores(cancer):
    assert aliases(cancer) == {"champion": "1", "baseline": "3"}
    chosen = compare_models({"project_dir": str(cancer), "challengers": ["2", "3"], "resamples": 200})
    assert {c.model.version: c.decision for c in chosen.challengers} == {"2": "promote", "3": "promote"}

    promoted = promote_model({"project_dir": str(cancer), "ref": "2"})
    assert (promoted.version, promoted.previous, promoted.forced) == ("2", "1", False)
    assert promoted.evidence == chosen.report_path
    assert aliases(cancer) == {"champion": "2", "previous": "1", "baseline": "3"}
    tags = version_tags(cancer, "2")
    assert tags[service.PROMOTION_EVIDENCE] == chosen.report_path and tags[service.PROMOTED_OVER] == "1"
    assert tags[service.PROMOTED_BY] == promoted.by and tags[service.PROMOTED_AT] == promoted.at
    assert tags[service.PROMOTION_REASON] == next(c.reason for c in chosen.challengers if c.model.version == "2")
    again = promote_model({"project_dir": str(cancer), "ref": "champion"})
    assert again.headline == "Version 2 of cancer-model is @champion already; nothing was changed."

    # version 3's evidence was measured against version 1, and the champion has moved since
    with pytest.raises(InvalidInput) as stale:
        promote_model({"project_dir": str(cancer), "ref": "3"})
    assert "measured version 3 against version 1, and @champion is version 2 now" in str(stale.value)
    assert "stale" in str(stale.value)

    worse = compare_models({"project_dir": str(cancer), "challengers": ["1"], "resamples": 200})
    [kept] = worse.challengers
    assert kept.decision == "keep" and kept.difference < 0 and kept.reason.startswith("it scores worse")
    with pytest.raises(InvalidInput, match=r"The newest comparison of version 1 \(.*\) says keep: it scores worse"):
        promote_model({"project_dir": str(cancer), "ref": "1"})
    assert aliases(cancer) == {"champion": "2", "previous": "1", "baseline": "3"}

    forced = promote_model({"project_dir": str(cancer), "ref": "3", "force": True, "reason": "a hotfix"})
    assert (forced.evidence, forced.reason, forced.previous) == ("forced", "a hotfix", "2")
    assert aliases(cancer) == {"champion": "3", "previous": "2", "baseline": "3"}
    assert version_tags(cancer, "3")[service.PROMOTION_EVIDENCE] == "forced"

    back = rollback_model({"project_dir": str(cancer)})
    # @previous goes one promotion further back: to the champion version 2 had replaced
    assert (back.version, back.rolled_back, back.previous) == ("2", "3", "1")
    assert aliases(cancer) == {"champion": "2", "previous": "1", "baseline": "3"}
    assert version_tags(cancer, "3")[service.ROLLED_BACK_TO] == "2"
    back = rollback_model({"project_dir": str(cancer)})
    assert (back.version, back.previous) == ("1", None)  # version 1 had replaced none
    assert aliases(cancer) == {"champion": "1", "baseline": "3"}
    with pytest.raises(InvalidInput, match="cancer-model has no @previous version to roll back to"):
        rollback_model({"project_dir": str(cancer)})


def test_rollback_never_returns_to_the_version_it_leaves(cancer):
    """Versions 1, 2, 1 as champions in turn: back to 2, whose predecessor 1 is the one just left, so none."""
    promote_model({"project_dir": str(cancer), "ref": "2", "force": True, "reason": "two"})
    promote_model({"project_dir": str(cancer), "ref": "1", "force": True, "reason": "one again"})
    back = rollback_model({"project_dir": str(cancer)})
    assert (back.version, back.rolled_back, back.previous) == ("2", "1", None)
    promote_model({"project_dir": str(cancer), "ref": "1", "force": True, "reason": "restore"})
    assert aliases(cancer) == {"champion": "1", "previous": "2", "baseline": "3"}


def test_a_write_that_fails_leaves_the_aliases_and_tags_as_they_were(cancer, monkeypatch):
    from mlflow.tracking import MlflowClient

    before, tags_before = aliases(cancer), version_tags(cancer, "3")
    reports = sorted((cancer / ".omgml/reports").rglob("*-promote.json"))
    real = MlflowClient.set_model_version_tag

    def failing(self, name, version, key, value):
        if key == service.PROMOTION_EVIDENCE:
            raise OSError("disk full")
        return real(self, name, version, key, value)

    monkeypatch.setattr(MlflowClient, "set_model_version_tag", failing)
    with pytest.raises(TrackingError) as failed:
        promote_model({"project_dir": str(cancer), "ref": "3", "force": True, "reason": "try"})
    assert "OSError: disk full; every alias and tag written before it was put back as it was" in str(failed.value)
    monkeypatch.undo()
    assert aliases(cancer) == before and version_tags(cancer, "3") == tags_before
    assert sorted((cancer / ".omgml/reports").rglob("*-promote.json")) == reports  # no report claims it


# --- faces --------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_mcp_tools_return_the_api_result_and_refuse_in_one_line(cancer, monkeypatch):
    from mcp import Client

    from omgml.mcp.server import build_server

    monkeypatch.setenv("OMGML_PROJECT_DIR", str(cancer.parent))
    champion = aliases(cancer)["champion"]
    arguments = {"project_dir": "cancer", "challengers": ["3"], "champion": "2", "resamples": 100}
    async with Client(build_server()) as client:
        compared = await client.call_tool("omgml_compare_models", arguments)
        refused = await client.call_tool("omgml_promote_model", {"project_dir": "cancer", "ref": "nope"})
        forced = await client.call_tool(
            "omgml_promote_model", {"project_dir": "cancer", "ref": "3", "force": True, "reason": "mcp"}
        )
        back = await client.call_tool("omgml_rollback_model", {"project_dir": "cancer"})
    assert compared.is_error is False, compared.content
    mcp = CompareReport.model_validate(compared.structured_content)
    api = compare_models({**arguments, "project_dir": str(cancer)})
    volatile = {"report_path", "html_path"}
    assert mcp.model_dump(exclude=volatile) == api.model_dump(exclude=volatile)
    assert compared.content[0].text.startswith("## omgml compare: cancer-model")
    assert refused.is_error and "cancer-model has no alias or run id 'nope'" in refused.content[0].text
    assert PromoteResult.model_validate(forced.structured_content).version == "3"
    assert back.is_error is False and back.structured_content["version"] == champion == aliases(cancer)["champion"]


def test_cli_exit_codes_say_promote_keep_and_bad_input(cancer, capsys):
    from omgml.cli import main

    def run(*args: str) -> int:
        with pytest.raises(SystemExit) as done:
            main([*args, "--project-dir", str(cancer)])
        return done.value.code

    assert aliases(cancer)["champion"] == "1"
    assert run("compare", "--challenger", "2", "--resamples", "100", "--json") == 0  # promote
    assert CompareReport.model_validate_json(capsys.readouterr().out).promote == "2"
    assert run("compare", "--challenger", "1", "--champion", "2", "--resamples", "100") == 1  # keep
    assert capsys.readouterr().out.startswith("## omgml compare: cancer-model")
    assert run("compare", "--challenger", "7") == 2
    assert capsys.readouterr().err.startswith("omgml: error: cancer-model has no version '7'.")
    assert run("promote", "2") == 0 and aliases(cancer)["champion"] == "2"
    assert capsys.readouterr().out.startswith("## omgml promote: cancer-model")
    assert run("rollback", "--json") == 0
    assert json.loads(capsys.readouterr().out)["version"] == aliases(cancer)["champion"] == "1"
