"""``init_project``: what it writes, what it refuses, and that the scaffold runs."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from omgml import init_project
from omgml.errors import InvalidInput, PathError
from omgml.project.init import package_name
from omgml.workspace import write_all_or_nothing

EXPECTED = {
    "omgml.toml",
    "README.md",
    "pyproject.toml",
    "Makefile",
    ".gitignore",
    "src/churn_model/__init__.py",
    "src/churn_model/config.py",
    "src/churn_model/data.py",
    "src/churn_model/serve.py",
    "src/churn_model/validate.py",
    "src/churn_model/train.py",
    "src/churn_model/monitor.py",
    "tests/test_config.py",
    "tests/test_data.py",
    "tests/test_serve.py",
    "tests/test_validate.py",
    "tests/test_train.py",
    "tests/test_monitor.py",
    "data/raw/.gitkeep",
    "data/processed/.gitkeep",
    "data/reference/.gitkeep",
    "data/batches/.gitkeep",
    ".github/workflows/ci.yml",
    ".github/workflows/monitor.yml",
}


def request(tmp_path: Path, **overrides) -> dict:
    return {
        "project_dir": str(tmp_path / "proj"),
        "name": "Churn Model",
        "task": "binary",
        "target": "churned",
    } | overrides


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_init_writes_the_scaffold_and_config(tmp_path):
    result = init_project(request(tmp_path, data_path="data/raw/train.csv", description="Who leaves next month"))
    project = tmp_path / "proj"
    assert EXPECTED <= set(result.created)
    assert EXPECTED <= set(tree(project))
    assert result.changed and not result.conflicts and not result.unchanged
    config = tomllib.loads((project / "omgml.toml").read_text())
    assert config["project"] == {
        "name": "Churn Model",
        "package": "churn_model",
        "task": "binary",
        "target": "churned",
        "metric": "roc_auc",
        "description": "Who leaves next month",
    }
    assert config["data"]["train"] == "data/raw/train.csv"
    assert config["tracking"]["uri"] == "sqlite:///mlflow.db"
    gitignore = (project / ".gitignore").read_text()
    for ignored in ("data/**", "mlruns/", "mlflow.db", ".omgml/reports/"):
        assert ignored in gitignore
    assert "- [ ] **Monitoring**" in (project / "README.md").read_text()


@pytest.mark.parametrize(
    ("task", "metric"), [("binary", "roc_auc"), ("multiclass", "f1_macro"), ("regression", "rmse")]
)
def test_default_metric_is_chosen_per_task_and_explained(tmp_path, task, metric):
    result = init_project(request(tmp_path, task=task, dry_run=True))
    assert result.metric == metric
    assert result.metric_note.startswith(f"No metric given: chose {metric} for a {task} task, because")


def test_given_metric_is_kept_without_a_note(tmp_path):
    result = init_project(request(tmp_path, metric="average_precision", dry_run=True))
    assert (result.metric, result.metric_note) == ("average_precision", "")


def test_name_becomes_a_package_and_the_result_says_so(tmp_path):
    result = init_project(request(tmp_path, name="My Churn-Model"))
    assert result.package == "my_churn_model"
    assert result.package_note == "The name 'My Churn-Model' became the Python package 'my_churn_model'."
    assert (tmp_path / "proj" / "src" / "my_churn_model" / "config.py").is_file()


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("churn", "churn"),
        ("  Fraud  Detector!! ", "fraud_detector"),
        ("2024 sales", "project_2024_sales"),
        ("class", "class_project"),
        ("Café 2", "caf_2"),
        ("中文 model", "model"),
        ("中文模型", "project_75bb80b9"),  # no ASCII left: a stable hash of the name (tests/test_scaffold_hostile.py)
    ],
)
def test_package_name(name, package):
    assert package_name(name.strip())[0] == package


def test_second_run_is_idempotent(tmp_path):
    init_project(request(tmp_path))
    before = tree(tmp_path / "proj")
    again = init_project(request(tmp_path))
    assert not again.changed
    assert again.created == [] and again.conflicts == []
    assert set(again.unchanged) == EXPECTED
    assert tree(tmp_path / "proj") == before


def test_existing_files_are_never_overwritten(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("my own readme\n")
    result = init_project(request(tmp_path))
    assert "README.md" in result.conflicts
    assert (project / "README.md").read_text() == "my own readme\n"
    assert "omgml.toml" in result.created


def test_dry_run_writes_nothing(tmp_path):
    result = init_project(request(tmp_path, dry_run=True))
    assert result.dry_run and result.changed
    assert EXPECTED <= set(result.created)
    assert not (tmp_path / "proj").exists()


def test_default_name_is_the_folder_name(tmp_path):
    result = init_project(
        {"project_dir": str(tmp_path / "fraud-detector"), "task": "regression", "target": "y", "dry_run": True}
    )
    assert (result.name, result.package) == ("fraud-detector", "fraud_detector")


def test_generated_project_tests_pass(tmp_path):
    init_project(request(tmp_path, name="My Churn-Model"))
    project = tmp_path / "proj"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


# Bad input: each gets a clear error and leaves nothing behind.


def test_empty_name_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="The project name is empty"):
        init_project(request(tmp_path, name="   "))
    assert not (tmp_path / "proj").exists()


def test_name_without_letters_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="has no letters or digits"):
        init_project(request(tmp_path, name="!!!"))


def test_unknown_task_is_refused(tmp_path):
    with pytest.raises(
        InvalidInput, match=r"'task': Input should be 'binary', 'multiclass' or 'regression' \(got 'clustering'\)"
    ):
        init_project(request(tmp_path, task="clustering"))
    assert not (tmp_path / "proj").exists()


def test_metric_that_does_not_fit_the_task_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="The metric 'rmse' does not fit a binary task.*use one of: roc_auc"):
        init_project(request(tmp_path, metric="rmse"))


def test_project_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "proj").write_text("not a folder")
    with pytest.raises(PathError, match="is a file, not a folder"):
        init_project(request(tmp_path))


def test_project_dir_whose_parent_is_missing_is_refused(tmp_path):
    with pytest.raises(PathError, match="does not exist.*create its parent folder first"):
        init_project(request(tmp_path, project_dir=str(tmp_path / "no" / "such" / "proj")))
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("escape", ["../outside", "/etc", "link-out"])
def test_project_dir_escaping_the_root_is_refused(tmp_path, escape):
    root = tmp_path / "root"
    root.mkdir()
    (root / "link-out").symlink_to(tmp_path)
    with pytest.raises(PathError, match="outside the project root"):
        init_project(request(tmp_path, project_dir=escape), root=root)
    assert sorted(p.name for p in root.iterdir()) == ["link-out"]


def test_data_path_outside_the_project_is_refused(tmp_path):
    with pytest.raises(PathError, match="The data path '../elsewhere.csv' resolves to .* outside the project root"):
        init_project(request(tmp_path, data_path="../elsewhere.csv"))
    assert not (tmp_path / "proj").exists()


def test_missing_data_path_is_recorded_with_a_note(tmp_path):
    result = init_project(request(tmp_path, data_path="data/raw/later.csv", dry_run=True))
    assert result.data_path == "data/raw/later.csv"
    assert result.data_note.startswith("data/raw/later.csv does not exist yet")


def test_unwritable_project_dir_is_refused(tmp_path):
    project = tmp_path / "locked"
    project.mkdir()
    project.chmod(0o555)
    code = (
        "import sys; from omgml import init_project\n"
        "from omgml.errors import PathError\n"
        "try:\n"
        f"    init_project({{'project_dir': {str(project)!r}, 'task': 'binary', 'target': 'y'}})\n"
        "except PathError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    command = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        # root ignores permission bits; without the DAC capabilities it obeys them, so the refusal is real.
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stdout + done.stderr
    assert (
        f"Cannot write to {project}. The operating system refused a new file there (Permission denied)" in done.stdout
    )
    assert list(project.iterdir()) == []


def test_failure_halfway_leaves_nothing_behind(tmp_path, monkeypatch):
    from omgml import workspace

    real_write = workspace.create_new
    calls = []

    def failing_write(path, data):
        calls.append(path)
        if len(calls) == 6:
            raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(workspace, "create_new", failing_write)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    with pytest.raises(OSError, match="No space left"):
        init_project(request(tmp_path))
    assert len(calls) == 6
    assert tree(project) == {"notes.txt": b"mine"}
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]


def test_write_all_or_nothing_creates_nested_folders(tmp_path):
    assert write_all_or_nothing(tmp_path, {tmp_path / "a" / "b" / "c.txt": b"x"}) == [tmp_path / "a" / "b" / "c.txt"]
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"x"
