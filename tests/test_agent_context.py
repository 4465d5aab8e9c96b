"""What an agent reads from the MCP face: one-line argument errors, a small tools/list, a root that confines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from omgml.mcp import server as mcp_server
from omgml.mcp.server import build_server
from omgml.mcp.tools import TOOLS
from omgml.workspace import too_broad
from tests.conftest import VENV_BIN
from tests.test_mcp import BEFORE, SCENARIOS, write_scenario_data

pytestmark = pytest.mark.anyio

MAX_BYTES_PER_TOOL = 2048  # every conversation carries tools/list: about 10 KB for five tools


async def _errors(calls: list[tuple[str, dict]]) -> list[str]:
    async with Client(build_server()) as client:
        results = [await client.call_tool(name, arguments) for name, arguments in calls]
    assert all(r.is_error for r in results), [r.content for r in results]
    return [r.content[0].text for r in results]


async def test_argument_errors_are_one_line_naming_the_argument_and_the_allowed_values(tmp_path, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    errors = await _errors(
        [
            ("omgml_init", {"task": "bogus"}),
            ("omgml_init", {"task": "binary", "target": "y", "project_dir": 5}),
            ("omgml_train_baseline", {"cv": 1, "models": ["linear", "xgb"]}),
            ("omgml_check_drift", {"reference": "a.csv", "drift_share": "x" * 100}),
            ("omgml_status", {"project_dir": "p" * 5000}),
        ]
    )
    assert errors == [
        (
            "omgml_init: invalid arguments: 'task' must be one of 'binary', 'multiclass', 'regression' (got 'bogus'); "
            "'target' is required"
        ),
        "omgml_init: invalid arguments: 'project_dir' should be a valid string (got 5)",
        (
            "omgml_train_baseline: invalid arguments: 'cv' should be greater than or equal to 2 (got 1); "
            "'models.1' must be one of 'dummy', 'linear', 'hgb' (got 'xgb')"
        ),
        (
            "omgml_check_drift: invalid arguments: 'drift_share' should be a valid number, unable to parse string as a "
            f"number (got '{'x' * 36}...)"
        ),  # a long value is cut to 40 characters
        f"omgml_status: invalid arguments: 'project_dir' should have at most 4096 characters (got '{'p' * 36}...)",
    ]
    assert not any("\n" in e or "http" in e for e in errors)
    assert not list(tmp_path.iterdir())


async def test_unknown_argument_names_are_refused_with_the_accepted_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    errors = await _errors(
        [
            ("omgml_init", {"task": "binary", "target": "y", "data_pth": "d.csv"}),
            ("omgml_status", {"project": "p", "verbose": True}),
        ]
    )
    assert errors == [
        (
            "omgml_init: invalid arguments: unknown argument 'data_pth'; accepted: task, target, project_dir, name, "
            "metric, data_path, description, dry_run"
        ),
        "omgml_status: invalid arguments: unknown arguments 'project', 'verbose'; accepted: project_dir",
    ]
    assert not list(tmp_path.iterdir())  # the misspelt call did not run with the argument dropped


def _walk(schema):
    yield schema
    for value in schema.values() if isinstance(schema, dict) else schema if isinstance(schema, list) else ():
        yield from _walk(value)


async def test_tools_list_stays_small_and_every_tool_keeps_its_schemas():
    async with Client(build_server()) as client:
        tools = (await client.list_tools()).tools
    listed = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    size = len(json.dumps(listed, separators=(",", ":")))
    print(f"tools/list: {size} bytes for {len(tools)} tools ({size // len(tools)} per tool)")
    assert size <= MAX_BYTES_PER_TOOL * len(tools)
    assert len(tools) == len(TOOLS)
    for tool in listed:
        assert tool["inputSchema"]["properties"] and tool["outputSchema"]["properties"], tool["name"]
        assert "\n" not in tool["description"]
        for node in _walk([tool["inputSchema"], tool["outputSchema"]]):
            if isinstance(node, dict):
                assert "$ref" not in node and "$defs" not in node and "title" not in node, tool["name"]
        for node in _walk(tool["outputSchema"]):  # looser than any real result
            if isinstance(node, dict):
                assert node.get("additionalProperties") is not False and "required" not in node, tool["name"]


def test_lean_input_keeps_the_meaning():
    schema = {
        "type": "object",
        "title": "xArguments",
        "properties": {
            "title": {"anyOf": [{"type": "string", "maxLength": 9}, {"type": "null"}], "default": None, "title": "T"},
            "task": {"anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}], "description": "Task."},
            "cv": {"type": "integer", "minimum": 2, "default": 5, "title": "Cv"},
            "unit": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": "s"},
        },
        "required": ["cv"],
    }
    assert mcp_server.lean_input(schema) == {
        "type": "object",
        "properties": {
            # null is the default: leaving the argument out says it, so only the value's type is published
            "title": {"type": "string"},  # a property may be called "title"
            "task": {"enum": ["a", "b"], "type": "string", "description": "Task."},
            "cv": {"type": "integer", "minimum": 2, "default": 5},
            "unit": {"type": ["string", "null"], "default": "s"},  # here null means something omitting does not
        },
        "required": ["cv"],
    }


async def test_the_sdk_client_validates_structured_content_against_the_published_schema(tmp_path, monkeypatch):
    """The scenarios pass through the lean schemas (tests/test_mcp.py); a schema a result breaks is caught."""
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    write_scenario_data(tmp_path)
    outline = mcp_server.outline
    async with Client(build_server()) as client:
        for name, arguments in SCENARIOS.items():  # every tool, validated by the client against the lean schema
            for before in BEFORE.get(name, []):
                await client.call_tool(*before)
            result = await client.call_tool(name, arguments)
            assert result.is_error is False, result.content
    monkeypatch.setattr(mcp_server, "outline", lambda s: {**outline(s), "required": ["no_such_field"]})
    async with Client(build_server()) as client:
        with pytest.raises(RuntimeError, match="Invalid structured content"):
            await client.call_tool("omgml_status", {"project_dir": "proj"})


@pytest.mark.parametrize(
    "path, why",
    [
        ("/", "the top of the file system"),
        ("/usr", "a system folder"),
        ("/etc", "a system folder"),
        ("/root", "a system folder"),
        ("{home}", "the home folder"),
        ("{home_parent}", "a folder above the home folder"),
        ("{home}/churn", None),
        ("/usr-projects", None),
    ],
)
def test_too_broad_roots(path, why, tmp_path, monkeypatch):
    home = tmp_path / "home" / "me"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    assert too_broad(Path(path.format(home=home, home_parent=home.parent)).resolve()) == why


async def _init_over_stdio(cwd: Path, env: dict[str, str]):
    params = StdioServerParameters(command=str(VENV_BIN / "omgml-mcp"), cwd=str(cwd), env=env)
    async with Client(params) as client:
        return await client.call_tool("omgml_init", {"project_dir": "churn", "task": "binary", "target": "y"})


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMGML_PROJECT_DIR", "CLAUDE_PROJECT_DIR")}
    return {**env, **extra}


async def test_a_server_started_in_slash_refuses_to_work_there():
    """As Claude Desktop starts servers: cwd /, no env var, no client roots."""
    assert not Path("/churn").exists()
    result = await _init_over_stdio(Path("/"), _env())
    assert result.is_error
    assert result.content[0].text == (
        "Error executing tool omgml_init: The workspace root is / (the server's working directory): the top of the "
        "file system. Every path a tool takes must stay inside the root, and a root this broad confines nothing "
        "(project_dir 'churn' would be /churn). Fix: set OMGML_PROJECT_DIR to the project folder in the server's "
        "env, let the client send its roots, or run `omgml install <client> --project-dir <folder>`."
    )
    assert not Path("/churn").exists()


async def test_a_server_started_in_home_refuses_and_an_explicit_root_works(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    refused = await _init_over_stdio(home, _env(HOME=str(home)))
    assert refused.is_error and f"The workspace root is {home} (the server's working directory): the home folder" in (
        refused.content[0].text
    )
    assert not list(home.iterdir())
    project = tmp_path / "x"
    project.mkdir()
    made = await _init_over_stdio(Path("/"), _env(HOME=str(home), OMGML_PROJECT_DIR=str(project)))
    assert made.is_error is False, made.content
    assert (project / "churn" / "omgml.toml").is_file()
    home_as_env = await _init_over_stdio(project, _env(HOME=str(home), OMGML_PROJECT_DIR=str(home)))
    assert home_as_env.is_error and f"{home} (OMGML_PROJECT_DIR): the home folder" in home_as_env.content[0].text
