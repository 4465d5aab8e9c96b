"""``project_status``: every stage and readiness item decided from evidence on disk."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from omgml import project_status
from omgml.data.files import table_shape
from omgml.errors import ConfigError, PathError
from omgml.render import render
from omgml.workspace import Report, Store, atomic_write


def save_report(project, kind, *, summary, ok, result):
    """A run saved the way the store saves every report: the report itself, stamped."""
    return Store(project).save(Report(kind=kind, headline=summary, ok=ok, **result))


def save_envelope(project, kind, *, created_at, summary, ok):
    """A report saved before reports were saved as themselves: an envelope around the result."""
    path = project / ".omgml" / "reports" / kind / f"{created_at.replace('-', '').replace(':', '')}-{kind}.json"
    envelope = {"kind": kind, "created_at": created_at, "omgml_version": "0.1.0", "summary": summary, "ok": ok}
    atomic_write(path, json.dumps({**envelope, "result": {}}))


def stage(report, name):
    return next(s for s in report.stages if s.name == name)


def ready(report, practice):
    return next(item for item in report.readiness if item.practice == practice)


def test_empty_folder_is_not_a_project(tmp_path):
    report = project_status({"project_dir": str(tmp_path)})
    assert not report.is_project
    assert report.headline == f"{tmp_path} is not an omgml project (no omgml.toml). Start with `omgml init`."
    assert report.next_step.startswith("Define the problem: `omgml init")
    assert all(s.state == "not_started" for s in report.stages)
    assert not any(item.ok for item in report.readiness)
    assert not (tmp_path / ".omgml").exists(), "status must not write into a folder omgml did not create"


def test_foreign_folder_with_data_is_inventoried_but_not_a_project(tmp_path):
    (tmp_path / "data").mkdir()
    pd.DataFrame({"a": range(5), "b": list("abcde")}).to_csv(tmp_path / "data" / "x.csv", index=False)
    (tmp_path / "main.py").write_text("print('hi')\n")
    report = project_status({"project_dir": str(tmp_path)})
    assert not report.is_project
    assert [(f.path, f.rows, f.columns) for f in report.data] == [("data/x.csv", 5, 2)]
    assert stage(report, "data collection").state == "done"
    assert not (tmp_path / ".omgml").exists()


def test_fresh_project_has_only_its_problem_defined(new_project):
    report = project_status({"project_dir": str(new_project)})
    assert report.is_project
    assert report.config.target == "churned"
    assert [s.state for s in report.stages] == ["done"] + ["not_started"] * 7
    assert [item.ok for item in report.readiness] == [True, False, False, False, False, False]
    assert report.next_step.startswith("Put the training table")
    assert report.tracking.store_found is False
    assert not (new_project / "mlflow.db").exists(), "reading must not create the MLflow store"


def test_data_inventory_counts_rows_and_fingerprints(new_project):
    raw = new_project / "data" / "raw"
    frame = pd.DataFrame({"x": range(100), "y": [i % 3 for i in range(100)], "churned": [i % 2 for i in range(100)]})
    frame.to_csv(raw / "train.csv", index=False)
    frame.to_parquet(raw / "train.parquet")
    frame.to_json(raw / "train.jsonl", orient="records", lines=True)
    frame.to_csv(raw / "train.tsv", sep="\t", index=False)
    (raw / "notes.txt").write_text("not a table\n")
    report = project_status({"project_dir": str(new_project)})
    shapes = {f.path: (f.format, f.rows, f.columns, f.rows_exact) for f in report.data}
    assert shapes == {
        "data/raw/notes.txt": ("file", None, None, False),
        "data/raw/train.csv": ("csv", 100, 3, True),
        "data/raw/train.jsonl": ("jsonl", 100, 3, True),
        "data/raw/train.parquet": ("parquet", 100, 3, True),
        "data/raw/train.tsv": ("tsv", 100, 3, True),
    }
    for f in report.data:
        assert f.sha256 == hashlib.sha256((new_project / f.path).read_bytes()).hexdigest()
    assert stage(report, "data collection").state == "done"
    assert "4 table(s), 400 rows" in stage(report, "data collection").evidence[0]


def test_fingerprints_are_cached_by_size_and_mtime(new_project):
    path = new_project / "data" / "raw" / "t.csv"
    path.write_text("a\n1\n")
    project_status({"project_dir": str(new_project)})
    cache_file = new_project / ".omgml" / "fingerprints.json"
    cache = json.loads(cache_file.read_text())
    # Plant a marker digest: if status reuses the cache entry, the marker comes back.
    cache["files"]["data/raw/t.csv"]["sha256"] = "cached-marker"
    cache_file.write_text(json.dumps(cache))
    assert project_status({"project_dir": str(new_project)}).data[0].sha256 == "cached-marker"
    path.write_text("a\n2\n3\n")  # new size and mtime: the cache entry is stale
    fresh = project_status({"project_dir": str(new_project)}).data[0].sha256
    assert fresh == hashlib.sha256(b"a\n2\n3\n").hexdigest()


def test_csv_rows_are_estimated_past_the_cap(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(10_000)))
    assert table_shape(path).rows == 10_000
    estimate = table_shape(path, cap_bytes=1024)
    assert not estimate.rows_exact
    assert abs(estimate.rows - 10_000) / 10_000 < 0.1
    assert "estimated" in estimate.note


def test_saved_reports_drive_stages_and_readiness(new_project):
    save_report(new_project, "validation", summary="passed: 0 errors, 1 warning", ok=True, result={})
    report = project_status({"project_dir": str(new_project)})
    assert stage(report, "data processing").state == "done"
    assert ready(report, "data validated").ok
    assert ready(report, "data validated").evidence == "passed: 0 errors, 1 warning"
    save_report(new_project, "validation", summary="failed: 2 errors", ok=False, result={})
    report = project_status({"project_dir": str(new_project)})
    assert stage(report, "data processing").state == "in_progress"
    assert not ready(report, "data validated").ok
    assert [(r.kind, r.runs, r.ok) for r in report.reports] == [("validation", 2, False)]

    (new_project / ".omgml" / "references").mkdir(parents=True)
    (new_project / ".omgml" / "references" / "train.json").write_text("{}")
    report = project_status({"project_dir": str(new_project)})
    assert stage(report, "monitoring").state == "in_progress"
    assert ready(report, "monitoring configured").ok
    save_report(new_project, "drift", summary="no dataset drift (1/30 columns)", ok=True, result={})
    assert stage(project_status({"project_dir": str(new_project)}), "monitoring").state == "done"


def test_reports_saved_in_the_older_envelope_are_still_read(new_project):
    save_envelope(new_project, "validation", created_at="2020-01-02T03:04:05", summary="failed: 2 errors", ok=False)
    report = project_status({"project_dir": str(new_project)})
    assert [(r.kind, r.runs, r.ok, r.summary) for r in report.reports] == [("validation", 1, False, "failed: 2 errors")]
    assert report.reports[0].created_at == "2020-01-02T03:04:05"
    assert not ready(report, "data validated").ok
    path = save_report(new_project, "validation", summary="passed: 0 errors", ok=True, result={})
    report = project_status({"project_dir": str(new_project)})
    assert [(r.kind, r.runs, r.ok, r.summary) for r in report.reports] == [("validation", 2, True, "passed: 0 errors")]
    assert report.reports[0].path == path.relative_to(new_project).as_posix()


def test_status_saves_its_report_json_and_html(new_project):
    report = project_status({"project_dir": str(new_project)})
    assert report.report_path.startswith(".omgml/reports/status/") and report.report_path.endswith("-status.json")
    assert report.html_path == report.report_path.removesuffix(".json") + ".html"
    saved = json.loads((new_project / report.report_path).read_text())
    assert {k: v for k, v in saved.items() if k not in ("omgml_version", "created_at")} == report.model_dump(
        mode="json"
    )
    assert "<svg" in (new_project / report.html_path).read_text()


def test_status_reports_are_no_evidence_and_only_the_newest_are_kept(new_project, monkeypatch):
    from omgml.project import status

    monkeypatch.setattr(status, "STATUS_KEPT", 3)
    first = project_status({"project_dir": str(new_project)})
    paths = [project_status({"project_dir": str(new_project)}).report_path for _ in range(4)]
    folder = new_project / ".omgml" / "reports" / "status"
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == sorted(name for path in paths[-3:] for name in (Path(path).name, Path(path).stem + ".html"))
    again = project_status({"project_dir": str(new_project)})
    assert again.reports == first.reports == []  # five saved status reports, none of them evidence
    assert [s.state for s in again.stages] == [s.state for s in first.stages]
    assert again.headline == first.headline


def test_iteration_is_done_when_retraining_follows_monitoring(new_project):
    save_report(new_project, "drift", summary="dataset drift", ok=False, result={})
    save_report(new_project, "baseline", summary="best hgb roc_auc=0.91", ok=True, result={})
    report = project_status({"project_dir": str(new_project)})
    assert stage(report, "iteration").state == "done"
    assert stage(report, "iteration").evidence[0].startswith("retrained")


def test_mlflow_store_is_read_for_runs_best_run_and_registry(new_project):
    import mlflow
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{new_project / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        experiment = mlflow.create_experiment("churn", artifact_location=(new_project / "mlruns").as_uri())
        run_ids = {}
        for name, score in (("dummy", 0.5), ("linear", 0.81), ("hgb", 0.87)):
            with mlflow.start_run(experiment_id=experiment, run_name=name) as run:
                mlflow.log_metric("roc_auc", score)
                run_ids[name] = run.info.run_id
        client = MlflowClient(uri, uri)
        client.create_registered_model("churn-model")
        client.create_model_version("churn-model", f"runs:/{run_ids['hgb']}/model", run_ids["hgb"])
        client.set_registered_model_alias("churn-model", "champion", "1")
    finally:
        mlflow.set_tracking_uri(None)

    report = project_status({"project_dir": str(new_project)})
    assert report.tracking.store_found
    assert report.tracking.runs == 3
    assert (report.tracking.best_run.run_name, report.tracking.best_run.value) == ("hgb", 0.87)
    [model] = report.tracking.registered_models
    assert (model.name, model.versions, model.aliases) == ("churn-model", 1, {"champion": "1"})
    assert stage(report, "model development").state == "done"
    deployment = stage(report, "deployment")  # a champion and serving code, but nothing serves it yet
    assert deployment.state == "in_progress" and "make serve" in deployment.next_step
    _assert_deployment_follows_the_serving_record(new_project)
    (new_project / "src" / "churn_model" / "serve.py").unlink()
    assert stage(project_status({"project_dir": str(new_project)}), "deployment").state == "in_progress"
    assert ready(report, "experiments tracked").ok and ready(report, "model registered").ok
    assert "@champion = v1" in render(report)


def test_best_run_uses_the_metric_direction(new_project):
    import mlflow

    toml = new_project / "omgml.toml"
    toml.write_text(toml.read_text().replace('task = "binary"', 'task = "regression"').replace('"roc_auc"', '"rmse"'))
    mlflow.set_tracking_uri(f"sqlite:///{new_project / 'mlflow.db'}")
    try:
        for name, score in (("ridge", 3.2), ("hgb", 2.1), ("dummy", 7.5)):
            with mlflow.start_run(run_name=name):
                mlflow.log_metric("rmse", score)
    finally:
        mlflow.set_tracking_uri(None)
    best = project_status({"project_dir": str(new_project)}).tracking.best_run
    assert (best.run_name, best.value) == ("hgb", 2.1)


def test_git_state_is_reported(new_project):
    report = project_status({"project_dir": str(new_project)})
    assert report.git.is_repo is False
    env = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(new_project)], check=True)
    subprocess.run(["git", "-C", str(new_project), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(new_project), *env, "commit", "-qm", "init"], check=True)
    head = subprocess.run(
        ["git", "-C", str(new_project), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    clean = project_status({"project_dir": str(new_project)}).git
    assert (clean.is_repo, clean.commit, clean.dirty) == (True, head, False)
    (new_project / "src" / "churn_model" / "features.py").write_text("X = 1\n")
    assert project_status({"project_dir": str(new_project)}).git.dirty is True


def test_markdown_stays_short_and_json_carries_everything(new_project):
    raw = new_project / "data" / "raw"
    for i in range(40):
        (raw / f"part-{i:02d}.csv").write_text("a,b\n1,2\n")
    report = project_status({"project_dir": str(new_project)})
    text = render(report)
    assert len(text.splitlines()) <= 60
    assert "... and 32 more file(s) in the JSON result." in text
    assert len(report.data) == 40


# Bad input


def test_missing_project_dir(tmp_path):
    with pytest.raises(PathError, match="does not exist. There is nothing there to work on"):
        project_status({"project_dir": str(tmp_path / "nope")})


def test_project_dir_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(PathError, match="is a file, not a folder"):
        project_status({"project_dir": str(tmp_path / "f")})


@pytest.mark.parametrize("escape", ["..", "/", "link"])
def test_project_dir_outside_the_root(tmp_path, escape):
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(PathError, match="outside the project root"):
        project_status({"project_dir": escape}, root=root)


def test_malformed_config_names_the_line(new_project):
    toml = new_project / "omgml.toml"
    lines = toml.read_text().splitlines()
    target_line = next(i for i, line in enumerate(lines, 1) if line.startswith("target"))
    toml.write_text("\n".join(line if not line.startswith("target") else "target = churned" for line in lines))
    with pytest.raises(ConfigError, match=rf"is not valid TOML: .*\(at line {target_line}, column 10\)"):
        project_status({"project_dir": str(new_project)})


def test_config_with_an_unknown_task(new_project):
    toml = new_project / "omgml.toml"
    toml.write_text(toml.read_text().replace('task = "binary"', 'task = "ranking"'))
    with pytest.raises(ConfigError, match=r"\[project\] task: Input should be 'binary', 'multiclass' or 'regression'"):
        project_status({"project_dir": str(new_project)})


def test_config_data_path_outside_the_project(new_project):
    toml = new_project / "omgml.toml"
    toml.write_text(toml.read_text().replace('raw = "data/raw"', 'raw = "../../etc"'))
    with pytest.raises(PathError, match=r"The \[data\] raw path '../../etc' resolves to .* outside the project root"):
        project_status({"project_dir": str(new_project)})


def test_unreachable_tracking_server_is_reported_not_fatal(new_project, monkeypatch):
    import os

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # the discard port: nothing listens
    report = project_status({"project_dir": str(new_project)})
    assert report.tracking.uri == "http://127.0.0.1:9"
    assert report.tracking.note.startswith("MLflow store unreadable: MlflowException")
    assert not ready(report, "experiments tracked").ok
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ, "the fail-fast override must not leak"


def _assert_deployment_follows_the_serving_record(project):
    """Deployment is done only while a serving app records serving the champion's version (here v1)."""
    import json
    import os
    import socket

    def deployment(**fields):
        record = {
            "model_uri": "models:/churn-model@champion",
            "model_name": "churn-model",
            "model_version": "1",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": "2026-12-02T10:00:00+00:00",
            "stopped_at": None,
            **fields,
        }
        folder = project / ".omgml" / "deployments"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "serving.json").write_text(json.dumps(record))
        return stage(project_status({"project_dir": str(project)}), "deployment")

    served = deployment()
    assert served.state == "done" and "since 2026-12-02" in served.evidence[-1]
    older = deployment(model_version="0")
    assert older.state == "in_progress" and "not the champion 1" in older.evidence[-1]
    stopped = deployment(stopped_at="2026-12-02T11:00:00+00:00")
    assert stopped.state == "in_progress" and "stopped at 2026-12-02T11" in stopped.evidence[-1]
    assert deployment(pid=2**22 + 12345).state == "in_progress"  # no such process on this host: stale
    assert deployment(host="another-host", pid=1).state == "done"  # elsewhere: the record is the evidence
    (project / ".omgml" / "deployments" / "serving.json").unlink()


