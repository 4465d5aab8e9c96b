"""``omgml install|uninstall|skills install|doctor``: merging into each agent's own config format."""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path, PurePosixPath, PureWindowsPath

import anyio
import pytest
from mcp import Client, StdioServerParameters

from omgml.errors import InvalidInput, PathError
from omgml.install import service
from omgml.install.clients import CLIENT_NAMES, CLIENTS, client_spec
from omgml.install.doctor import doctor
from omgml.install.formats import load
from omgml.install.launcher import installed_source
from omgml.install.service import ConfigFileError, install_skills, uninstall_client
from omgml.mcp.tools import TOOLS
from omgml.workspace import atomic_write, create_new
from tests.conftest import REPO, run_cli

CLIENT_ENV_VARS = (
    "XDG_CONFIG_HOME",
    "CLINE_MCP_SETTINGS_PATH",
    "CLINE_DATA_DIR",
    "CLINE_DIR",
    "CODEX_HOME",
    "VSCODE_PORTABLE",
    "VSCODE_APPDATA",
)


def install_client(request: dict, **options):
    """These tests are about each client's format, not the launcher: the tests' omgml is an editable checkout (a
    local source), which ``auto`` keeps out of project files, so they ask for this venv's server (test_launcher.py
    covers ``auto``)."""
    return service.install_client({"launcher": "venv", **request}, **options)


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in CLIENT_ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    return folder


def read_entry(client: str, path: Path) -> dict:
    """omgml's entry, parsed from the file the way the client reads it (JSON, TOML or YAML)."""
    spec = client_spec(client)
    config = load(spec.format, path.read_text(), str(path))
    servers = config[spec.servers_key]
    if spec.servers_list:
        (entry,) = [s for s in servers if s["name"] == "omgml"]
        return entry
    return servers["omgml"]


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
    result = install_client({"client": client, "project_dir": str(project)})
    spec = next(s for s in CLIENTS if s.name == client)
    path = Path(result.path)
    assert result.action == "created"
    assert result.scope == ("project" if spec.project_file else "user")
    assert path == (project / spec.project_file if spec.project_file else spec.user_file())
    entry = read_entry(client, path)
    if client == "opencode":
        assert json.loads(path.read_text())["$schema"] == "https://opencode.ai/config.json"
    if client in ("claude-code", "vscode"):
        assert entry["type"] == "stdio"
    tools = anyio.run(list_tools, launch_from(client, entry))
    assert tools == [spec.fn.__name__ for spec in TOOLS]


def test_install_merges_backs_up_and_is_idempotent(home, project):
    config = project / ".cursor" / "mcp.json"
    config.parent.mkdir()
    original = {"mcpServers": {"github": {"command": "gh-mcp", "args": []}}, "theme": "dark"}
    config.write_text(json.dumps(original))
    first = install_client({"client": "cursor", "project_dir": str(project)})
    assert first.action == "updated"
    merged = json.loads(config.read_text())
    assert merged["mcpServers"]["github"] == original["mcpServers"]["github"]
    assert merged["theme"] == "dark" and "omgml" in merged["mcpServers"]
    assert json.loads(Path(first.backup).read_text()) == original
    assert Path(first.backup).parent == project / ".omgml" / "backups"
    second = install_client({"client": "cursor", "project_dir": str(project)})
    assert (second.action, second.backup, second.diff) == ("unchanged", None, "")
    assert sorted(p.name for p in (project / ".omgml" / "backups").iterdir()) == [".gitignore", Path(first.backup).name]
    assert sorted(p.name for p in config.parent.iterdir()) == ["mcp.json"]


def test_dry_run_prints_the_change_and_writes_nothing(home, project):
    result = install_client({"client": "vscode", "project_dir": str(project), "dry_run": True})
    assert result.action == "created" and result.dry_run
    assert '+  "servers": {' in result.diff
    assert not (project / ".vscode").exists()


def test_malformed_json_is_refused_and_left_untouched(home, project):
    config = project / ".mcp.json"
    config.write_text('{"mcpServers": {"a": 1},}')
    with pytest.raises(
        ConfigFileError, match=r"\.mcp\.json is not valid JSON .*will not overwrite a file it cannot read"
    ):
        install_client({"client": "claude-code", "project_dir": str(project)})
    assert config.read_text() == '{"mcpServers": {"a": 1},}'
    assert list(project.iterdir()) == [config]


