"""``omgml doctor`` starts every configured entry as its client would, and is healthy only when each one starts."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

import omgml
from omgml.install import doctor as doctor_module
from omgml.install.doctor import doctor
from omgml.mcp.tools import TOOLS
from tests.conftest import run_cli

OMGML_TOOLS = [spec.fn.__name__ for spec in TOOLS]
# This checkout's code, whatever the venv's editable install points at.
SERVER = {"command": sys.executable, "args": ["-m", "omgml.mcp.server"]}
THIS_CODE = str(Path(omgml.__file__).parents[1])


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("CLINE_MCP_SETTINGS_PATH", raising=False)
    return home


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    return folder


def write(path: Path, servers_key: str, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({servers_key: {"omgml": entry}}))


def check(report, client: str, scope: str = "project"):
    return next(c for c in report.clients if (c.client, c.scope) == (client, scope))


def test_a_command_that_does_not_exist_is_not_healthy_and_says_so(home, project):
    write(project / ".cursor/mcp.json", "mcpServers", {"command": "omgml-mcp-nowhere", "args": []})
    report = doctor(str(project))
    assert report.server_ok and not report.healthy
    found = check(report, "cursor")
    assert found.status == "failed" and found.configured
    assert found.problem == (
        "the command omgml-mcp-nowhere does not exist: install omgml (pip install omgml, or uv tool install omgml), "
        "or rerun `omgml install cursor` to write one that does"
    )
    shown = run_cli("doctor", "--project-dir", str(project), env={"HOME": str(home)})
    assert shown.returncode == 1 and "PROBLEMS FOUND" in shown.stdout
    assert "the command omgml-mcp-nowhere does not exist" in shown.stdout


def test_the_real_server_configured_with_env_is_ok_with_its_tool_count(home, project):
    # Claude Code's ${VAR:-default} is expanded from the environment as Claude Code does: the default applies here.
    entry = {"type": "stdio", **SERVER, "env": {"PYTHONPATH": "${OMGML_DOCTOR_UNSET:-" + THIS_CODE + "}"}}
    write(project / ".mcp.json", "mcpServers", entry)
    write(
        home / ".config/opencode/opencode.json",
        "mcp",
        {"type": "local", "command": [SERVER["command"], *SERVER["args"]]},
    )
    report = doctor(str(project))
    assert report.healthy, report.model_dump_json(indent=1)
    for client, scope in (("claude-code", "project"), ("opencode", "user")):
        ok = check(report, client, scope)
        assert ok.status == "ok" and ok.problem is None
        assert ok.tools == OMGML_TOOLS and len(ok.tools) == len(TOOLS)
    assert check(report, "cursor").status == "not configured"


def test_a_command_that_exits_at_once_names_the_exit_and_its_stderr(home, project):
    write(project / ".vscode/mcp.json", "servers", {"type": "stdio", "command": "false", "args": []})
    crash = "import sys; sys.stderr.write('omgml: cannot import pandas\\n'); sys.exit(3)"
    write(home / ".cursor/mcp.json", "mcpServers", {"command": sys.executable, "args": ["-c", crash]})
    report = doctor(str(project))
    assert not report.healthy
    assert check(report, "vscode").problem == "`false` exited before answering initialize; it wrote nothing to stderr"
    said = check(report, "cursor", "user").problem
    assert said.endswith("exited before answering initialize; its last stderr line: omgml: cannot import pandas")


def test_an_unset_variable_without_default_and_a_hang_each_fail(home, project, monkeypatch):
    monkeypatch.setattr(doctor_module, "START_TIMEOUT", 2.0)
    monkeypatch.delenv("CLAUDE_PLUGIN_ROOT", raising=False)
    write(project / ".mcp.json", "mcpServers", {"command": "uvx", "args": ["--from", "${CLAUDE_PLUGIN_ROOT}", "x"]})
    write(project / "opencode.json", "mcp", {"type": "local", "command": ["sleep", "30"]})
    report = doctor(str(project))
    assert not report.healthy
    unset = check(report, "claude-code").problem
    assert unset.startswith("the entry uses ${CLAUDE_PLUGIN_ROOT}, which is not set here and has no default")
    hang = check(report, "opencode")
    assert hang.problem == "`sleep 30` did not answer initialize and tools/list within 2 s; it wrote nothing to stderr"
    assert hang.seconds < 10


def test_a_server_without_omgml_tools_fails(home, project):
    other = (
        "from mcp.server.mcpserver import MCPServer\n"
        "s = MCPServer('other')\n"
        "@s.tool()\ndef omgml_init() -> str:\n    return 'x'\n"
        "s.run()\n"
    )
    write(project / ".cursor/mcp.json", "mcpServers", {"command": sys.executable, "args": ["-c", other]})
    report = doctor(str(project))
    assert not report.healthy
    wrong = check(report, "cursor")
    assert wrong.tools == ["omgml_init"]
    assert wrong.problem.startswith(f"it started but lists 1 tool without omgml's {', '.join(sorted(OMGML_TOOLS[1:]))}")


def test_disabled_entries_are_reported_not_started(home, project):
    write(home / ".cline/data/settings/cline_mcp_settings.json", "mcpServers", {"command": "nowhere", "disabled": True})
    report = doctor(str(project))
    assert report.healthy
    assert check(report, "cline", "user").status == "disabled"


def test_checks_run_at_once(home, project, monkeypatch):
    monkeypatch.setattr(doctor_module, "START_TIMEOUT", 2.0)
    hang = {"command": "sleep", "args": ["30"]}
    for path, key in (
        (project / ".mcp.json", "mcpServers"),
        (project / ".cursor/mcp.json", "mcpServers"),
        (home / ".cursor/mcp.json", "mcpServers"),
        (project / ".vscode/mcp.json", "servers"),
        (home / ".config/Code/User/mcp.json", "servers"),
    ):
        write(path, key, hang)
    began = time.monotonic()
    report = doctor(str(project))
    took = time.monotonic() - began
    assert [c.status for c in report.clients if c.configured] == ["failed"] * 5
    # One after another, five 2 s timeouts take 10 s; side by side, the slowest (or omgml's own start) bounds them.
    assert took < 8, took
