"""The MCP face through real clients: in-process ``mcp.Client``, stdio, and the MCP Inspector CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ListRootsResult, Root

from omgml import (
    BaselineReport,
    CompareReport,
    DriftReport,
    InitResult,
    MonitorReport,
    PromoteResult,
    RollbackResult,
    StatusReport,
    ValidationReport,
    init_project,
    project_status,
)
from omgml.mcp.server import build_server
from omgml.mcp.tools import TOOLS
from omgml.render import render
from tests import agent_clis
from tests.conftest import VENV_BIN

pytestmark = pytest.mark.anyio

# One scenario per tool: arguments for a call that must succeed in a fresh project root.
SCENARIOS = {
    "omgml_init": {"project_dir": "proj", "task": "binary", "target": "churned", "name": "Churn"},
    "omgml_status": {"project_dir": "proj"},
    "omgml_validate_data": {"project_dir": "proj", "data": "data/raw/train.csv", "target": "churned"},
    "omgml_check_drift": {"project_dir": "proj", "reference": "data/raw/train.csv", "current": "data/raw/current.csv"},
    "omgml_train_baseline": {"project_dir": "proj", "data_path": "data/raw/train.csv", "cv": 3, "models": ["linear"]},
    "omgml_monitor_batch": {"project_dir": "proj", "batch": "data/raw/current.csv"},
    "omgml_compare_models": {
        "project_dir": "proj",
        "challengers": ["baseline"],
        "data": "data/raw/current.csv",
        "resamples": 100,
    },
    "omgml_promote_model": {"project_dir": "proj", "ref": "baseline", "force": True, "reason": "scenario"},
    "omgml_rollback_model": {"project_dir": "proj"},
}
# Calls a scenario needs first: compare wants two versions, and the scenario table has too little signal to register one.
SIGNAL = {"project_dir": "proj", "data_path": "data/raw/signal.csv", "cv": 3}
BEFORE = {
    "omgml_compare_models": [
        ("omgml_train_baseline", {**SIGNAL, "models": ["linear"]}),
        ("omgml_train_baseline", {**SIGNAL, "models": ["linear"], "seed": 1}),
    ],
}
RESULT_MODELS = {
    "omgml_init": InitResult,
    "omgml_status": StatusReport,
    "omgml_validate_data": ValidationReport,
    "omgml_check_drift": DriftReport,
    "omgml_train_baseline": BaselineReport,
    "omgml_monitor_batch": MonitorReport,
    "omgml_compare_models": CompareReport,
    "omgml_promote_model": PromoteResult,
    "omgml_rollback_model": RollbackResult,
}


@pytest.fixture(params=["legacy", "auto"])
def mode(request):
    return request.param


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    return tmp_path


def test_every_tool_has_a_scenario():
    assert {spec.fn.__name__ for spec in TOOLS} == set(SCENARIOS) == set(RESULT_MODELS)


async def test_tools_are_listed_with_schemas_and_annotations(mode):
    async with Client(build_server(), mode=mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert list(tools) == [spec.fn.__name__ for spec in TOOLS]
    for name, model in RESULT_MODELS.items():
        assert tools[name].output_schema["properties"].keys() == model.model_json_schema()["properties"].keys()
        assert tools[name].description and "\n" not in tools[name].description
    status = tools["omgml_status"].annotations  # it saves its report, nothing else
    assert (status.read_only_hint, status.destructive_hint) == (None, False)
    init = tools["omgml_init"].annotations
    # readOnlyHint is left out where it is the MCP default (false)
    assert (init.read_only_hint, init.destructive_hint, init.idempotent_hint) == (None, False, True)
    schema = tools["omgml_init"].input_schema
    assert schema["properties"]["task"]["enum"] == ["binary", "multiclass", "regression"]
    assert schema["required"] == ["task", "target"]
    assert schema["properties"]["name"]["type"] == "string"  # optional: left out, not sent as null


def write_scenario_data(root: Path) -> None:
    raw = root / "proj" / "data" / "raw"
    raw.mkdir(parents=True)
    rows = "".join(f"{i % 7},{'ab'[i % 3 == 0]},{i % 2}\n" for i in range(60))
    (raw / "train.csv").write_text("x,c,churned\n" + rows)
    (raw / "current.csv").write_text("x,c,churned\n" + rows)
    # churned follows x here, so the baseline surely registers a model (BEFORE: a second version)
    (raw / "signal.csv").write_text(
        "x,c,churned\n" + "".join(f"{i % 7},{'ab'[i % 3 == 0]},{int(i % 7 > 3)}\n" for i in range(60))
    )


async def test_each_tool_scenario_returns_its_result_and_markdown(root, mode):
    write_scenario_data(root)
    async with Client(build_server(), mode=mode) as client:
        for name, arguments in SCENARIOS.items():
            for before in BEFORE.get(name, []):
                assert (await client.call_tool(*before)).is_error is False
            result = await client.call_tool(name, arguments)
            assert result.is_error is False, result.content
            model = RESULT_MODELS[name].model_validate(result.structured_content)
            assert result.content[0].text == render(model)
    assert (root / "proj" / "omgml.toml").is_file()


async def test_structured_content_equals_the_python_api(root, mode):
    api_init = init_project({"project_dir": str(root / "proj"), "task": "binary", "target": "churned"})
    async with Client(build_server(), mode=mode) as client:
        again = await client.call_tool("omgml_init", {"project_dir": "proj", "task": "binary", "target": "churned"})
        status = await client.call_tool("omgml_status", {"project_dir": "proj"})
    assert again.structured_content["changed"] is False
    assert again.structured_content["unchanged"] == api_init.created
    api_status = project_status({"project_dir": str(root / "proj")}).model_dump(mode="json")
    saved = ("report_path", "html_path")  # status saves its report: each call its own
    assert {k: v for k, v in status.structured_content.items() if k not in saved} == {
        k: v for k, v in api_status.items() if k not in saved
    }


async def test_omgml_error_becomes_a_tool_error_with_its_text(root, mode):
    async with Client(build_server(), mode=mode) as client:
        outside = await client.call_tool("omgml_status", {"project_dir": "../.."})
        empty = await client.call_tool("omgml_init", {"project_dir": "p", "task": "binary", "target": "y", "name": " "})
        bad_task = await client.call_tool("omgml_init", {"task": "clustering", "target": "y"})
    assert outside.is_error is True
    assert (
        "outside the project root" in outside.content[0].text and "Fix: give a path inside" in outside.content[0].text
    )
    assert empty.is_error and "The project name is empty" in empty.content[0].text
    assert (
        bad_task.is_error and "'task' must be one of 'binary', 'multiclass', 'regression'" in bad_task.content[0].text
    )
    assert not (root / "p").exists()


async def test_prompts_are_loaded_from_files(mode):
    async with Client(build_server(), mode=mode) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert {"init", "status"} <= set(prompts)
        assert [a.name for a in prompts["init"].arguments] == ["project_dir", "task", "target", "metric"]
        init = await client.get_prompt("init", {"task": "regression", "target": "price"})
        status = await client.get_prompt("status", {})
    init_text = init.messages[0].content.text
    assert "task: regression" in init_text and "target column: price" in init_text
    assert "`omgml_init`" in init_text and "dry_run" in init_text
    assert 'Call the `omgml_status` tool with `project_dir` set to "."' in status.messages[0].content.text


async def test_prompt_arguments_come_in_the_order_a_person_types_them():
    async with Client(build_server()) as client:
        prompts = {p.name: [a.name for a in p.arguments] for p in (await client.list_prompts()).prompts}
    assert prompts == {
        "init": ["project_dir", "task", "target", "metric"],  # /omgml:init DIR TASK TARGET
        "status": ["project_dir"],
        "validate": ["data", "contract", "target", "against"],  # omgml validate DATA --contract ...
        "drift": ["reference", "current", "target"],  # omgml drift REFERENCE CURRENT
        "baseline": ["data_path", "target", "project_dir"],  # omgml baseline DATA --target COL
        "monitor": ["batch", "labels", "key"],  # omgml monitor BATCH --labels FILE --key COL
    }


async def test_client_roots_set_the_workspace_when_no_env_var(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()

    async def list_roots(context):
        return ListRootsResult(roots=[Root(uri=workspace.as_uri(), name="ws")])

    async with Client(build_server(), mode="legacy", list_roots_callback=list_roots) as client:
        made = await client.call_tool("omgml_init", {"project_dir": "p", "task": "binary", "target": "y"})
        escaped = await client.call_tool("omgml_status", {"project_dir": str(tmp_path)})
    assert made.is_error is False
    assert made.structured_content["project_dir"] == str(workspace / "p")
    assert escaped.is_error and f"outside the project root {workspace}" in escaped.content[0].text


async def test_stdio_round_trip(tmp_path):
    params = StdioServerParameters(command=str(VENV_BIN / "omgml-mcp"), cwd=str(tmp_path), env={**os.environ})
    async with Client(params) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        made = await client.call_tool("omgml_init", {"project_dir": "p", "task": "regression", "target": "price"})
        status = await client.call_tool("omgml_status", {"project_dir": "p"})
    assert names == [spec.fn.__name__ for spec in TOOLS]
    assert made.structured_content["metric"] == "rmse"
    assert status.structured_content["is_project"] is True


def _jsonrpc(*messages: dict) -> bytes:
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


def test_stdout_carries_only_protocol(tmp_path):
    """Every byte on stdout must be JSON-RPC; logs and stray prints belong on stderr."""
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    calls = [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "omgml_init", "arguments": {"project_dir": "p", "task": "binary", "target": "y"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "omgml_status", "arguments": {"project_dir": "p"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "tools/call",
            "params": {"name": "omgml_status", "arguments": {"project_dir": "/"}},
        },
        {"jsonrpc": "2.0", "id": 6, "method": "prompts/get", "params": {"name": "init", "arguments": {}}},
    ]
    env = {**os.environ, "PYTHONWARNINGS": "always"}
    with subprocess.Popen(
        [str(VENV_BIN / "omgml-mcp")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    ) as server:
        replies = []
        for message in [init, *calls]:  # one at a time: the server may run concurrent calls in any order
            server.stdin.write(_jsonrpc(message))
            server.stdin.flush()
            if "id" in message:
                replies.append(server.stdout.readline())
        server.stdin.close()
        rest = server.stdout.read()
        server.wait(timeout=30)
    messages = [json.loads(line) for line in replies + rest.splitlines() if line.strip()]
    assert all(m.get("jsonrpc") == "2.0" for m in messages)
    by_id = {m["id"]: m for m in messages if "id" in m}
    assert set(by_id) == {1, 2, 3, 4, 5, 6}
    assert by_id[4]["result"]["structuredContent"]["is_project"] is True
    assert by_id[5]["result"]["isError"] is True


INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"
INSPECTOR_CALLS = [
    ("omgml_status", ["project_dir=cancer"]),
    ("omgml_validate_data", ["project_dir=cancer", "data=data/raw/incoming.csv", "target=diagnosis"]),
    ("omgml_check_drift", ["project_dir=cancer", "reference=data/raw/train.csv", "current=data/processed/current.csv"]),
    ("omgml_train_baseline", ["project_dir=cancer", "data_path=data/raw/train.csv", "cv=3", 'models=["linear"]']),
    ("omgml_monitor_batch", ["project_dir=cancer", "batch=data/processed/current.csv"]),
    ("omgml_init", ["project_dir=cancer", "task=binary", "target=diagnosis", "name=Cancer Screening", "dry_run=true"]),
    ("omgml_train_baseline", ["project_dir=cancer", "data_path=data/raw/train.csv", "cv=3", 'models=["hgb"]']),
    ("omgml_compare_models", ["project_dir=cancer", "data=data/raw/train.csv", "resamples=100", 'challengers=["1"]']),
    ("omgml_promote_model", ["project_dir=cancer", "ref=baseline", "force=true", "reason=inspector"]),
    ("omgml_rollback_model", ["project_dir=cancer"]),
]


def test_mcp_inspector_cli_lists_and_calls_every_tool_on_the_demo_project(tmp_path):
    """A client nobody here wrote: the official MCP Inspector in CLI mode, on the demo's project."""
    from omgml.demo import write_demo_data

    # installed once under .cache/npm (skips, saying why, without npm): `npx -y` asked the registry on every call
    inspector = agent_clis.npm_cli(INSPECTOR, "mcp-inspector")
    init_project(
        {"project_dir": str(tmp_path / "cancer"), "name": "Cancer Screening", "task": "binary", "target": "diagnosis"}
    )
    write_demo_data(tmp_path / "cancer")
    base = [str(inspector), "--cli", str(VENV_BIN / "omgml-mcp")]

    def inspect(*args: str) -> dict:
        done = subprocess.run([*base, *args], capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    assert [t["name"] for t in inspect("--method", "tools/list")["tools"]] == [spec.fn.__name__ for spec in TOOLS]
    assert {p["name"] for p in inspect("--method", "prompts/list")["prompts"]} == {
        "init",
        "status",
        "validate",
        "drift",
        "baseline",
        "monitor",
    }
    assert {name for name, _ in INSPECTOR_CALLS} == set(SCENARIOS)
    for name, arguments in INSPECTOR_CALLS:
        flags = [flag for argument in arguments for flag in ("--tool-arg", argument)]
        result = inspect("--method", "tools/call", "--tool-name", name, *flags)
        assert result.get("isError") in (None, False), result
        RESULT_MODELS[name].model_validate(result["structuredContent"])
        assert result["content"][0]["text"].startswith(("## omgml", "# Drift", "# Monitor"))


def test_faces_do_not_import_heavy_libraries():
    code = (
        "import sys, omgml, omgml.mcp.server, omgml.cli, omgml.install.models\n"
        "omgml.mcp.server.build_server()\n"
        "heavy = ('mlflow', 'sklearn', 'scipy', 'pandas', 'pyarrow', 'numpy', 'jinja2', 'yaml', 'omgml.render', "
        "'matplotlib', 'PIL')\n"
        "heavy = sorted(m for m in heavy if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_http_transport_serves_on_loopback(tmp_path):
    import anyio

    port = _free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 -- starts the server in the background; nothing waits on it here
        [str(VENV_BIN / "omgml"), "serve", "--http", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        for _ in range(100):  # wait up to 10 s for the socket
            try:
                async with Client(url) as client:
                    names = [t.name for t in (await client.list_tools()).tools]
                    instructions = client.instructions
                break
            except Exception:  # noqa: BLE001 -- the server is still starting
                await anyio.sleep(0.1)
        else:
            pytest.fail("the HTTP server did not answer: " + server.stderr.read1().decode())
        assert names == [spec.fn.__name__ for spec in TOOLS]
        assert "omgml_status first" in instructions
        listening = subprocess.run(  # noqa: ASYNC221 -- a brief ss call, after the client is done
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=False
        ).stdout
        if listening:  # ss is there: every listening socket on the port is bound to loopback only
            local_addresses = [line.split()[3] for line in listening.splitlines()]
            assert local_addresses == [f"127.0.0.1:{port}"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_python_api_exports_every_lazy_name():
    import omgml

    assert sorted(omgml.__all__) == sorted(["__version__", *omgml._API])
    for name in omgml._API:
        assert getattr(omgml, name).__name__ == name