def test_uninstall_removes_only_our_entry(home, project):
    config = project / "opencode.json"
    config.write_text(json.dumps({"mcp": {"other": {"type": "local", "command": ["x"]}}, "model": "m"}))
    install_client({"client": "opencode", "project_dir": str(project)})
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
        match="Unknown client 'emacs'.*use one of: claude-code, cursor, cline, opencode, vscode, claude-desktop, "
        "codex, gemini, continue",
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
    install_client({"client": "vscode", "project_dir": str(project)})
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


# --- per-OS user paths, and docs/clients.md as their documented table ---------------------------------------

OS_ENV = {
    "linux": {"HOME": "/home/u"},
    "darwin": {"HOME": "/Users/u"},
    "win32": {"USERPROFILE": r"C:\Users\u", "APPDATA": r"C:\Users\u\AppData\Roaming"},
}
DOC_OS = {"Linux": "linux", "macOS": "darwin", "Windows": "win32"}


@pytest.mark.parametrize(
    ("client", "platform", "env", "expected"),
    [
        ("vscode", "linux", {"HOME": "/home/u"}, "/home/u/.config/Code/User/mcp.json"),
        ("vscode", "linux", {"HOME": "/home/u", "XDG_CONFIG_HOME": "/x"}, "/x/Code/User/mcp.json"),
        ("vscode", "darwin", {"HOME": "/Users/u"}, "/Users/u/Library/Application Support/Code/User/mcp.json"),
        ("vscode", "win32", OS_ENV["win32"], r"C:\Users\u\AppData\Roaming\Code\User\mcp.json"),
        ("vscode", "darwin", {"HOME": "/Users/u", "VSCODE_PORTABLE": "/p"}, "/p/user-data/User/mcp.json"),
        ("vscode", "linux", {"HOME": "/h", "VSCODE_APPDATA": "/a"}, "/a/Code/User/mcp.json"),
        (
            "claude-desktop",
            "darwin",
            {"HOME": "/Users/u"},
            "/Users/u/Library/Application Support/Claude/claude_desktop_config.json",
        ),
        ("claude-desktop", "win32", OS_ENV["win32"], r"C:\Users\u\AppData\Roaming\Claude\claude_desktop_config.json"),
        ("cursor", "win32", OS_ENV["win32"], r"C:\Users\u\.cursor\mcp.json"),
        ("cline", "linux", {"HOME": "/h"}, "/h/.cline/data/settings/cline_mcp_settings.json"),
        ("cline", "linux", {"HOME": "/h", "CLINE_DIR": "/c"}, "/c/data/settings/cline_mcp_settings.json"),
        ("cline", "linux", {"HOME": "/h", "CLINE_DATA_DIR": "/d"}, "/d/settings/cline_mcp_settings.json"),
        ("cline", "win32", {"USERPROFILE": "C:\\u", "CLINE_MCP_SETTINGS_PATH": "D:\\m.json"}, "D:\\m.json"),
        ("opencode", "darwin", {"HOME": "/Users/u"}, "/Users/u/.config/opencode/opencode.json"),
        ("opencode", "win32", OS_ENV["win32"], r"C:\Users\u\.config\opencode\opencode.json"),
        ("codex", "linux", {"HOME": "/h"}, "/h/.codex/config.toml"),
        ("codex", "linux", {"HOME": "/h", "CODEX_HOME": "/ch"}, "/ch/config.toml"),
        ("gemini", "win32", OS_ENV["win32"], r"C:\Users\u\.gemini\settings.json"),
        ("continue", "darwin", {"HOME": "/Users/u"}, "/Users/u/.continue/mcpServers/omgml.yaml"),
    ],
)
def test_user_paths_per_os(client, platform, env, expected):
    found = client_spec(client).user_file(platform, env)
    assert found == (PureWindowsPath if platform == "win32" else PurePosixPath)(expected)


def doc_rows() -> list[dict[str, str]]:
    text = (REPO / "docs" / "clients.md").read_text()
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[1:]]
    return [r for r in rows if not set(r["client"]) <= {"-"}]


def doc_path(text: str, platform: str) -> PurePosixPath | PureWindowsPath:
    """A documented path spelled with ``~``, ``%APPDATA%`` and ``$XDG_CONFIG_HOME``, for the OS_ENV home."""
    env = OS_ENV[platform]
    home = env.get("USERPROFILE") or env["HOME"]
    text = text.strip("`")
    text = text.replace("$XDG_CONFIG_HOME", "~/.config").replace("%APPDATA%", env.get("APPDATA", ""))
    text = re.sub(r"^~", lambda _: home, text)
    return (PureWindowsPath if platform == "win32" else PurePosixPath)(text)