# Staleness and the batch trend


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project whose training file was validated, profiled as the drift reference and trained on (a real local
    MLflow store): every piece of evidence describes data/raw/train.csv as it is now."""
    from omgml import check_drift, init_project, train_baseline, validate_data
    from tests.test_baseline import mixed_frame

    project = tmp_path_factory.mktemp("trained") / "churn"
    init_project(
        {
            "project_dir": str(project),
            "name": "Churn Model",
            "task": "binary",
            "target": "churned",
            "data_path": "data/raw/train.csv",
        }
    )
    mixed_frame(240, seed=3).to_csv(project / "data" / "raw" / "train.csv", index=False)
    with pytest.MonkeyPatch.context() as patch:
        for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "OMGML_PROJECT_DIR"):
            patch.delenv(var, raising=False)
        validate_data({"project_dir": str(project), "data": "data/raw/train.csv"})
        check_drift({"project_dir": str(project), "reference": "data/raw/train.csv", "save_reference": "churn"})
        check_drift({"project_dir": str(project), "reference": "churn", "current": "data/raw/train.csv"})
        baseline = train_baseline({"project_dir": str(project), "models": ["dummy", "linear"], "cv": 3})
    assert baseline.tracking.registered_model, baseline.tracking
    return project


@pytest.fixture
def project_copy(trained, tmp_path, monkeypatch):
    """The trained project copied with its files' times, so each test can change it."""
    import shutil

    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "OMGML_PROJECT_DIR"):
        monkeypatch.delenv(var, raising=False)
    copy = tmp_path / "churn"
    shutil.copytree(trained, copy, symlinks=True)
    return copy


