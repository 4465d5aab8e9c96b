"""The MCP server imports the tools' libraries once, in the background, from a client's first listing or call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client

import omgml.mcp._common as common
from omgml.mcp import preload
from omgml.mcp.server import build_server
from tests.conftest import VENV_BIN

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}},
}


def _loaded(pid: int, package: str) -> bool:
    """Whether the process has mapped a compiled module of ``package`` (scikit-learn's, say): it imported it."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return f"/site-packages/{package}/" in maps


def _server(env_extra: dict[str, str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "OMGML_PROJECT_DIR": str(cwd), **env_extra}
    return subprocess.Popen(
        [str(VENV_BIN / "omgml-mcp")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )


def _send(server: subprocess.Popen, message: dict) -> dict | None:
    """Send one JSON-RPC message; the reply when it is a request."""
    server.stdin.write((json.dumps(message) + "\n").encode())
    server.stdin.flush()
    return json.loads(server.stdout.readline()) if "id" in message else None


def _initialize(server: subprocess.Popen) -> dict:
    reply = _send(server, INITIALIZE)
    _send(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    return reply


def _list_tools(server: subprocess.Popen) -> list[str]:
    return [
        tool["name"] for tool in _send(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})["result"]["tools"]
    ]


def test_the_server_warms_up_from_the_first_listing_and_not_before(tmp_path):
    server = _server({}, tmp_path)
    try:
        assert _initialize(server)["result"]["serverInfo"]["name"] == "omgml"
        time.sleep(3)  # started and shaken hands (an idle team server, a client that only checks): nothing heavy
        assert not _loaded(server.pid, "sklearn")
        assert "omgml_train_baseline" in _list_tools(server)
        deadline = time.monotonic() + 90
        while not (_loaded(server.pid, "sklearn") and _loaded(server.pid, "pandas")):
            assert time.monotonic() < deadline, "the warm-up never imported scikit-learn and pandas"
            assert server.poll() is None, "the server died warming up"
            time.sleep(0.2)
    finally:
        server.kill()
        server.wait()


def test_omgml_preload_0_turns_the_warm_up_off(tmp_path):
    server = _server({"OMGML_PRELOAD": "0"}, tmp_path)
    try:
        assert _initialize(server)["result"]["serverInfo"]["name"] == "omgml"
        assert "omgml_train_baseline" in _list_tools(server)
        time.sleep(3)
        assert not _loaded(server.pid, "sklearn")
    finally:
        server.kill()
        server.wait()


@pytest.mark.anyio
async def test_calls_and_the_warm_up_take_turns(tmp_path, monkeypatch):
    """Never two threads importing at once: a call waits for the module being imported, the next one for the call."""
    events: list[str] = []
    importing = threading.Event()

    def warm_up() -> None:  # two imports, as preload._warm makes them
        with preload.gate.importing():
            events.append("import 1 starts")
            importing.set()
            deadline = time.monotonic() + 30
            while preload.gate._calls == 0 and time.monotonic() < deadline:  # until the call waits for its turn
                time.sleep(0.01)
            events.append("import 1 ends")
        with preload.gate.importing():
            events.append("import 2")

    reported = common._reported

    def call(*args):
        events.append("call runs")
        time.sleep(0.5)
        try:
            return reported(*args)
        finally:
            events.append("call ends")

    monkeypatch.setattr(common, "_reported", call)
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    warming = threading.Thread(target=warm_up)
    warming.start()
    await anyio.to_thread.run_sync(importing.wait)
    async with Client(build_server()) as client:
        result = await client.call_tool("omgml_status", {"project_dir": "."})
    warming.join(10)
    assert not result.is_error, result.content[0].text
    assert events == ["import 1 starts", "import 1 ends", "call runs", "call ends", "import 2"]


def test_a_cancelled_wait_gives_its_turn_back():
    """A call cancelled while it waits must not hold the warm-up back for good."""
    import_over = threading.Event()

    async def cancelled_call() -> None:
        with anyio.move_on_after(0.2):  # cancelled while it waits for the import
            async with preload.call_turn():
                assert import_over.is_set(), "the call ran during an import"
                await anyio.sleep(10)

    importing = preload.gate.importing()
    importing.__enter__()

    def end_import() -> None:
        import_over.set()
        importing.__exit__(None, None, None)

    threading.Timer(0.5, end_import).start()  # the import ends after the cancel
    anyio.run(cancelled_call)
    done = threading.Event()
    threading.Thread(target=lambda: (preload.gate.importing().__enter__(), done.set()), daemon=True).start()
    assert done.wait(5), "the warm-up still waits for the cancelled call"


# Every tool on the demo project (real data: scikit-learn's breast cancer table), in one process, after the warm-up;
# prints what each call still imported of the heavy packages.
EVERY_TOOL_AFTER_THE_WARM_UP = """
import json, sys, anyio
from pathlib import Path
from mcp import Client
from omgml import init_project
from omgml.demo import write_demo_data
from omgml.mcp import preload
from omgml.mcp.server import build_server

root = Path(sys.argv[1])
init_project({"project_dir": str(root / "cancer"), "name": "Cancer", "task": "binary", "target": "diagnosis"})
write_demo_data(root / "cancer")
server = build_server()
preload.start()
preload.wait()
CALLS = [
    ("omgml_status", {"project_dir": "cancer"}),
    ("omgml_validate_data", {"project_dir": "cancer", "data": "data/raw/incoming.csv", "target": "diagnosis"}),
    ("omgml_check_drift", {"project_dir": "cancer", "reference": "data/raw/train.csv",
                           "current": "data/processed/current.csv"}),
    ("omgml_train_baseline", {"project_dir": "cancer", "data_path": "data/raw/train.csv", "cv": 3,
                              "include_image": True}),
    ("omgml_monitor_batch", {"project_dir": "cancer", "batch": "data/processed/current.csv"}),
    ("omgml_train_baseline", {"project_dir": "cancer", "data_path": "data/raw/train.csv", "cv": 3,
                              "models": ["linear"], "seed": 1}),
    ("omgml_compare_models", {"project_dir": "cancer", "data": "data/raw/train.csv", "resamples": 100,
                              "challengers": ["2"]}),
    ("omgml_promote_model", {"project_dir": "cancer", "ref": "2", "force": True, "reason": "test"}),
    ("omgml_rollback_model", {"project_dir": "cancer"}),
]
HEAVY = {"sklearn", "mlflow", "scipy", "pandas", "pyarrow", "skops", "sqlalchemy", "alembic", "jinja2", "PIL", "numpy"}


async def main():
    calls = []
    async with Client(server) as client:
        for name, arguments in CALLS:
            before = set(sys.modules)
            result = await client.call_tool(name, arguments)
            imported = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in HEAVY)
            calls.append({"tool": name, "error": result.content[0].text if result.is_error else None,
                          "imported": imported})
    print(json.dumps(calls))

anyio.run(main)
"""


def test_after_the_warm_up_the_tools_import_almost_nothing(tmp_path):
    """The warm-up's list is complete: a call left to import scikit-learn or MLflow modules would wait seconds."""
    root = tmp_path / "work"
    root.mkdir()
    env = {**os.environ, "OMGML_PROJECT_DIR": str(root), "HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", EVERY_TOOL_AFTER_THE_WARM_UP, str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    calls = json.loads(done.stdout.strip().splitlines()[-1])
    assert [(call["tool"], call["error"]) for call in calls] == [(call["tool"], None) for call in calls]
    imported = [module for call in calls for module in call["imported"]]
    # Left to the first baseline: MLflow's schema modules named after this version's revisions, a pandas helper.
    left = ("mlflow.store.db.trace_analytics_", "pandas.core.methods.")
    assert [module for module in imported if not module.startswith(left)] == []