def test_docs_clients_table_matches_every_client_scope_and_os():
    rows = doc_rows()
    assert {r["client"] for r in rows} == set(CLIENT_NAMES), "docs/clients.md must list every client omgml supports"
    for spec in CLIENTS:
        scopes = {r["scope"] for r in rows if r["client"] == spec.name}
        assert scopes == {s for s, has in (("project", spec.project_file), ("user", spec.user_path)) if has}, spec.name
    for row in rows:
        spec = client_spec(row["client"])
        assert row["documented source"], f"{row['client']} {row['scope']} has no source"
        if row["scope"] == "project":
            assert row["path"].strip("`") == spec.project_file
            continue
        platforms = DOC_OS.values() if row["OS"] == "all" else [DOC_OS[row["OS"]]]
        for platform in platforms:
            assert spec.user_file(platform, OS_ENV[platform]) == doc_path(row["path"], platform), (row, platform)
    for spec in CLIENTS:  # every OS is covered for every user-scope client
        covered = {r["OS"] for r in rows if r["client"] == spec.name and r["scope"] == "user"}
        assert not spec.user_path or covered == {"all"} or covered == set(DOC_OS), spec.name


# --- the new targets, on their documented formats ---------------------------------------------------------


def test_codex_toml_table_is_written_and_the_rest_of_the_file_kept(home, project):
    user_file = home / ".codex" / "config.toml"
    user_file.parent.mkdir()
    original = (
        '# my codex settings\nmodel = "o4"\n\n[mcp_servers.github]\ncommand = "gh-mcp" # inline comment\n\n'
        '[projects."/abs/p"]\ntrust_level = "trusted"\n'
    )
    user_file.write_text(original)
    result = install_client({"client": "codex", "scope": "user"})
    text = user_file.read_text()
    assert text.startswith(original.rstrip("\n")), "the user's lines, comments included, stay as they were"
    data = tomllib.loads(text)
    entry = data["mcp_servers"]["omgml"]
    assert set(entry) == {"command", "args", "startup_timeout_sec", "tool_timeout_sec"}  # McpServerConfig keys
    assert (entry["startup_timeout_sec"], entry["tool_timeout_sec"]) == (60, 600)
    assert isinstance(entry["args"], list) and entry["command"] == result.entry["command"]
    assert data["mcp_servers"]["github"] == {"command": "gh-mcp"} and data["model"] == "o4"
    assert data["projects"] == {"/abs/p": {"trust_level": "trusted"}}
    # the user edits omgml's table (a sub-table, odd strings); a re-install keeps it and stays valid TOML
    user_file.write_text(
        text.replace("tool_timeout_sec = 600", 'tool_timeout_sec = 900\nenabled_tools = ["a \\"q\\"", "b\\\\c"]')
        + '\n[mcp_servers.omgml.env]\nTOKEN = "x y"\n"odd key" = "\\u007f"\n\n[after]\nkeep = true\n'
    )
    again = install_client({"client": "codex", "scope": "user", "launcher": "uvx"})
    data = tomllib.loads(user_file.read_text())
    entry = data["mcp_servers"]["omgml"]
    assert again.action == "updated" and entry["args"] == ["--from", installed_source().uvx_from, "omgml-mcp"]
    assert entry["tool_timeout_sec"] == 900 and entry["enabled_tools"] == ['a "q"', "b\\c"]
    assert entry["env"] == {"TOKEN": "x y", "odd key": "\x7f"} and data["after"] == {"keep": True}
    assert install_client({"client": "codex", "scope": "user", "launcher": "uvx"}).action == "unchanged"
    removed = uninstall_client({"client": "codex", "scope": "user"})
    data = tomllib.loads(user_file.read_text())
    assert removed.action == "removed" and "omgml" not in data["mcp_servers"] and data["after"] == {"keep": True}


def test_codex_entry_as_inline_table_is_refused_not_mangled(home, project):
    config = project / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('mcp_servers.omgml = { command = "old" }\n')
    with pytest.raises(ConfigFileError, match=r"omgml's entry is not a plain \[mcp_servers\.omgml\] table"):
        install_client({"client": "codex", "project_dir": str(project)})
    assert config.read_text() == 'mcp_servers.omgml = { command = "old" }\n'
    config.write_text("[broken\n")
    with pytest.raises(ConfigFileError, match=r"config\.toml is not valid TOML"):
        install_client({"client": "codex", "project_dir": str(project)})