def validation_evidence(report):
    return stage(report, "data processing").evidence


def status_of(project):
    return project_status({"project_dir": str(project)})


def later(path: Path, seconds: float = 5) -> None:
    """Move a file's modification time past now: the reports were saved a moment ago, to the microsecond."""
    import os
    import time

    moment = time.time() + seconds
    os.utime(path, (moment, moment))


def test_every_stage_holds_while_the_data_is_what_the_evidence_described(project_copy):
    report = status_of(project_copy)
    states = {s.name: s.state for s in report.stages}
    assert states["data processing"] == states["model development"] == states["monitoring"] == "done", report.stages
    assert not any(s.stale for s in report.stages)
    assert "stale" not in report.headline


def test_a_changed_training_file_makes_model_development_stale_with_retrain_next(project_copy):
    train = project_copy / "data" / "raw" / "train.csv"
    recorded = json.loads(next((project_copy / ".omgml" / "reports" / "baseline").glob("*-baseline.json")).read_text())[
        "data"
    ]["sha256"]
    frame = pd.read_csv(train)
    frame.loc[0, "signal"] = 99.0
    frame.to_csv(train, index=False)
    later(train)
    report = status_of(project_copy)

    model = stage(report, "model development")
    assert model.state == "stale"
    [changed] = model.stale
    assert (changed.reason, changed.file) == ("data_changed", "data/raw/train.csv")
    assert changed.recorded_sha256 == recorded
    assert changed.current_sha256 == hashlib.sha256(train.read_bytes()).hexdigest() != recorded
    assert changed.evidence.startswith(".omgml/reports/baseline/")
    assert model.next_step.startswith("Retrain: data changed since the model trained (data/raw/train.csv).")
    assert "`omgml baseline`" in model.next_step  # the configured training file: no argument needed
    assert any(line.startswith("data/raw/train.csv changed since the model trained (") for line in model.evidence)
    validation = stage(report, "data processing")  # the validation recorded a fingerprint too
    assert validation.state == "stale"
    assert (validation.stale[0].file, validation.stale[0].recorded_sha256) == ("data/raw/train.csv", recorded)
    assert validation.stale[0].current_sha256 == changed.current_sha256
    assert any(line.startswith("data/raw/train.csv changed since the validation (") for line in validation.evidence)
    assert "`omgml validate data/raw/train.csv`" in validation.next_step
    monitoring = stage(report, "monitoring")
    assert monitoring.state == "stale"
    assert monitoring.stale[0].evidence == ".omgml/references/churn.json"
    assert monitoring.stale[0].recorded_sha256 == recorded
    assert "--save-reference churn --replace-reference" in monitoring.next_step

    assert report.next_step.startswith("Rerun what is stale, in order: (1) Validate again")
    assert report.next_step.index("(2) Retrain: data changed") < report.next_step.index("(3) Save the reference")
    assert "3 stale" in report.headline
    text = render(report)
    assert "[!] **model development** (stale)" in text


