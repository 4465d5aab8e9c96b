"""The scaffold's GitHub workflows: valid against GitHub's schema, the jobs and steps they promise, no user value.

``ci.yml`` runs the tests and the data validation on push; ``monitor.yml`` runs ``omgml monitor`` on the
newest batch on a schedule and fails on an alert. Both are checked with check-jsonschema's vendored
``vendor.github-workflows`` schema (no network: the schema ships inside the package) and read back as
YAML 1.2, which is what GitHub reads (``on`` stays a key, not the boolean YAML 1.1 makes of it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from omgml import init_project
from tests.test_scaffold_hostile import CORPUS, PLAIN_NAME, name_is_acceptable

WORKFLOWS = (".github/workflows/ci.yml", ".github/workflows/monitor.yml")
# An unreachable proxy: a validator that tried to download its schema would fail instead of passing.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}


def scaffold(folder: Path, name: str = "Churn Model", target: str = "churned") -> Path:
    init_project({"project_dir": str(folder), "name": name, "task": "binary", "target": target, "description": name})
    return folder


def check_workflows(*files: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")} | OFFLINE
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def read_yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def steps(workflow: dict, job: str) -> dict[str, dict]:
    """A job's steps by name (an action's step by the action it uses)."""
    return {step.get("name") or step["uses"].split("@")[0]: step for step in workflow["jobs"][job]["steps"]}


def test_both_workflows_are_valid_github_workflows_offline(tmp_path):
    project = scaffold(tmp_path / "p")
    done = check_workflows(*(project / rel for rel in WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_the_schema_check_refuses_a_broken_workflow(tmp_path):
    # The check can fail: a job without runs-on, and a trigger GitHub does not have.
    project = scaffold(tmp_path / "p")
    ci = (project / WORKFLOWS[0]).read_text(encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(ci.replace("    runs-on: ubuntu-latest\n", ""), encoding="utf-8")
    unknown = tmp_path / "unknown.yml"
    unknown.write_text(ci.replace("  push:\n", "  pushed:\n"), encoding="utf-8")
    for path in (broken, unknown):
        done = check_workflows(path)
        assert done.returncode == 1 and "Schema validation errors were encountered" in done.stdout, done.stdout


def test_ci_runs_the_tests_and_the_validation_on_push(tmp_path):
    ci = read_yaml(scaffold(tmp_path / "p") / WORKFLOWS[0])
    assert set(ci["on"]) == {"push", "pull_request", "workflow_dispatch"}
    assert ci["permissions"] == {"contents": "read"}
    test = steps(ci, "test")
    assert list(test) == ["actions/checkout", "actions/setup-python", "Install", "Tests", "Validate the data"]
    assert (test["Tests"]["run"], test["Validate the data"]["run"]) == ("make test", "make validate")
    assert test["Install"]["run"].rstrip().endswith("make install")
    assert ci["jobs"]["test"]["env"] == {"OMGML_SPEC_VARIABLE": "${{ vars.OMGML_SPEC }}"}


def test_monitor_runs_on_a_schedule_and_by_hand_and_keeps_its_history(tmp_path):
    monitor = read_yaml(scaffold(tmp_path / "p") / WORKFLOWS[1])
    assert set(monitor["on"]) == {"schedule", "workflow_dispatch"}
    [schedule] = monitor["on"]["schedule"]
    minute, hour, *every = schedule["cron"].split()
    assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24 and every == ["*", "*", "*"]
    assert monitor["on"]["workflow_dispatch"]["inputs"]["batch"]["required"] is False
    assert monitor["concurrency"] == {"group": "monitor", "cancel-in-progress": False}
    job = steps(monitor, "monitor")
    assert list(job) == [
        "actions/checkout",
        "actions/setup-python",
        "Restore the monitoring history",
        "Install",
        "Monitor",
        "Save the monitoring history",
        "Keep the reports",
    ]
    assert '.venv/bin/omgml monitor "$batch"' in job["Monitor"]["run"]
    restore, save = job["Restore the monitoring history"], job["Save the monitoring history"]
    assert restore["with"]["path"] == save["with"]["path"] == ".omgml/history"
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert save["if"].startswith("always()") and job["Keep the reports"]["if"] == "always()"


@pytest.mark.parametrize("label", ["double quotes", "newline", "jinja", "shell and make", "string exploit", "cjk"])
def test_no_project_value_reaches_a_workflow(tmp_path, label):
    # GitHub evaluates ${{ }} in any workflow string and the run: steps are shell: keeping values out is the
    # only quoting both languages honour, so the files are the same for every project.
    value = CORPUS[label]
    name = value if name_is_acceptable(value) else PLAIN_NAME
    plain = render_scaffold_for(tmp_path / "a", "plain", "y")
    hostile = render_scaffold_for(tmp_path / "b", name, value[:256])
    assert {rel: hostile[rel] for rel in WORKFLOWS} == {rel: plain[rel] for rel in WORKFLOWS}
    project = scaffold(tmp_path / "c", name, value[:256])
    done = check_workflows(*(project / rel for rel in WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr


def render_scaffold_for(folder: Path, name: str, target: str) -> dict[str, bytes]:
    folder.mkdir()
    scaffold(folder / "p", name, target)
    return {rel: (folder / "p" / rel).read_bytes() for rel in WORKFLOWS}


# The Monitor step's shell script, run as GitHub runs it (bash -eo pipefail), against a stand-in for
# .venv/bin/omgml that records its arguments and exits with the code asked for: omgml monitor's exit
# codes (0 no alert, 1 alert, 2 bad input) are the contract the step reads.


def monitor_script(project: Path) -> Path:
    script = project / "monitor-step.sh"
    script.write_text(steps(read_yaml(project / WORKFLOWS[1]), "monitor")["Monitor"]["run"], encoding="utf-8")
    return script


RECORD_ARGUMENTS = 'printf "%s\\n" "$@" > called.txt\nexit "$EXIT_CODE"\n'


def run_monitor_step(project: Path, exit_code: int = 0, omgml: str = RECORD_ARGUMENTS, **env: str):
    stand_in = project / ".venv" / "bin" / "omgml"
    stand_in.parent.mkdir(parents=True, exist_ok=True)
    stand_in.write_text("#!/bin/sh\n" + omgml, encoding="utf-8")
    stand_in.chmod(0o755)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(monitor_script(project))],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "EXIT_CODE": str(exit_code), "REQUESTED_BATCH": "", **env},
    )


def test_the_monitor_step_checks_the_newest_batch_by_name_and_fails_on_an_alert(tmp_path):
    project = scaffold(tmp_path / "p")
    batches = project / "data" / "batches"
    for name in ("2026-12-02.csv", "2026-12-03.parquet", "2026-11-30.csv", "notes.txt", ".hidden.csv"):
        (batches / name).write_text("a\n1\n", encoding="utf-8")
    os.utime(batches / "2026-11-30.csv")  # the newest by time is not the newest by name: a checkout sets all times

    quiet = run_monitor_step(project, 0)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert (project / "called.txt").read_text().splitlines() == ["monitor", "data/batches/2026-12-03.parquet"]

    alert = run_monitor_step(project, 1)
    assert alert.returncode == 1
    assert "::error title=Monitoring alert::an alert rule in omgml.toml fired on data/batches/2026-12-03.parquet" in (
        alert.stdout
    )
    bad = run_monitor_step(project, 2, REQUESTED_BATCH="data/batches/2026-12-02.csv")
    assert bad.returncode == 2 and "::error title=Monitoring failed::" in bad.stdout
    assert (project / "called.txt").read_text().splitlines() == ["monitor", "data/batches/2026-12-02.csv"]


def test_the_monitor_step_fails_when_there_is_no_batch(tmp_path):
    project = scaffold(tmp_path / "p")
    done = run_monitor_step(project, 0)
    assert done.returncode == 2 and not (project / "called.txt").exists()
    assert done.stdout.startswith("::error title=No batch to monitor::data/batches/ has no table")


def test_the_monitor_step_uses_the_team_store_only_when_the_secret_is_set(tmp_path):
    project = scaffold(tmp_path / "p")
    (project / "data" / "batches" / "b.csv").write_text("a\n1\n", encoding="utf-8")
    # An unset secret reads as empty: exported as is, it would point MLflow at "" instead of omgml.toml's store.
    show_store = 'echo "${MLFLOW_TRACKING_URI-unset}" > called.txt\n'
    for secret, seen in (("", "unset"), ("https://mlflow.example.com", "https://mlflow.example.com")):
        done = run_monitor_step(project, omgml=show_store, TEAM_TRACKING_URI=secret)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (project / "called.txt").read_text().strip() == seen
