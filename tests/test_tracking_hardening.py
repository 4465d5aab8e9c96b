"""MLflow under stress: concurrent first baselines, a baseline killed mid-run, hostile names, a report that
cannot be written, a store that is not a store. Every baseline here is the smallest the request allows
(iris, the linear candidate beside the dummy, 2 folds) on a real sqlite store.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
from sklearn import datasets

from omgml.baseline.service import train_baseline
from omgml.errors import InvalidInput, OmgmlError
from omgml.project.init import init_project
from omgml.project.status import project_status
from omgml.tracking import (
    HOST_TAG,
    PID_START_TAG,
    PID_TAG,
    TrackingError,
    filter_literal,
    model_versions,
    process_tags,
    store_lock,
    tracking_lock,
)
from omgml.workspace import Store
from tests.conftest import REPO

SMALL = {"data_path": "iris.csv", "target": "species", "models": ["linear"], "cv": 2}


def iris_project(folder):
    folder.mkdir(parents=True, exist_ok=True)
    frame = datasets.load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    frame.to_csv(folder / "iris.csv", index=False)
    return folder


def client(project):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{project / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def child_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {**env, "PYTHONPATH": str(REPO / "server"), "HOME": str(tmp_path), "OMP_NUM_THREADS": "1"}


# --- concurrency -----------------------------------------------------------------------------------


def _first_baseline(project: str) -> str:
    try:
        report = train_baseline({"project_dir": project, **SMALL})
        return f"ok {report.tracking.model_version}"
    except Exception as exc:  # noqa: BLE001 -- the parent asserts on the text
        return f"{type(exc).__name__}: {exc}"


def test_eight_simultaneous_first_baselines_in_a_new_project_all_succeed(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    project = iris_project(tmp_path / "race")
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        outcomes = pool.map(_first_baseline, [str(project)] * 8)
    assert all(o.startswith("ok") for o in outcomes), outcomes
    assert sorted(int(o.split()[1]) for o in outcomes) == list(range(1, 9))  # eight runs, eight versions
    assert len(Store(project).history("baseline")) == 8
    assert project_status({"project_dir": str(project)}).tracking.runs == 8 * 3  # parent, dummy, linear


def test_a_local_store_that_cannot_be_created_says_what_failed_not_start_a_server(tmp_path, monkeypatch):
    project = iris_project(tmp_path / "p")
    (tmp_path / "blocker").write_text("a file where the store's folder should be")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'blocker' / 'mlflow.db'}")
    with pytest.raises(TrackingError) as info:
        train_baseline({"project_dir": str(project), **SMALL})
    message = str(info.value)
    assert message.startswith(f"The local MLflow store {tmp_path / 'blocker' / 'mlflow.db'} (from MLFLOW_TRACKING_URI)")
    assert "could not be opened" in message and "Nothing was trained or logged" in message
    assert "Fix: check that" in message and "is a SQLite file you can write" in message
    assert "tracking server" not in message


# --- crash leftovers -------------------------------------------------------------------------------

STALLED_BASELINE = """
import sys, time
from omgml import tracking
from omgml.baseline.service import train_baseline

def stall(*args, **kwargs):  # the parent run and its children exist: wait here to be killed
    time.sleep(300)