def test_a_touch_or_a_rewrite_with_the_same_bytes_is_no_change(project_copy):
    """Every stage's evidence recorded the file's sha256, so only a content change counts, not a newer time."""
    train = project_copy / "data" / "raw" / "train.csv"
    later(train)
    assert not any(s.stale for s in status_of(project_copy).stages)
    train.write_bytes(train.read_bytes())
    later(train, 10)
    report = status_of(project_copy)
    states = {s.name: s.state for s in report.stages}
    assert states["data processing"] == states["model development"] == states["monitoring"] == "done", report.stages
    assert "stale" not in report.headline


def forget_fingerprints(project: Path) -> None:
    """Make the validation report and the reference profile look saved before they recorded a sha256."""
    for path in [
        *(project / ".omgml" / "reports" / "validation").glob("*.json"),
        project / ".omgml/references/churn.json",
    ]:
        saved = json.loads(path.read_text())
        assert isinstance(saved.pop("sha256"), str)
        path.write_text(json.dumps(saved))


def test_evidence_without_a_fingerprint_goes_by_modification_time(project_copy):
    from omgml import check_drift, validate_data

    train = project_copy / "data" / "raw" / "train.csv"
    forget_fingerprints(project_copy)
    train.write_bytes(train.read_bytes())
    later(train)
    report = status_of(project_copy)
    assert stage(report, "model development").state == "done"  # the baseline recorded one
    assert stage(report, "data processing").state == stage(report, "monitoring").state == "stale"
    assert stage(report, "data processing").stale[0].recorded_sha256 is None
    assert any("which recorded no sha256" in line for line in validation_evidence(report))
    assert report.next_step.startswith("Rerun what is stale, in order: (1) Validate again, data/raw/train.csv")
    assert "Retrain" not in report.next_step

    import os

    past = os.stat(train).st_mtime - 3600  # older than the profile, which still has no fingerprint
    os.utime(train, (past, past))
    assert stage(status_of(project_copy), "monitoring").state == "done"
    later(train)
    validate_data({"project_dir": str(project_copy), "data": "data/raw/train.csv"})
    check_drift(
        {"project_dir": str(project_copy), "reference": "data/raw/train.csv", "save_reference": "churn",
         "replace_reference": True}
    )  # fmt: skip
    report = status_of(project_copy)  # saved again, with a fingerprint: the file's later time no longer counts
    assert stage(report, "data processing").state == stage(report, "monitoring").state == "done"


