"""One confinement for every read and write: the store, the scaffold, the config and the tracking store.

Each test plants what a hostile agent or a checked-out repository could (a symlink leading out, a file where a
folder belongs, a damaged cache, a strange path) and asserts the readable error, and that nothing outside the
project was written or read. The concurrency tests make every writer reach the create at the same moment.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from omgml import init_project, project_status
from omgml.config import load_config
from omgml.drift.service import check_drift
from omgml.errors import ConfigError, InvalidInput, OmgmlError, PathError
from omgml.tracking import project_tracking_uri
from omgml.validation.service import validate_data
from omgml.workspace import Project, Store, create_new, read_inside, resolve_inside

WRITERS = 8


@pytest.fixture
def project(new_project):
    (new_project / "data/raw/t.csv").write_text(table(50))
    return new_project


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def table(rows: int) -> str:
    return "a,b,churned\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(rows))


def validate(project: Path, **extra):
    return validate_data({"project_dir": str(project), "data": "data/raw/t.csv", **extra})


def error_of(call, *args, **kwargs) -> OmgmlError:
    with pytest.raises(OmgmlError) as caught:
        call(*args, **kwargs)
    return caught.value


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# ---------------------------------------------------------------- symlinks leading out


@pytest.mark.parametrize("link", [".omgml", ".omgml/reports", ".omgml/reports/validation"])
def test_a_store_folder_symlinked_outside_is_refused(project, outside, link):
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    if (project / link).exists():
        os.rename(project / link, project / f"{link}.moved")
    (project / link).symlink_to(outside, target_is_directory=True)
    err = error_of(validate, project)
    assert isinstance(err, PathError)
    assert "outside the project root" in err.what
    assert err.fix.startswith("give a path inside")
    assert tree(outside) == []


def test_a_contract_symlinked_outside_is_neither_read_nor_written(project, outside):
    secret = outside / "secret.json"
    secret.write_text('{"columns": []}')
    contracts = project / ".omgml/contracts"
    contracts.mkdir(parents=True)
    (contracts / "x.json").symlink_to(secret)
    err = error_of(validate, project, contract="x")
    assert isinstance(err, PathError) and "outside the project root" in str(err)

    (contracts / "y.json").symlink_to(outside / "new.json")  # dangling: the save would create it outside
    err = error_of(validate, project, save_contract="y")
    assert "The omgml store file" in err.what and "outside the project root" in err.what
    assert tree(outside) == ["secret.json"]


def test_a_symlink_that_stays_inside_is_followed(project):
    assert not (project / ".omgml").exists()
    (project / "inner/store").mkdir(parents=True)
    (project / ".omgml").symlink_to(project / "inner/store", target_is_directory=True)
    report = validate(project, save_contract="x")
    assert report.contract_saved == ".omgml/contracts/x.json"
    assert (project / "inner/store/contracts/x.json").is_file()
    assert validate(project, contract="x").contract == "inner/store/contracts/x.json"  # named as it really is


def test_init_refuses_a_src_symlinked_outside(tmp_path, outside):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "src").symlink_to(outside, target_is_directory=True)
    request = {"project_dir": str(project), "name": "m", "task": "binary", "target": "y"}
    err = error_of(init_project, request)
    assert isinstance(err, PathError)
    assert err.what.startswith("The scaffold file 'src/") and "outside the project root" in err.what
    assert tree(outside) == []
    assert tree(project) == ["src"]  # refused before anything was written


def test_status_leaves_out_a_saved_report_that_is_a_symlink_outside(project, outside):
    validate(project)
    (outside / "x.json").write_text(json.dumps({"headline": "planted", "ok": True, "created_at": "2099"}))
    (project / ".omgml/reports/validation/29990101T000000000000Z-validation.json").symlink_to(outside / "x.json")
    saved = {r.kind: r for r in project_status({"project_dir": str(project)}).reports}
    assert saved["validation"].summary.startswith("passed") and saved["validation"].runs == 1


# ---------------------------------------------------------------- paths no file system takes


def test_a_symlink_loop_is_a_path_error(project):
    (project / "data/raw/loop.csv").symlink_to("loop.csv")
    err = error_of(validate_data, {"project_dir": str(project), "data": "data/raw/loop.csv"})
    assert isinstance(err, PathError)
    assert str(err) == (
        "The data file 'data/raw/loop.csv' goes through a symlink loop. A symlink on the way points back at itself, "
        f"so it never reaches a file (Symlink loop from '{project / 'data/raw/loop.csv'}'). "
        "Fix: remove or repoint the symlink."
    )


def test_a_nul_byte_and_an_overlong_name_are_path_errors(project):
    err = error_of(validate_data, {"project_dir": str(project), "data": "data/a\x00b.csv"})
    assert str(err) == (
        "The data file 'data/a\\x00b.csv' contains a NUL byte. No file name can hold one, so it cannot name a file. "
        "Fix: remove the NUL (\\x00) character from the path."
    )
    err = error_of(validate_data, {"project_dir": str(project), "data": "data/" + "x" * 256})
    assert err.what.startswith("The data file 'data/xxx") and err.what.endswith("has a name 256 bytes long")
    assert err.why == "file systems allow at most 255 bytes in one folder or file name"
    err = error_of(resolve_inside, project, "a/" * 2100, "data file")
    assert "bytes long" in err.what and "at most 4095 bytes" in err.why


def test_a_fifo_in_place_of_a_store_file_is_not_read(project):
    validate(project)
    fifo = project / ".omgml/reports/validation/29990101T000000000000Z-validation.json"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    assert Store(project).read_json(fifo) is None
    assert project_status({"project_dir": str(project)}).is_project  # it answers: the FIFO is skipped, not waited on
    err = error_of(read_inside, project, fifo, "omgml store file")
    assert str(err) == (
        f"The omgml store file {fifo.relative_to(project)} is not a regular file. omgml reads only ordinary files. "
        "Fix: replace it with the file it should be."
    )


# ---------------------------------------------------------------- files where folders belong


@pytest.mark.parametrize("blocker", [".omgml", ".omgml/reports"])
def test_a_file_in_place_of_a_store_folder_is_named(project, blocker):
    (project / blocker).parent.mkdir(parents=True, exist_ok=True)
    (project / blocker).write_text("not a folder")
    err = error_of(validate, project)
    assert isinstance(err, PathError)
    assert err.what == f"{blocker} is a file, not a folder"
    assert err.fix == f"move {project / blocker} away (or rename it), then run the command again"
    assert (project / blocker).read_text() == "not a folder"


def test_a_folder_in_place_of_a_store_file_is_named(project):
    (project / ".omgml/contracts/x.json").mkdir(parents=True)
    err = error_of(Store(project).write, project / ".omgml/contracts/x.json", {"a": 1})
    assert err.what == "Cannot write .omgml/contracts/x.json"
    assert "it is a folder" in err.why


# ---------------------------------------------------------------- a damaged cache is rebuilt


@pytest.mark.parametrize(
    "text",
    [
        "not json {",
        "[1, 2]",
        '{"files": []}',
        '{"files": {"data/raw/t.csv": 3}}',
        '{"files": {"data/raw/t.csv": {"size": "big", "mtime_ns": 1, "sha256": "x"}}}',
        '{"files": {"data/raw/t.csv": {"size": 1}}}',
    ],
)
def test_a_damaged_fingerprint_cache_is_ignored_and_rebuilt(project, text, capsys):
    import hashlib

    from omgml.data.files import fingerprint

    cache = project / ".omgml/fingerprints.json"
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(text)
    status = project_status({"project_dir": str(project)})
    expected = hashlib.sha256((project / "data/raw/t.csv").read_bytes()).hexdigest()
    assert [f.sha256 for f in status.data if f.path == "data/raw/t.csv"] == [expected]
    assert json.loads(cache.read_text())["files"]["data/raw/t.csv"]["sha256"] == expected
    cache.write_text(text)
    assert fingerprint(Project(project), project / "data/raw/t.csv", "data/raw/t.csv") == expected
    assert capsys.readouterr().out == ""


def test_a_cache_that_cannot_be_saved_does_not_fail_status(project):
    (project / ".omgml").mkdir(exist_ok=True)
    (project / ".omgml/fingerprints.json").mkdir()
    assert project_status({"project_dir": str(project)}).data


# ---------------------------------------------------------------- omgml.toml of the wrong shape


def write_config(project: Path, text: str) -> None:
    (project / "omgml.toml").write_text(text)


PROJECT_TABLE = '[project]\nname = "m"\npackage = "m"\ntask = "binary"\ntarget = "y"\nmetric = "roc_auc"\n'


def test_a_string_where_the_project_table_belongs_names_the_key(tmp_path):
    write_config(tmp_path, 'project = "x"\n')
    err = error_of(load_config, tmp_path)
    assert isinstance(err, ConfigError)
    assert str(err) == (
        f"{tmp_path / 'omgml.toml'}: 'project' is a string ('x'), not a table. omgml reads its settings from a "
        "[project] section of key = value lines. Fix: replace the line `project = ...` with a [project] section "
        "holding name, package, task, target and metric."
    )


def test_an_array_where_a_table_belongs_and_wrong_value_types(tmp_path):
    write_config(tmp_path, "data = [1, 2]\n" + PROJECT_TABLE)
    assert "'data' is an array ([1, 2]), not a table" in str(error_of(load_config, tmp_path))
    write_config(tmp_path, PROJECT_TABLE.replace('"m"\npackage', "3\npackage") + "[tracking]\nuri = 5\n")
    err = error_of(load_config, tmp_path)
    assert err.why == (
        "[project] name: Input should be a valid string (got 3); [tracking] uri: Input should be a valid string (got 5)"
    )


def test_a_config_nested_too_deeply_is_a_config_error(tmp_path):
    write_config(tmp_path, PROJECT_TABLE + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nests arrays or tables too deeply to read" in str(error_of(load_config, tmp_path))


# ---------------------------------------------------------------- the tracking store


def config_with_uri(project: Path, uri: str):
    text = (project / "omgml.toml").read_text()
    (project / "omgml.toml").write_text(text.replace('uri = "sqlite:///mlflow.db"', f"uri = {json.dumps(uri)}"))
    return load_config(project)


@pytest.mark.parametrize(
    "uri", ["sqlite:////{out}/mlflow.db", "file://{out}/mlruns", "{out}/mlruns", "sqlite:///../elsewhere/x.db"]
)
def test_a_tracking_store_outside_the_project_is_refused_from_the_config(project, outside, uri):
    given = uri.format(out=outside)
    err = error_of(project_tracking_uri, project, config_with_uri(project, given))
    assert isinstance(err, ConfigError)
    assert err.what.startswith(f"The tracking URI '{given}' (omgml.toml [tracking] uri) is refused: The MLflow store")
    assert err.fix.startswith("use a path inside the project (sqlite:///mlflow.db), or set MLFLOW_TRACKING_URI")
    assert "outside the project root" in str(error_of(project_status, {"project_dir": str(project)}))
    assert tree(outside) == []


def test_the_same_store_given_by_mlflow_tracking_uri_is_allowed(project, outside, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{outside}/mlflow.db")
    assert project_tracking_uri(project, load_config(project)) == f"sqlite:///{outside}/mlflow.db"


@pytest.mark.parametrize("uri", ["http://mlflow.team:5000", "https://x.example", "databricks", "postgresql://h/db"])
def test_a_tracking_server_is_allowed_in_the_config(project, uri):
    assert project_tracking_uri(project, config_with_uri(project, uri)) == uri


def test_a_symlinked_store_leaving_the_project_is_refused(project, outside):
    (project / "mlflow.db").symlink_to(outside / "mlflow.db")
    err = error_of(project_tracking_uri, project, load_config(project))
    assert "'sqlite:///mlflow.db'" in err.what and "outside the project root" in err.what
    (project / "mlflow.db").unlink()
    (project / "mlflow.db").symlink_to(project / "data/store.db")  # stays inside: fine
    assert project_tracking_uri(project, load_config(project)) == f"sqlite:///{project / 'mlflow.db'}"
    (project / "mlruns").symlink_to(outside, target_is_directory=True)
    assert "outside the project root" in str(error_of(Project(project).resolve, "mlruns", "MLflow artifact folder"))


# ---------------------------------------------------------------- exactly one concurrent creator wins


def run_together(calls):
    """Run every call on its own thread; return (result or error) per call."""
    outcomes: list = [None] * len(calls)

    def run(i, call):
        try:
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 -- the outcome under test
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def racing_create(monkeypatch):
    """Every writer waits at the create itself, so all of them passed the early "does it exist" check."""
    from omgml import workspace

    barrier = threading.Barrier(WRITERS, timeout=60)

    def create(path, data):
        barrier.wait()
        return create_new(path, data)

    monkeypatch.setattr(workspace, "create_new", create)


CONTRACT_TAKEN = (
    "A contract named 'x' already exists (.omgml/contracts/x.json). Saving would replace it, and with it any "
    "edits made by hand. Fix: choose another name, or replace it on purpose (--replace-contract, or "
    "replace_contract=true)."
)
REFERENCE_TAKEN = (
    "A reference profile named 'base' already exists (.omgml/references/base.json). Saving would replace the "
    "reference that later checks compare against. Fix: choose another name, or replace it on purpose "
    "(--replace-reference, or replace_reference=true)."
)


def test_of_eight_concurrent_contract_saves_exactly_one_wins(project, racing_create):
    for i in range(WRITERS):
        (project / f"data/raw/t{i}.csv").write_text(table(40 + i))
    outcomes = run_together(
        [
            lambda i=i: validate_data({"project_dir": str(project), "data": f"data/raw/t{i}.csv", "save_contract": "x"})
            for i in range(WRITERS)
        ]
    )
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == WRITERS - 1
    assert {str(e) for e in losers} == {CONTRACT_TAKEN}
    saved = json.loads((project / ".omgml/contracts/x.json").read_text())
    assert saved["source"] == winners[0].source
    assert [p.name for p in (project / ".omgml/contracts").iterdir()] == ["x.json"]  # no temporary left


def test_of_eight_concurrent_reference_saves_exactly_one_wins(project, racing_create):
    for i in range(WRITERS):
        (project / f"data/raw/t{i}.csv").write_text(table(40 + i))
    outcomes = run_together(
        [
            lambda i=i: check_drift(
                {"project_dir": str(project), "reference": f"data/raw/t{i}.csv", "save_reference": "base"}
            )
            for i in range(WRITERS)
        ]
    )
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(losers) == WRITERS - 1, outcomes
    assert {str(e) for e in losers} == {REFERENCE_TAKEN}
    (winner,) = [o for o in outcomes if not isinstance(o, Exception)]
    saved = json.loads((project / ".omgml/references/base.json").read_text())
    assert saved["source"] == winner.reference


def test_a_saved_reference_is_replaced_only_on_purpose(project):
    request = {"project_dir": str(project), "reference": "data/raw/t.csv", "save_reference": "base"}
    check_drift(request)
    err = error_of(check_drift, request)
    assert isinstance(err, InvalidInput) and err.what.startswith("A reference profile named 'base' already exists")
    check_drift({**request, "replace_reference": True})


def test_eight_concurrent_inits_create_each_file_once(tmp_path, monkeypatch):
    from omgml.project import init as init_module

    barrier = threading.Barrier(WRITERS, timeout=60)
    real = init_module.write_all_or_nothing

    def together(root, files):
        barrier.wait()  # every init has found every file absent
        return real(root, files)

    monkeypatch.setattr(init_module, "write_all_or_nothing", together)
    request = {"project_dir": str(tmp_path / "proj"), "name": "m", "task": "binary", "target": "y"}
    outcomes = run_together([lambda: init_project(request)] * WRITERS)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    files = outcomes[0].created + outcomes[0].unchanged
    assert sum(len(o.created) for o in outcomes) == len(files) == 24
    for outcome in outcomes:
        assert sorted(outcome.created + outcome.unchanged) == sorted(files) and outcome.conflicts == []
    creators = [f for o in outcomes for f in o.created]
    assert sorted(creators) == sorted(files)  # each file created by exactly one init
    again = init_project({**request, "dry_run": True})
    assert again.created == [] and sorted(again.unchanged) == sorted(files)  # whole files, none half written
    assert not [p for p in (tmp_path / "proj").rglob("*.tmp")]


def _init_in_process(request, barrier, results):
    barrier.wait()
    result = init_project(request)
    results.put((len(result.created), len(result.unchanged), len(result.conflicts)))


def test_eight_concurrent_init_processes_create_each_file_once(tmp_path):
    """The measured defect: 8 processes initialising one folder reported 53 creations for 21 files (the scaffold has 24 now)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(WRITERS), context.Queue()
    request = {"project_dir": str(tmp_path / "proj"), "name": "m", "task": "binary", "target": "y"}
    workers = [context.Process(target=_init_in_process, args=(request, barrier, results)) for _ in range(WRITERS)]
    for worker in workers:
        worker.start()
    counts = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(created for created, _, _ in counts) == 24
    assert all(created + unchanged == 24 and conflicts == 0 for created, unchanged, conflicts in counts)


def test_a_project_dir_given_without_a_root_is_checked_the_same_way(tmp_path):
    err = error_of(Project.open, str(tmp_path / "a\x00b"), None)
    assert err.what == f"The project dir '{tmp_path}/a\\x00b' contains a NUL byte"
    (tmp_path / "loop").symlink_to("loop")
    assert "goes through a symlink loop" in str(error_of(Project.open, str(tmp_path / "loop"), None))


@pytest.mark.parametrize("path", ["~nosuchuser/x.csv", "~J"])
def test_a_home_folder_that_does_not_exist_is_a_path_error(tmp_path, path):
    """The fuzz suite's find: pathlib raised RuntimeError for ~name of an unknown user, through every path argument."""
    with pytest.raises(PathError, match=r"starts with ~\w+, but no user '\w+' has a home folder here.*without the"):
        resolve_inside(tmp_path, path, "data file")
    with pytest.raises(PathError, match="no user"):
        Project.open(path, None)