tracking._log_model = stall
train_baseline({"project_dir": sys.argv[1], **%r})
"""


def test_a_baseline_killed_mid_run_leaves_a_failed_run_that_status_does_not_count(tmp_path):
    from mlflow.entities import ViewType

    project = tmp_path / "killed"
    init_project({"project_dir": str(project), "name": "killed", "task": "multiclass", "target": "species"})
    iris_project(project)
    child = subprocess.Popen(
        [sys.executable, "-c", STALLED_BASELINE % SMALL, str(project)], env=child_env(tmp_path), cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 120
        running = []
        while not running:
            assert child.poll() is None, "the baseline ended before it could be killed"
            assert time.monotonic() < deadline, "no run appeared in the store within 120 s"
            time.sleep(0.5)
            if not (project / "mlflow.db").exists():
                continue
            with store_lock("sqlite:///x", tracking_lock(project)):  # not while the child creates the schema
                experiments = [e.experiment_id for e in client(project).search_experiments(ViewType.ALL)]
            runs = client(project).search_runs(experiments) if experiments else []
            finished = [r for r in runs if r.info.status == "FINISHED"]  # the dummy and linear runs
            if len(finished) == 2:
                running = [r for r in runs if r.info.status == "RUNNING"]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    [parent] = running
    assert parent.data.tags[PID_TAG] == str(child.pid) and parent.data.tags[HOST_TAG]

    status = project_status({"project_dir": str(project)}).tracking
    assert status.runs_marked_failed == 1
    assert "1 run(s) left RUNNING by a process that died were marked FAILED" in status.note
    after = client(project).get_run(parent.info.run_id)
    assert after.info.status == "FAILED"
    assert after.data.tags["omgml.error"].startswith(f"its process (pid {child.pid} on ")
    assert status.runs == 2  # the dummy and linear runs finished; the dead parent is not counted
    assert status.best_run.run_id != parent.info.run_id
    assert project_status({"project_dir": str(project)}).tracking.runs_marked_failed == 0  # marked once


def test_only_runs_whose_process_is_gone_are_marked_failed(tmp_path):
    project = iris_project(tmp_path / "p")
    store = client(project)
    experiment = store.create_experiment("p")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    mine = process_tags()
    runs = {
        "alive": mine,  # this very process: a baseline in another thread of a long-lived server
        "dead pid": {**mine, PID_TAG: dead.stdout.strip()},
        "pid reused": {**mine, PID_START_TAG: "1"},  # same pid, a process started at another time
        "other host": {**mine, HOST_TAG: "elsewhere.invalid", PID_TAG: dead.stdout.strip()},
        "not omgml's": {},
    }
    ids = {name: store.create_run(experiment, run_name=name, tags=tags).info.run_id for name, tags in runs.items()}
    summary = project_status({"project_dir": str(project)}).tracking
    assert summary.runs_marked_failed == 2
    status = {name: store.get_run(run_id).info.status for name, run_id in ids.items()}
    assert status == {
        "alive": "RUNNING",
        "dead pid": "FAILED",
        "pid reused": "FAILED",
        "other host": "RUNNING",
        "not omgml's": "RUNNING",
    }
    assert summary.runs == 0  # nothing FINISHED


# --- escaping and names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("x'; y", '"x\'; y"'),
        ('say "hi"', "'say \"hi\"'"),
        ("back\\slash", "'back\\slash'"),
        ("both ' and \"", None),
    ],
)
def test_filter_literals_read_back_as_the_value_or_are_refused(value, literal):
    assert filter_literal(value) == literal


def test_model_names_with_quotes_keep_status_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    project = iris_project(tmp_path / "quotes")
    report = train_baseline({"project_dir": str(project), **SMALL, "model_name": "x'; y"})
    assert (report.tracking.registered_model, report.tracking.model_version) == ("x'; y", "1")
    store = client(project)
    run_id = store.get_model_version("x'; y", "1").run_id
    store.create_registered_model("both ' and \"")  # no filter can spell it: matched in Python
    store.create_model_version("both ' and \"", source=(project / "mlruns").as_uri(), run_id=run_id)
    assert [int(v.version) for v in model_versions(store, name="both ' and \"", run_id=run_id)] == [1]
    status = project_status({"project_dir": str(project)}).tracking
    assert status.note.startswith("2 experiment(s), 3 finished run(s)")
    assert {m.name: (m.versions, m.aliases) for m in status.registered_models} == {
        "x'; y": (1, {"baseline": "1", "champion": "1"}),
        "both ' and \"": (1, {}),
    }


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("team/churn", "it contains '/'"),
        ("models:churn", "it contains ':'"),
        ("..churn", "MLflow treats model names as paths, and this one would resolve to another name"),
        ("   ", "it is blank"),
        ("tab\there", "it contains a control character"),
    ],
)
def test_a_model_name_mlflow_refuses_fails_before_any_work(tmp_path, name, problem):
    project = iris_project(tmp_path / "p")
    with pytest.raises(InvalidInput) as info:
        train_baseline({"project_dir": str(project), **SMALL, "model_name": name})
    assert str(info.value) == (
        f"The baseline request is not valid. 'model_name': Value error, MLflow's registry would refuse this name: "
        f"{problem} (got {name!r}). Fix: correct the named field and try again."
    )
    assert not (project / "mlflow.db").exists() and not (project / ".omgml").exists()


def test_a_project_name_that_cannot_name_a_model_fails_before_any_work(tmp_path):
    project = iris_project(tmp_path / "..a")  # no omgml.toml: the folder names the project, '..a-model' the model
    with pytest.raises(InvalidInput) as info:
        train_baseline({"project_dir": str(project), **SMALL})
    assert str(info.value) == (
        "The registered model name '..a-model' made from the project name cannot be used. MLflow's registry "
        "would refuse it: MLflow treats model names as paths, and this one would resolve to another name; nothing "
        "was trained. Fix: pass --model-name NAME (model_name), or rename the project in omgml.toml."
    )
    assert not (project / "mlflow.db").exists()
    assert train_baseline({"project_dir": str(project), **SMALL, "register_model": False}).tracking.parent_run_id


# --- the report before the registration ------------------------------------------------------------


def test_a_report_that_cannot_be_written_leaves_no_registered_version(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    project = iris_project(tmp_path / "p")
    (project / ".omgml").mkdir()
    (project / ".omgml" / "reports").write_text("a file where the reports folder should be")
    with pytest.raises(OmgmlError) as info:
        train_baseline({"project_dir": str(project), **SMALL, "model_name": "unwritten"})
    message = str(info.value)
    assert message.startswith("The baseline report could not be saved: .omgml/reports is a file, not a folder. ")
    assert "; the MLflow runs are marked FAILED and no model version was registered. Fix: move " in message
    store = client(project)
    assert model_versions(store, name="unwritten") == []
    experiment = store.get_experiment_by_name("p")
    [parent] = store.search_runs([experiment.experiment_id], "attributes.run_name = 'baseline'")
    assert parent.info.status == "FAILED"


def test_registering_a_run_again_reuses_its_version(tmp_path, monkeypatch):
    from omgml.tracking import LoggedSession, ModelRecord, _register

    monkeypatch.setenv("HOME", str(tmp_path))
    project = iris_project(tmp_path / "p")
    report = train_baseline({"project_dir": str(project), **SMALL, "model_name": "once"})
    saved = json.loads((project / report.report_path).read_text())
    assert (saved["tracking"]["registered_model"], saved["tracking"]["model_version"]) == ("once", "1")
    store = client(project)
    version = store.get_model_version("once", "1")
    again = LoggedSession(parent_run_id=version.run_id, child_run_ids=[])
    record = ModelRecord(None, None, None, None, registered_name="once")
    _register(store, record, version.run_id, version.model_id, version.source, again, [])
    assert again.model_version == "1" and again.aliases == ["baseline", "champion"]
    assert again.notes == [f"run {version.run_id} already had version 1 of once: reused, not registered again"]
    assert [int(v.version) for v in model_versions(store, name="once")] == [1]


# --- a store that is not a store -------------------------------------------------------------------

STATUS = "import json, sys; from omgml import project_status; print(project_status({'project_dir': sys.argv[1]}).tracking.note)"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: path.mkdir(), "it is a folder, not a SQLite file"),
        (
            lambda path: path.write_bytes(b"not a database\n" * 10),
            "it is not a SQLite database (its first bytes are not SQLite's header)",
        ),
    ],
)
def test_a_store_that_is_not_sqlite_is_refused_at_once(tmp_path, make, problem):
    project = iris_project(tmp_path / "p")
    make(project / "mlflow.db")
    expected = (
        f"The MLflow store {project / 'mlflow.db'} cannot be used. {problem[:1].upper()}{problem[1:]}; nothing was "
        "read or written. Fix: move it aside (MLflow then creates a new store there), or point [tracking] uri in "
        "omgml.toml or MLFLOW_TRACKING_URI at the real store."
    )
    # In a child with a timeout: the defect was a ~100 s stall, which must fail the test, not hang it.
    done = subprocess.run(
        [sys.executable, "-c", STATUS, str(project)],
        capture_output=True,
        text=True,
        check=False,
        env=child_env(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"MLflow store unreadable: {expected}"[:400]
    with pytest.raises(TrackingError) as info:
        train_baseline({"project_dir": str(project), **SMALL})
    assert str(info.value) == expected