def batch(name, *, drift, share=0.4, errors=0, performance=None, alerts=()):
    from omgml.monitor.history import BatchEntry

    return BatchEntry(
        batch=f"data/batches/{name}",
        fingerprint="0" * 64,
        rows=120,
        validation_errors=errors,
        validation_warnings=1,
        drifted_share=None if drift is None else share,
        dataset_drift=drift,
        performance=performance,
        alerts=list(alerts),
    )


def test_drift_in_three_batches_in_a_row_means_retrain(project_copy):
    from omgml.monitor.history import append_entry

    for name in ("b1.csv", "b2.csv"):
        append_entry(project_copy, batch(name, drift=True))
    report = status_of(project_copy)
    assert report.trend.drift_streak == 2
    assert stage(report, "model development").state == "done"  # two is worth a look, not yet a retrain

    append_entry(project_copy, batch("b3.csv", drift=True, errors=2, alerts=["drifted_share >= 0.3"]))
    report = status_of(project_copy)
    assert (report.trend.batches, report.trend.drift_streak) == (3, 3)
    model = stage(report, "model development")
    assert model.state == "stale"
    [persisted] = model.stale
    assert persisted.reason == "drift_persisted"
    assert persisted.batches == ["data/batches/b1.csv", "data/batches/b2.csv", "data/batches/b3.csv"]
    assert report.next_step.startswith("Retrain: drift persisted over the last 3 batches.")
    text = render(report)
    assert "| data/batches/b3.csv | 120 | 2 | 1 | 40% (drift) | - | drifted\\_share \\>= 0.3 |" in text
    assert "Dataset drift in each of the last 3 batches." in text

    append_entry(project_copy, batch("b4.csv", drift=None))  # not checked: the streak ends, no claim of drift
    report = status_of(project_copy)
    assert report.trend.drift_streak == 0
    assert stage(report, "model development").state == "done"


