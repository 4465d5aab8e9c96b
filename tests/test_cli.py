"""The shell face: same results as the Python API, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from omgml import project_status
from omgml.mcp.server import build_server
from tests.conftest import run_cli


def test_init_then_status_as_json(tmp_path):
    made = run_cli("init", "proj", "--task", "multiclass", "--target", "species", "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert (result["metric"], result["package"]) == ("f1_macro", "proj")
    status = run_cli("status", "proj", "--json", cwd=tmp_path)
    assert status.returncode == 0
    assert json.loads(status.stdout)["config"]["target"] == "species"


@pytest.mark.anyio
async def test_json_is_the_same_object_across_cli_python_and_mcp(new_project, monkeypatch):
    from mcp import Client

    cli = json.loads(run_cli("status", str(new_project), "--json").stdout)
    api = project_status({"project_dir": str(new_project)}).model_dump(mode="json")
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(new_project.parent))
    async with Client(build_server()) as client:
        mcp = (await client.call_tool("omgml_status", {"project_dir": new_project.name})).structured_content
    saved = [(d.pop("report_path"), d.pop("html_path")) for d in (cli, api, mcp)]
    assert len(set(saved)) == 3  # status saves its report: each call its own
    assert cli == api == mcp


def test_markdown_is_the_default_output(tmp_path):
    done = run_cli("status", str(tmp_path))
    assert done.returncode == 0
    assert done.stdout.startswith("## omgml status")
    assert "is not an omgml project" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "nope"], "omgml: error: The project dir {tmp}/nope does not exist."),
        (
            ["init", "p", "--task", "clustering", "--target", "y"],
            "omgml: error: The init request is not valid. 'task': Input should be",
        ),
        (["init", "p", "--task", "binary", "--target", "y", "--name", " "], "omgml: error: The project name is empty."),
        (["init", "p", "--task", "binary"], "omgml: error: Missing option '--target'. (see `omgml init --help`)"),
        (["frobnicate"], "omgml: error: No such command 'frobnicate'. (see `omgml --help`)"),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path, args, message):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(message.format(tmp=tmp_path))
    assert "Traceback" not in done.stderr


def test_malformed_config_is_one_line_naming_the_line(new_project):
    (new_project / "omgml.toml").write_text('[project]\nname = "x"\ntask = binary\n')
    done = run_cli("status", str(new_project))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "(at line 3, column 8)" in done.stderr


def test_python_dash_m_and_version():
    done = subprocess.run(
        [sys.executable, "-m", "omgml", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("omgml 0.")
