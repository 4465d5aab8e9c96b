"""``omgml install|uninstall|skills install|doctor``: merging into each agent's own config format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from omgml.errors import InvalidInput
from omgml.install.clients import CLIENT_NAMES, CLIENTS
from omgml.install.doctor import doctor
from omgml.install.service import ConfigFileError, install_client, install_skills, uninstall_client
from omgml.mcp.tools import TOOLS
from tests.conftest import run_cli


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


def launch_from(client: str, entry: dict) -> StdioServerParameters:
    """Read our entry back the way the client would, and turn it into a process to start."""
    if client == "opencode":
        assert entry["type"] == "local" and entry["enabled"] is True
        command, *args = entry["command"]
    else:
        command, args = entry["command"], entry["args"]
    return StdioServerParameters(command=command, args=args)


async def list_tools(params: StdioServerParameters) -> list[str]:
    async with Client(params) as client:
        return [t.name for t in (await client.list_tools()).tools]


@pytest.mark.parametrize("client", CLIENT_NAMES)
def test_each_client_config_is_written_read_back_and_starts_the_server(client, home, project):
    result = install_client({"client": client, "project_dir": str(project), "launcher": "venv"})
    spec = next(s for s in CLIENTS if s.name == client)
    path = Path(result.path)
    assert result.action == "created"
    assert result.scope == ("project" if spec.project_file else "user")
    assert path == (project / spec.project_file if spec.project_file else spec.user_file())
    written = json.loads(path.read_text())
    entry = written[spec.servers_key]["omgml"]
    if client == "opencode":
        assert written["$schema"] == "https://opencode.ai/config.json"
    if client in ("claude-code", "vscode"):
        assert entry["type"] == "stdio"
    tools = anyio.run(list_tools, launch_from(client, entry))
    assert tools == [spec.fn.__name__ for spec in TOOLS]


def test_install_merges_backs_up_and_is_idempotent(home, project):
    config = project / ".cursor" / "mcp.json"
    config.parent.mkdir()
    original = {"mcpServers": {"github": {"command": "gh-mcp", "args": []}}, "theme": "dark"}
    config.write_text(json.dumps(original))
    first = install_client({"client": "cursor", "project_dir": str(project), "launcher": "venv"})
    assert first.action == "updated"
    merged = json.loads(config.read_text())
    assert merged["mcpServers"]["github"] == original["mcpServers"]["github"]
    assert merged["theme"] == "dark" and "omgml" in merged["mcpServers"]
    assert json.loads(Path(first.backup).read_text()) == original
    second = install_client({"client": "cursor", "project_dir": str(project), "launcher": "venv"})
    assert (second.action, second.backup, second.diff) == ("unchanged", None, "")
    assert len(list(config.parent.glob("*.omgml-backup"))) == 1


def test_dry_run_prints_the_change_and_writes_nothing(home, project):
    result = install_client({"client": "vscode", "project_dir": str(project), "dry_run": True, "launcher": "venv"})
    assert result.action == "created" and result.dry_run
    assert '+  "servers": {' in result.diff
    assert not (project / ".vscode").exists()


def test_malformed_json_is_refused_and_left_untouched(home, project):
    config = project / ".mcp.json"
    config.write_text('{"mcpServers": {"a": 1},}')
    with pytest.raises(
        ConfigFileError, match=r"\.mcp\.json is not valid JSON .*will not overwrite a file it cannot read"
    ):
        install_client({"client": "claude-code", "project_dir": str(project), "launcher": "venv"})
    assert config.read_text() == '{"mcpServers": {"a": 1},}'
    assert list(project.iterdir()) == [config]


def test_uninstall_removes_only_our_entry(home, project):
    config = project / "opencode.json"
    config.write_text(json.dumps({"mcp": {"other": {"type": "local", "command": ["x"]}}, "model": "m"}))
    install_client({"client": "opencode", "project_dir": str(project), "launcher": "venv"})
    removed = uninstall_client({"client": "opencode", "project_dir": str(project)})
    assert removed.action == "removed" and removed.backup
    assert json.loads(config.read_text()) == {"mcp": {"other": {"type": "local", "command": ["x"]}}, "model": "m"}
    again = uninstall_client({"client": "opencode", "project_dir": str(project)})
    assert again.action == "unchanged"
    assert uninstall_client({"client": "cursor", "project_dir": str(project)}).action == "absent"


def test_user_scope_of_claude_code_keeps_the_rest_of_claude_json(home, project):
    (home / ".claude.json").write_text(json.dumps({"numStartups": 42, "projects": {"/x": {"mcpServers": {}}}}))
    install_client({"client": "claude-code", "scope": "user"})
    data = json.loads((home / ".claude.json").read_text())
    assert data["numStartups"] == 42 and data["projects"] == {"/x": {"mcpServers": {}}}
    assert data["mcpServers"]["omgml"]["type"] == "stdio"


def test_client_without_project_scope_is_refused(home, project):
    with pytest.raises(InvalidInput, match="Cline has no project-scoped MCP config.*Fix: use --scope user"):
        install_client({"client": "cline", "scope": "project", "project_dir": str(project)})


def test_unknown_client_lists_the_valid_ones(home):
    with pytest.raises(
        InvalidInput,
        match="Unknown client 'emacs'.*use one of: claude-code, cursor, cline, opencode, vscode, claude-desktop",
    ):
        install_client({"client": "emacs"})


def test_skills_are_copied_where_each_client_looks(home, project):
    result = install_skills({"clients": ["claude-code", "vscode", "opencode"], "project_dir": str(project)})
    for folder in (".claude/skills", ".github/skills", ".agents/skills"):
        assert (project / folder / "omgml" / "SKILL.md").is_file()
        assert (project / folder / "ml-project-lifecycle" / "SKILL.md").is_file()
    assert not result.conflicts and result.created
    installed_root = project / ".claude/skills/omgml/SKILL.md"
    for link in re.findall(r"\]\(([^)#:]+)\)", installed_root.read_text()):
        assert (installed_root.parent / link).exists(), f"installed root skill links to missing {link}"
    again = install_skills({"clients": ["claude-code"], "project_dir": str(project)})
    assert again.created == [] and again.unchanged
    mine = project / ".claude/skills/omgml/SKILL.md"
    mine.write_text("my edits")
    kept = install_skills({"clients": ["claude-code"], "project_dir": str(project)})
    assert kept.conflicts == [str(mine)] and mine.read_text() == "my edits"
    forced = install_skills({"clients": ["claude-code"], "project_dir": str(project), "force": True})
    assert forced.replaced == [str(mine)] and mine.read_text() != "my edits"
    user = install_skills({"clients": ["claude-code"], "scope": "user"})
    assert user.folders == [str(home / ".claude/skills")]


def test_doctor_reports_install_server_and_clients(home, project):
    install_client({"client": "vscode", "project_dir": str(project), "launcher": "venv"})
    (home / ".cursor").mkdir()
    (home / ".cursor" / "mcp.json").write_text("{broken")
    report = doctor(str(project))
    assert report.healthy and report.assets_ok and report.server_ok
    assert report.server_tools == [spec.fn.__name__ for spec in TOOLS]
    checks = {(c.client, c.scope): c for c in report.clients}
    assert checks[("vscode", "project")].configured
    assert not checks[("cursor", "project")].configured
    assert checks[("cursor", "user")].problem.startswith("not valid JSON")


def test_cli_install_json_and_errors(home, project):
    done = run_cli("install", "cursor", "--launcher", "venv", "--project-dir", str(project), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == "created"
    (project / ".vscode").mkdir()
    (project / ".vscode" / "mcp.json").write_text("// a comment\n{}")
    refused = run_cli("install", "vscode", "--launcher", "venv", "--project-dir", str(project))
    assert refused.returncode == 2
    assert refused.stderr.startswith("omgml: error: ") and len(refused.stderr.strip().splitlines()) == 1