def test_a_drop_beyond_noise_on_the_newest_labelled_batch_means_retrain(project_copy):
    from omgml.monitor.history import Performance, append_entry

    def scored(drop, significant):
        return Performance(
            metric="roc_auc", value=0.9 - drop, expected=0.9, drop=drop, model_version="1", labelled_rows=120,
            noise=0.04, significant=significant,
        )  # fmt: skip

    append_entry(project_copy, batch("b1.csv", drift=False, performance=scored(0.2, True)))
    append_entry(project_copy, batch("b2.csv", drift=False, performance=scored(0.01, False)))
    assert stage(status_of(project_copy), "model development").state == "done"  # the newest is within noise
    append_entry(project_copy, batch("b3.csv", drift=False))  # unlabelled: the newest labelled one decides
    append_entry(project_copy, batch("b4.csv", drift=False, performance=scored(0.15, True)))
    report = status_of(project_copy)
    assert report.trend.performance_dropped
    model = stage(report, "model development")
    assert (model.state, model.stale[0].reason, model.stale[0].batches) == (
        "stale",
        "performance_dropped",
        ["data/batches/b4.csv"],
    )
    assert report.next_step.startswith("Retrain: performance dropped beyond noise on data/batches/b4.csv.")


def test_the_trend_keeps_the_newest_ten_and_draws_them(project_copy):
    from omgml.monitor.history import append_entry

    for i in range(12):
        append_entry(project_copy, batch(f"b{i:02d}.csv", drift=i % 2 == 0, share=i / 20, errors=i % 3))
    report = status_of(project_copy)
    assert report.trend.batches == 12
    assert [e.batch for e in report.trend.last] == [f"data/batches/b{i:02d}.csv" for i in range(2, 12)]
    html = (project_copy / report.html_path).read_text()
    assert html.count('aria-label="Drifted share of features per batch"') == 1
    assert html.count('aria-label="Validation errors per batch"') == 1
    assert html.count("b11.csv: 55%</title>") == 1  # the drifted-share bar's hover
    assert "b01.csv" not in html
    # red bars: the 5 drifted batches (b02, b04, ... b10) and the 7 with validation errors (i % 3 != 0)
    assert html.count('class="flag"') == 5 + 7
    assert 'class="st-done"' in html