def test_codex_project_scope_and_next_step(home, project):
    result = install_client({"client": "codex", "project_dir": str(project)})
    assert result.path == str(project / ".codex" / "config.toml")
    assert set(tomllib.loads(Path(result.path).read_text())) == {"mcp_servers"}
    assert "trusted project" in result.next_step


def test_gemini_settings_entry(home, project):
    result = install_client({"client": "gemini", "project_dir": str(project)})
    written = json.loads((project / ".gemini" / "settings.json").read_text())
    entry = written["mcpServers"]["omgml"]
    assert entry["timeout"] == 600000  # ms (google-gemini/gemini-cli docs/tools/mcp-server.md)
    assert set(entry) <= {"command", "args", "env", "cwd", "timeout", "trust", "includeTools", "excludeTools"}
    assert "untrusted folder" in result.next_step
    user = install_client({"client": "gemini", "scope": "user"})
    assert user.path == str(home / ".gemini" / "settings.json")


def test_continue_block_file(home, project):
    import yaml

    result = install_client({"client": "continue", "project_dir": str(project)})
    path = project / ".continue" / "mcpServers" / "omgml.yaml"
    block = yaml.safe_load(path.read_text())
    # block files need name, version and schema (continuedev/continue packages/config-yaml)
    assert block["name"] == "omgml" and block["schema"] == "v1" and isinstance(block["version"], str)
    (server,) = block["mcpServers"]
    assert server["name"] == "omgml" and server["type"] == "stdio"
    assert (server["command"], server["args"]) == (result.entry["command"], result.entry["args"])
    block["mcpServers"][0]["env"] = {"A": "1"}
    block["mcpServers"].append({"name": "other", "command": "x"})
    path.write_text(yaml.safe_dump(block))
    install_client({"client": "continue", "project_dir": str(project), "launcher": "uvx"})
    block = yaml.safe_load(path.read_text())
    assert [s["name"] for s in block["mcpServers"]] == ["omgml", "other"]
    assert block["mcpServers"][0]["env"] == {"A": "1"} and block["mcpServers"][0]["command"] == "uvx"
    uninstall_client({"client": "continue", "project_dir": str(project)})
    assert [s["name"] for s in yaml.safe_load(path.read_text())["mcpServers"]] == ["other"]
    uninstall_client({"client": "continue", "project_dir": str(project)})
    path.write_text(yaml.safe_dump({"name": "omgml", "version": "1", "schema": "v1", "mcpServers": [server]}))
    assert uninstall_client({"client": "continue", "project_dir": str(project)}).action == "removed"
    assert not path.exists(), "omgml's own block file goes with its last entry"


# --- Claude Desktop's project, re-install merging, timeouts -----------------------------------------------


def test_claude_desktop_gets_the_absolute_project_dir(home, project, monkeypatch):
    monkeypatch.chdir(project.parent)
    result = install_client({"client": "claude-desktop", "project_dir": project.name})
    entry = read_entry("claude-desktop", Path(result.path))
    assert entry["env"] == {"OMGML_PROJECT_DIR": str(project.resolve())}
    assert Path(entry["env"]["OMGML_PROJECT_DIR"]).is_absolute()


def test_claude_desktop_is_not_pinned_to_the_home_folder(home, monkeypatch):
    """Claude Desktop starts servers in '/': the folder the install names is the server's whole workspace."""
    monkeypatch.chdir(home)
    with pytest.raises(PathError, match=r"claude-desktop would be pinned to .*, the home folder.*--project-dir"):
        install_client({"client": "claude-desktop", "project_dir": "."})
    assert not list(home.rglob("claude_desktop_config.json"))


@pytest.mark.parametrize("client", ["cline", "cursor", "claude-desktop", "opencode", "gemini"])
def test_reinstall_keeps_what_the_user_added_to_our_entry(client, home, project):
    first = install_client({"client": client, "scope": "user", "project_dir": str(project)})
    path = Path(first.path)
    config = json.loads(path.read_text())
    spec = client_spec(client)
    entry = config[spec.servers_key]["omgml"]
    entry[spec.env_key] = {**entry.get(spec.env_key, {}), "HF_TOKEN": "secret"}
    entry.update({"autoApprove": ["omgml_status"], "disabled": True, "timeout": 30, "x-mine": {"k": 1}})
    path.write_text(json.dumps(config))
    second = install_client({"client": client, "scope": "user", "project_dir": str(project), "launcher": "uvx"})
    kept = read_entry(client, path)
    assert second.action == "updated" and second.entry == kept
    assert kept[spec.env_key]["HF_TOKEN"] == "secret"
    assert (kept["autoApprove"], kept["disabled"], kept["timeout"], kept["x-mine"]) == (
        ["omgml_status"],
        True,
        30,
        {"k": 1},
    )
    assert "uvx" in json.dumps(kept["command"]), "omgml's own keys are refreshed"
    if spec.project_env:
        assert kept["env"]["OMGML_PROJECT_DIR"] == str(project.resolve())


