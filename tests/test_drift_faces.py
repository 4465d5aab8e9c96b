"""The drift capability through its faces: CLI exit codes, the MCP tool, one object across all three."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from omgml.drift.models import DriftReport
from omgml.drift.service import check_drift
from omgml.mcp.tools import drift as drift_tools
from omgml.render import render
from omgml.workspace import STAMP_KEYS


@pytest.fixture
def project(tmp_path):
    rng = np.random.default_rng(4)
    (tmp_path / "data").mkdir()
    pd.DataFrame({"x": rng.normal(size=800), "c": rng.choice(["a", "b"], 800)}).to_csv(
        tmp_path / "data/ref.csv", index=False
    )
    pd.DataFrame({"x": rng.normal(size=600), "c": rng.choice(["a", "b"], 600)}).to_csv(
        tmp_path / "data/same.csv", index=False
    )
    pd.DataFrame({"x": rng.normal(2, 1, 600), "c": rng.choice(["a", "b"], 600, p=[0.9, 0.1])}).to_csv(
        tmp_path / "data/moved.csv", index=False
    )
    return tmp_path


def cli(*args: str) -> tuple[int, str, str]:
    """``omgml`` in-process through its real entry point (registering the command if the lead has not yet)."""
    import contextlib
    import io

    from omgml.cli import app, main
    from omgml.cli.drift import drift

    if not any(getattr(c.callback, "__name__", "") == "drift" for c in app.registered_commands):
        app.command()(drift)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as done:
        main(list(args))
    return done.value.code, out.getvalue(), err.getvalue()


def test_exit_codes_say_drift_or_not(project):
    code, out, _ = cli("drift", "data/ref.csv", "data/same.csv", "--project-dir", str(project))
    assert code == 0 and out.startswith("# Drift check: no drift")
    code, out, _ = cli("drift", "data/ref.csv", "data/moved.csv", "--project-dir", str(project))
    assert code == 1 and out.startswith("# Drift check: DRIFT")
    code, out, err = cli("drift", "data/ref.csv", "data/moved.csv", "--project-dir", str(project), "--test", "x=bogus")
    assert code == 2 and out == ""
    assert err.startswith("omgml: error: Unknown stat test 'bogus'. The drift tests are: ks, chi2, z,")
    code, _, err = cli("drift", "data/ref.csv", "data/moved.csv", "--project-dir", str(project), "--test", "x")
    assert (
        code == 2
        and err
        == "omgml: error: --test 'x' is not COLUMN=TEST. --test takes a name and a value joined by '='. Fix: write it as --test COLUMN=TEST.\n"
    )


def test_cli_flags_reach_the_request(project):
    code, out, _ = cli(
        "drift",
        "data/ref.csv",
        "data/moved.csv",
        "--project-dir",
        str(project),
        "--columns",
        "x",
        "--threshold",
        "wasserstein=5",
        "--json",
    )
    report = DriftReport.model_validate_json(out)
    assert code == 0 and [c.column for c in report.columns] == ["x"] and report.columns[0].threshold == 5.0
    code, out, _ = cli("drift", "data/ref.csv", "--save-reference", "base", "--project-dir", str(project), "--json")
    assert code == 0 and json.loads(out)["saved_reference"] == ".omgml/references/base.json"
    code, out, _ = cli(
        "drift", "base", "data/moved.csv", "--project-dir", str(project), "--target", "c", "--drift-share", "1"
    )
    assert code == 1 and "the target 'c' drifted" in out


async def _mcp_call(arguments: dict):
    server = MCPServer("drift-test")
    for spec in drift_tools.SPECS:
        server.add_tool(
            spec.fn,
            title=spec.title,
            annotations=ToolAnnotations(
                read_only_hint=spec.read_only, destructive_hint=spec.destructive, idempotent_hint=spec.idempotent
            ),
        )
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("omgml_check_drift", arguments)
    return tools, result


@pytest.mark.anyio
async def test_mcp_tool_lists_its_schemas_and_returns_the_report(project, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(project))
    tools, result = await _mcp_call({"reference": "data/ref.csv", "current": "data/moved.csv", "tests": {"c": "chi2"}})
    tool = tools[0]
    assert tool.name == "omgml_check_drift" and "\n" not in tool.description
    assert tool.output_schema["properties"].keys() == DriftReport.model_json_schema()["properties"].keys()
    assert tool.input_schema["required"] == ["reference"]
    assert tool.annotations.read_only_hint is False and tool.annotations.destructive_hint is False
    assert result.is_error is False
    report = DriftReport.model_validate(result.structured_content)
    assert report.drifted and report.columns[1].test == "chi2"
    assert result.content[0].text == render(report)


@pytest.mark.anyio
async def test_mcp_errors_are_tool_errors_with_the_same_text(project, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(project))
    _, result = await _mcp_call({"reference": "data/ref.csv", "current": "../outside.csv"})
    assert result.is_error is True
    assert result.content[0].text.startswith(
        "Error executing tool omgml_check_drift: The current data '../outside.csv' resolves to"
    )
    _, result = await _mcp_call({"reference": "data/ref.csv", "current": "data/same.csv", "window": "1D"})
    assert result.is_error is True
    assert result.content[0].text.startswith(
        "Error executing tool omgml_check_drift: The drift request is not valid. 'input': Value error, "
        "time_column and window go together"
    )


@pytest.mark.anyio
async def test_the_same_object_across_python_cli_and_mcp(project, monkeypatch):
    args = ["data/ref.csv", "data/moved.csv"]
    api = check_drift({"project_dir": str(project), "reference": args[0], "current": args[1]}).model_dump(mode="json")
    code, out, _ = cli("drift", *args, "--project-dir", str(project), "--json")
    assert code == 1
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(project))
    _, result = await _mcp_call({"reference": args[0], "current": args[1]})
    from_cli, from_mcp = json.loads(out), result.structured_content
    for returned in (api, from_cli, from_mcp):  # each saved file is the object its face returned, plus the stamp
        saved = json.loads((project / returned["report_path"]).read_text())
        assert sorted(set(saved) - set(returned)) == sorted(STAMP_KEYS)
        assert {k: v for k, v in saved.items() if k not in STAMP_KEYS} == returned
    paths = {d.pop("report_path") for d in (api, from_cli, from_mcp)}
    assert len(paths) == 3  # each run saved its own report, JSON and HTML
    assert len({d.pop("html_path") for d in (api, from_cli, from_mcp)}) == 3
    assert api == from_cli == from_mcp


def test_face_modules_import_no_heavy_library():
    code = (
        "import sys, omgml.mcp.tools.drift, omgml.cli.drift, omgml.drift.models\n"
        "heavy = [m for m in ('numpy', 'pandas', 'pyarrow', 'scipy', 'sklearn', 'mlflow') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_prompt_renders_with_and_without_arguments():
    from omgml.assets import asset_dir
    from omgml.mcp.prompts import parse_prompt

    prompt = parse_prompt(asset_dir("prompts") / "drift.md")
    assert prompt.name == "drift" and [a.name for a in prompt.arguments] == ["reference", "current", "target"]
    text = prompt.render({"current": "data/processed/today.parquet"})
    assert "current data: data/processed/today.parquet" in text and "`omgml_check_drift`" in text
    assert "a saved profile" in prompt.render({})
