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
