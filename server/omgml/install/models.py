"""Requests and results of installing omgml into agents."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Scope = Literal["project", "user"]
Launcher = Literal["venv", "uvx"]


class InstallRequest(BaseModel):
    client: str = Field(description="claude-code, cursor, cline, opencode, vscode or claude-desktop")
    scope: Scope | None = Field(None, description="project or user; default: project where the client has one")
    project_dir: str = "."
    launcher: Launcher = Field("venv", description="venv: this install's omgml-mcp; uvx: uvx --from omgml omgml-mcp")
    dry_run: bool = False


class InstallResult(BaseModel):
    client: str
    scope: Scope
    path: str = Field(description="the config file")
    action: Literal["created", "updated", "unchanged", "removed", "absent"]
    backup: str | None = Field(description="copy of the file as it was before this change")
    dry_run: bool
    diff: str = Field(description="unified diff of the change; empty when nothing changes")
    entry: dict | None = Field(description="omgml's entry as written (None after uninstall)")


class SkillsInstallRequest(BaseModel):
    clients: list[str] = Field(
        default_factory=lambda: ["claude-code"], description="clients whose skill folders get a copy"
    )
    scope: Scope = "project"
    project_dir: str = "."
    force: bool = Field(False, description="replace skill files that differ from this omgml's")
    dry_run: bool = False


class SkillsInstallResult(BaseModel):
    folders: list[str] = Field(description="skill folders written to")
    created: list[str]
    unchanged: list[str]
    replaced: list[str]
    conflicts: list[str] = Field(description="files that differ and were left alone (use force to replace)")
    dry_run: bool


class ClientCheck(BaseModel):
    client: str
    scope: Scope
    path: str
    configured: bool
    command: str | None
    problem: str | None


class DoctorReport(BaseModel):
    omgml_version: str
    python: str
    executable: str
    assets_ok: bool
    dependencies: dict[str, str] = Field(description="package -> installed version, or 'missing'")
    server_ok: bool
    server_tools: list[str]
    server_error: str | None
    clients: list[ClientCheck]
    healthy: bool