def test_a_torn_history_line_is_a_note_not_a_crash(project_copy):
    from omgml.monitor.history import HISTORY_FILE, append_entry

    append_entry(project_copy, batch("b1.csv", drift=True))
    with (project_copy / HISTORY_FILE).open("a") as history:
        history.write("not json\n")
    append_entry(project_copy, batch("b2.csv", drift=True))
    with (project_copy / HISTORY_FILE).open("a") as history:
        history.write('{"time": "2026-12-03T10:00:00+00:00", "batch": "data/batches/b3')  # a crash mid-append
    report = status_of(project_copy)
    assert [e.batch for e in report.trend.last] == ["data/batches/b1.csv", "data/batches/b2.csv"]
    assert report.trend.notes == [
        f"{HISTORY_FILE} line 2 skipped: it is not a history entry",
        f"{HISTORY_FILE} line 4 skipped: its write was cut off (a crash mid-append)",
    ]
    assert f"- Note: {HISTORY_FILE} line 4 skipped" in render(report)


def test_stale_stages_are_coloured_apart_in_the_html(project_copy):
    train = project_copy / "data" / "raw" / "train.csv"
    train.write_text(train.read_text() + train.read_text().splitlines()[1] + "\n")
    later(train)
    report = status_of(project_copy)
    html = (project_copy / report.html_path).read_text()
    assert html.count('class="st-stale"') == 3
    assert ".st-stale {" in html


def test_status_reads_nothing_outside_the_project(project_copy, tmp_path, monkeypatch):
    import os

    from omgml.data import files
    from omgml.monitor.history import HISTORY_FILE

    outside = tmp_path / "outside.csv"
    outside.write_text("a,b\n1,2\n")
    later(outside)
    (project_copy / "data" / "raw" / "link.csv").symlink_to(outside)
    (project_copy / HISTORY_FILE).parent.mkdir(parents=True, exist_ok=True)
    (project_copy / HISTORY_FILE).symlink_to(outside)
    for kind, key in (("validation", "source"), ("reference", "source")):
        path = (
            next((project_copy / ".omgml" / "reports" / "validation").glob("*-validation.json"))
            if kind == "validation"
            else project_copy / ".omgml" / "references" / "churn.json"
        )
        saved = json.loads(path.read_text())
        saved[key] = "../../outside.csv" if kind == "validation" else "data/raw/link.csv"
        path.write_text(json.dumps(saved))
    read = []
    for name in ("sha256_file", "table_shape"):
        real = getattr(files, name)
        monkeypatch.setattr(files, name, lambda path, *a, real=real, **k: read.append(path) or real(path, *a, **k))
    from omgml.project import status

    monkeypatch.setattr(status, "table_shape", files.table_shape)

    report = status_of(project_copy)
    root = os.path.realpath(project_copy)
    assert read and all(os.path.realpath(p).startswith(root + os.sep) for p in read), read
    link = next(f for f in report.data if f.path == "data/raw/link.csv")
    assert (link.sha256, link.rows) == (None, None) and "symlink out of the project" in link.note
    assert stage(report, "data processing").state == "done"
    assert "cannot tell whether ../../outside.csv changed: it is not a path inside the project" in (
        stage(report, "data processing").evidence
    )
    assert stage(report, "monitoring").state == "done"
    assert any("data/raw/link.csv changed: it is not a path inside" in e for e in stage(report, "monitoring").evidence)
    assert report.trend.batches == 0 and report.trend.notes[0].startswith(f"{HISTORY_FILE} not read")