def test_cline_and_opencode_timeouts(home, project):
    cline = install_client({"client": "cline"}).entry
    assert cline["timeout"] == 600  # seconds; without one Cline gives initialize 3 s
    assert (cline["disabled"], cline["autoApprove"]) == (False, [])
    opencode = install_client({"client": "opencode", "project_dir": str(project)}).entry
    assert opencode["timeout"] == 60000 and opencode["enabled"] is True  # ms (opencode default 5000)


def test_claude_code_project_install_says_how_to_approve(home, project):
    assert "approve 'omgml'" in install_client({"client": "claude-code", "project_dir": str(project)}).next_step
    assert install_client({"client": "claude-code", "scope": "user"}).next_step is None
    shown = run_cli(
        "install",
        "claude-code",
        "--launcher",
        "venv",
        "--project-dir",
        str(project),
        "--dry-run",
        env={"HOME": str(home)},
    )
    assert shown.returncode == 0, shown.stderr
    assert "Next: Claude Code asks once" in shown.stdout


# --- backups ----------------------------------------------------------------------------------------------


def test_backups_are_named_kept_private_and_never_overwritten(home, project, monkeypatch):
    from datetime import datetime

    from omgml.install import service

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=tz)

    monkeypatch.setattr(service, "datetime", Frozen)
    user_file = home / ".claude.json"
    user_file.write_text("{}")
    user_file.chmod(0o600)
    first = install_client({"client": "claude-code", "scope": "user"})
    uninstall_client({"client": "claude-code", "scope": "user"})
    third = install_client({"client": "claude-code", "scope": "user"})
    backups = sorted((home / ".omgml" / "backups").iterdir())
    assert [b.name for b in backups] == [
        "claude-code-20260102T030405000006Z-.claude.json",
        "claude-code-20260102T030405000006Z-2-.claude.json",
        "claude-code-20260102T030405000006Z-3-.claude.json",
    ]
    assert first.backup == str(backups[0]) and third.backup == str(backups[2])
    assert backups[0].read_text() == "{}" and "omgml" in backups[1].read_text()
    assert {stat.S_IMODE(b.stat().st_mode) for b in backups} == {0o600}
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o600, "a replaced config keeps its mode"
    install_client({"client": "cursor", "project_dir": str(project)})
    install_client({"client": "cursor", "project_dir": str(project), "launcher": "uvx"})
    folder = project / ".omgml" / "backups"
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert [p.name for p in folder.iterdir() if p.name != ".gitignore"] == ["cursor-20260102T030405000006Z-mcp.json"]


# --- file modes follow the umask ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)], ids=["022", "077", "002"]
)
def test_written_files_get_the_umask_mode(umask, expected, tmp_path, home, project):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "a.txt", "a")
        assert create_new(tmp_path / "b.txt", "b")
        assert create_new(tmp_path / "run.sh", "#!/bin/sh\n", 0o777)
        config = Path(install_client({"client": "vscode", "project_dir": str(project)}).path)
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        kept.chmod(0o640)
        atomic_write(kept, "{}\n")
    finally:
        os.umask(old)
    for path in (tmp_path / "a.txt", tmp_path / "b.txt", config):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert stat.S_IMODE((tmp_path / "run.sh").stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_file_where_the_backups_go_is_named(home, project):
    from omgml.errors import PathError

    (project / ".mcp.json").write_text("{}")
    (project / ".omgml").write_text("not a folder")
    with pytest.raises(PathError, match=r"\.omgml is a file, not a folder"):
        install_client({"client": "claude-code", "project_dir": str(project)})
    assert (project / ".mcp.json").read_text() == "{}"


def test_doctor_reads_and_starts_the_toml_and_yaml_entries(home, project):
    for client in ("codex", "continue", "gemini"):
        install_client({"client": client, "project_dir": str(project)})
    checks = {(c.client, c.scope): c for c in doctor(str(project)).clients}
    for client in ("codex", "continue", "gemini"):
        check = checks[(client, "project")]
        assert (check.configured, check.status, check.problem) == (True, "ok", None), check
