"""Where each agent keeps its MCP servers and skills, and the shape of its entry: one spec per client.

Sources for every path and shape are in docs/clients.md (a test keeps that table and ``CLIENTS`` in step).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Literal

from omgml._version import __version__

if TYPE_CHECKING:
    from omgml.install.launcher import Choice

SERVER_NAME = "omgml"


@dataclass(frozen=True)
class Launch:
    """How a client starts the server: ``command`` plus ``args``."""

    command: str
    args: tuple[str, ...]


def launch_for(launcher: str, scope: str, file: str | Path) -> Choice:
    """How a client in ``scope`` starts omgml, as a ``launcher.Choice`` (the launch, which launcher, and why).

    The rule (auto, venv, uvx; project files hold no path of this machine) is in ``omgml.install.launcher``."""
    from omgml.install.launcher import choose

    return choose(launcher, scope, file)


class Where:
    """One OS's view of the user's folders, from an env mapping: the platform is data, so tests cover all three."""

    def __init__(self, platform: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self.platform = platform or sys.platform
        self.env = os.environ if env is None else env
        self.windows = self.platform == "win32"
        self.path = PureWindowsPath if self.windows else PurePosixPath

    def var(self, name: str) -> PurePath | None:
        value = self.env.get(name)
        return self.path(value) if value else None

    @property
    def home(self) -> PurePath:
        found = self.var("USERPROFILE" if self.windows else "HOME")
        return found or self.path(Path.home())

    @property
    def xdg_config(self) -> PurePath:
        # opencode uses xdg-basedir on every OS, so on Windows too this is %USERPROFILE%\.config.
        return self.var("XDG_CONFIG_HOME") or self.home / ".config"

    @property
    def app_data(self) -> PurePath:
        """Where desktop apps keep per-user settings (Electron's ``appData``)."""
        if self.windows:
            return self.var("APPDATA") or self.home / "AppData" / "Roaming"
        if self.platform == "darwin":
            return self.home / "Library" / "Application Support"
        return self.xdg_config


def _home() -> Path:
    return Path(Where().home)


def _claude_desktop(w: Where) -> PurePath:
    # No official Linux build: community builds read the XDG folder, as app_data gives.
    return w.app_data / "Claude" / "claude_desktop_config.json"


def _vscode(w: Where) -> PurePath:
    # microsoft/vscode src/vs/platform/environment/node/userDataPath: portable, then VSCODE_APPDATA, then the OS folder.
    if portable := w.var("VSCODE_PORTABLE"):
        return portable / "user-data" / "User" / "mcp.json"
    return (w.var("VSCODE_APPDATA") or w.app_data) / "Code" / "User" / "mcp.json"


def _cline(w: Where) -> PurePath:
    # cline/cline sdk/packages/shared/src/storage/paths.ts resolveMcpSettingsPath.
    if explicit := w.var("CLINE_MCP_SETTINGS_PATH"):
        return explicit
    data = w.var("CLINE_DATA_DIR") or (w.var("CLINE_DIR") or w.home / ".cline") / "data"
    return data / "settings" / "cline_mcp_settings.json"


def _codex(w: Where) -> PurePath:
    return (w.var("CODEX_HOME") or w.home / ".codex") / "config.toml"


def _under_home(*parts: str) -> Callable[[Where], PurePath]:
    return lambda w: w.home.joinpath(*parts)


def _stdio(launch: Launch) -> dict:
    return {"type": "stdio", "command": launch.command, "args": list(launch.args)}


def _plain(launch: Launch) -> dict:
    return {"command": launch.command, "args": list(launch.args)}


def _opencode(launch: Launch) -> dict:
    return {"type": "local", "command": [launch.command, *launch.args]}


def _continue(launch: Launch) -> dict:
    return {"name": SERVER_NAME, "type": "stdio", "command": launch.command, "args": list(launch.args)}


@dataclass(frozen=True)
class ClientSpec:
    name: str
    label: str
    servers_key: str  # the top-level key holding the servers
    entry: Callable[[Launch], dict]  # the keys omgml owns: rewritten on every install
    project_file: str | None  # relative to the project; None when the client has no project scope
    user_path: Callable[[Where], PurePath] | None
    skills_project: str  # where its skills live in a project
    skills_user: str  # ... and under the home folder
    new_file: dict = field(default_factory=dict)  # top-level keys a new file starts with
    defaults: dict = field(default_factory=dict)  # keys set only when absent, so the user's choice stays
    env_key: str = "env"  # the entry's environment map
    format: Literal["json", "toml", "yaml"] = "json"
    servers_list: bool = False  # servers are a list of entries with a ``name`` (Continue), not a map
    project_env: bool = False  # the client starts servers with cwd "/": pass the project as OMGML_PROJECT_DIR
    next_step: Mapping[str, str] = field(default_factory=dict)  # scope -> what the user must do before it starts

    def user_file(self, platform: str | None = None, env: Mapping[str, str] | None = None) -> Path | PurePath:
        """The user-scope config on ``platform`` (default: this machine) with ``env`` (default: os.environ)."""
        assert self.user_path is not None, f"{self.name} has no user scope"
        found = self.user_path(Where(platform, env))
        return Path(found) if (platform or sys.platform) == sys.platform else found


_AGENTS = ".agents/skills"
CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec(
        "claude-code",
        "Claude Code",
        "mcpServers",
        _stdio,
        ".mcp.json",
        _under_home(".claude.json"),
        ".claude/skills",
        ".claude/skills",
        next_step={
            "project": "Claude Code asks once before starting servers from .mcp.json: run `claude` in this folder and "
            "approve 'omgml' (or use /mcp). `claude mcp get omgml` shows 'Pending approval' until then."
        },
    ),
    ClientSpec(
        "cursor",
        "Cursor",
        "mcpServers",
        _plain,
        ".cursor/mcp.json",
        _under_home(".cursor", "mcp.json"),
        _AGENTS,
        _AGENTS,
    ),
    ClientSpec(
        "cline",
        "Cline",
        "mcpServers",
        _plain,
        None,
        _cline,
        _AGENTS,
        _AGENTS,
        # Seconds. Without a timeout Cline gives initialize 3 s; a first uvx run needs more.
        defaults={"disabled": False, "autoApprove": [], "timeout": 600},
    ),
    ClientSpec(
        "opencode",
        "opencode",
        "mcp",
        _opencode,
        "opencode.json",
        lambda w: w.xdg_config / "opencode" / "opencode.json",
        _AGENTS,
        _AGENTS,
        new_file={"$schema": "https://opencode.ai/config.json"},
        defaults={"enabled": True, "timeout": 60000},  # ms to wait for the tool list (default 5000)
        env_key="environment",
    ),
    ClientSpec(
        "vscode",
        "VS Code (Copilot)",
        "servers",
        _stdio,
        ".vscode/mcp.json",
        _vscode,
        ".github/skills",
        ".copilot/skills",
    ),
    ClientSpec(
        "claude-desktop",
        "Claude Desktop",
        "mcpServers",
        _plain,
        None,
        _claude_desktop,
        ".claude/skills",
        ".claude/skills",
        project_env=True,
    ),
    ClientSpec(
        "codex",
        "Codex CLI",
        "mcp_servers",
        _plain,
        ".codex/config.toml",
        _codex,
        _AGENTS,
        _AGENTS,
        defaults={"startup_timeout_sec": 60, "tool_timeout_sec": 600},  # defaults 10 and 60
        format="toml",
        next_step={
            "project": "Codex reads .codex/config.toml only in a trusted project: trust this folder when codex asks, "
            'or add [projects."<this folder>"] trust_level = "trusted" to ~/.codex/config.toml.'
        },
    ),
    ClientSpec(
        "gemini",
        "Gemini CLI",
        "mcpServers",
        _plain,
        ".gemini/settings.json",
        _under_home(".gemini", "settings.json"),
        _AGENTS,
        _AGENTS,
        defaults={"timeout": 600000},  # ms per request
        next_step=dict.fromkeys(
            ("project", "user"),
            "Gemini CLI disables every MCP server (user-level ones too) in an untrusted folder: trust the folder "
            "when gemini asks (it is recorded in ~/.gemini/trustedFolders.json).",
        ),
    ),
    ClientSpec(
        "continue",
        "Continue",
        "mcpServers",
        _continue,
        ".continue/mcpServers/omgml.yaml",
        _under_home(".continue", "mcpServers", "omgml.yaml"),
        _AGENTS,
        _AGENTS,
        format="yaml",
        servers_list=True,
        new_file={"name": SERVER_NAME, "version": __version__, "schema": "v1"},  # a block file's required metadata
        next_step=dict.fromkeys(("project", "user"), "Continue uses MCP servers in agent mode only."),
    ),
)
CLIENT_NAMES: tuple[str, ...] = tuple(c.name for c in CLIENTS)


def client_spec(name: str) -> ClientSpec:
    from omgml.errors import InvalidInput

    for spec in CLIENTS:
        if spec.name == name:
            return spec
    raise InvalidInput(
        f"Unknown client '{name}'",
        "omgml knows how each supported agent stores its config",
        f"use one of: {', '.join(CLIENT_NAMES)}",
    )
