"""Where each agent keeps its MCP servers and skills, and the shape of its entry: one spec per client.

Sources for every path and shape are in docs/clients.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def _xdg_config() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config")


def _claude_desktop_config() -> Path:
    if sys.platform == "darwin":
        return _home() / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", _home())) / "Claude" / "claude_desktop_config.json"
    return _xdg_config() / "Claude" / "claude_desktop_config.json"


def _cline_settings() -> Path:
    # Cline 4.x keeps one machine-wide file here (it migrated the VS Code globalStorage one).
    if os.environ.get("CLINE_MCP_SETTINGS_PATH"):
        return Path(os.environ["CLINE_MCP_SETTINGS_PATH"])
    return _home() / ".cline" / "data" / "settings" / "cline_mcp_settings.json"


def _stdio(launch: Launch) -> dict:
    return {"type": "stdio", "command": launch.command, "args": list(launch.args)}


def _plain(launch: Launch) -> dict:
    return {"command": launch.command, "args": list(launch.args)}


def _cline(launch: Launch) -> dict:
    return {"command": launch.command, "args": list(launch.args), "disabled": False, "autoApprove": []}


def _opencode(launch: Launch) -> dict:
    return {"type": "local", "command": [launch.command, *launch.args], "enabled": True}


@dataclass(frozen=True)
class ClientSpec:
    name: str
    label: str
    servers_key: str  # the top-level key holding the server map
    entry: Callable[[Launch], dict]
    project_file: str | None  # relative to the project; None when the client has no project scope
    user_file: Callable[[], Path] | None
    new_file: dict  # top-level keys a new file starts with
    skills_project: str  # where its skills live in a project
    skills_user: str  # ... and under the home folder


CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec(
        "claude-code",
        "Claude Code",
        "mcpServers",
        _stdio,
        ".mcp.json",
        lambda: _home() / ".claude.json",
        {},
        ".claude/skills",
        ".claude/skills",
    ),
    ClientSpec(
        "cursor",
        "Cursor",
        "mcpServers",
        _plain,
        ".cursor/mcp.json",
        lambda: _home() / ".cursor" / "mcp.json",
        {},
        ".agents/skills",
        ".agents/skills",
    ),
    ClientSpec("cline", "Cline", "mcpServers", _cline, None, _cline_settings, {}, ".agents/skills", ".agents/skills"),
    ClientSpec(
        "opencode",
        "opencode",
        "mcp",
        _opencode,
        "opencode.json",
        lambda: _xdg_config() / "opencode" / "opencode.json",
        {"$schema": "https://opencode.ai/config.json"},
        ".agents/skills",
        ".agents/skills",
    ),
    ClientSpec(
        "vscode",
        "VS Code (Copilot)",
        "servers",
        _stdio,
        ".vscode/mcp.json",
        lambda: _xdg_config() / "Code" / "User" / "mcp.json",
        {},
        ".github/skills",
        ".copilot/skills",
    ),
    ClientSpec(
        "claude-desktop",
        "Claude Desktop",
        "mcpServers",
        _plain,
        None,
        _claude_desktop_config,
        {},
        ".claude/skills",
        ".claude/skills",
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
