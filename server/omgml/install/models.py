"""Requests and results of installing omgml into agents."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from omgml.args import DryRun, ProjectDir, one_of
from omgml.install.clients import CLIENT_NAMES

Scope = Literal["project", "user"]
Launcher = Literal["auto", "venv", "uvx"]

# The arguments of install, uninstall and skills install, declared once: the requests and the CLI use these.
ClientName = Annotated[str, Field(description=f"{one_of(CLIENT_NAMES)}.")]
ScopeChoice = Annotated[
    Scope | None, Field(description=f"{one_of(get_args(Scope))} (default: project where the client has one).")
]
LauncherChoice = Annotated[
    Launcher,
    Field(
        description="auto: uvx --from <where this omgml came from> in project files when that source is portable, "
        "this install's omgml-mcp in user files; venv: this install's omgml-mcp by absolute path; "
        "uvx: uvx --from <that source> omgml-mcp."
    ),
]
SkillClients = Annotated[list[str], Field(description="Clients whose skill folders get a copy.")]
SkillScope = Annotated[Scope, Field(description=f"{one_of(get_args(Scope))}.")]
Force = Annotated[bool, Field(description="Replace skill files that differ from this omgml's.")]


class InstallRequest(BaseModel):
    client: ClientName
    scope: ScopeChoice = None
    project_dir: ProjectDir = "."
    launcher: LauncherChoice = "auto"
    dry_run: DryRun = False


class InstallResult(BaseModel):
    client: str
    scope: Scope
    path: str = Field(description="the config file")
    action: Literal["created", "updated", "unchanged", "removed", "absent"]
    backup: str | None = Field(description="copy of the file as it was before this change")
    dry_run: bool
    diff: str = Field(description="unified diff of the change; empty when nothing changes")
    entry: dict | None = Field(description="omgml's entry as written (None after uninstall)")
    launcher: Literal["venv", "uvx"] | None = Field(default=None, description="how the entry starts omgml")
    launcher_reason: str | None = Field(default=None, description="why that launcher was chosen")
    next_step: str | None = Field(None, description="what the user must do before the client starts the server")


class SkillsInstallRequest(BaseModel):
    clients: SkillClients = ["claude-code"]  # pydantic copies the default per instance
    scope: SkillScope = "project"
    project_dir: ProjectDir = "."
    force: Force = False
    dry_run: DryRun = False


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
    status: Literal["not configured", "unreadable", "disabled", "skipped", "ok", "failed"] = Field(
        default="not configured",
        description="ok: the configured command started and listed omgml's tools; failed: see problem",
    )
    command: str | None = Field(default=None, description="the command line as the client would run it")
    problem: str | None = Field(default=None, description="why it is not ok, and how to fix it")
    tools: list[str] | None = Field(default=None, description="tools the configured command listed")
    seconds: float | None = Field(default=None, description="time to start, initialize and list tools")


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
