"""CLI commands that put omgml into agents: ``install``, ``uninstall``, ``skills install``, ``doctor``."""

from __future__ import annotations

from typing import Annotated

import typer

from omgml.args import DryRun, ProjectDir
from omgml.cli._common import JsonFlag, argument, emit, option
from omgml.install.models import ClientName, Force, LauncherChoice, ScopeChoice, SkillClients, SkillScope

ClientArg = Annotated[str, argument(ClientName)]
ScopeOpt = Annotated[str | None, option(ScopeChoice, "--scope")]
ProjectOpt = Annotated[str, option(ProjectDir, "--project-dir")]
DryRunOpt = Annotated[bool, option(DryRun, "--dry-run")]


def install(
    client: ClientArg,
    scope: ScopeOpt = None,
    launcher: Annotated[str, option(LauncherChoice)] = "auto",
    project_dir: ProjectOpt = ".",
    dry_run: DryRunOpt = False,
    as_json: JsonFlag = False,
) -> None:
    """Add omgml's MCP server to an agent's config, keeping its other servers (a backup is written)."""
    from omgml.install.service import install_client

    emit(
        install_client(
            {"client": client, "scope": scope, "launcher": launcher, "project_dir": project_dir, "dry_run": dry_run}
        ),
        as_json,
    )


def uninstall(
    client: ClientArg,
    scope: ScopeOpt = None,
    project_dir: ProjectOpt = ".",
    dry_run: DryRunOpt = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove only omgml's entry from an agent's MCP config."""
    from omgml.install.service import uninstall_client

    emit(uninstall_client({"client": client, "scope": scope, "project_dir": project_dir, "dry_run": dry_run}), as_json)


def skills_install(
    client: Annotated[list[str], option(SkillClients, "--client", note="Repeatable.")] = ["claude-code"],  # noqa: B006
    scope: Annotated[str, option(SkillScope, "--scope")] = "project",
    project_dir: ProjectOpt = ".",
    force: Annotated[bool, option(Force, "--force")] = False,
    dry_run: DryRunOpt = False,
    as_json: JsonFlag = False,
) -> None:
    """Copy omgml's skills where each agent looks (.claude/skills, .agents/skills, .github/skills)."""
    from omgml.install.service import install_skills

    emit(
        install_skills(
            {
                "clients": client,
                "scope": scope,
                "project_dir": project_dir,
                "force": force,
                "dry_run": dry_run,
            }
        ),
        as_json,
    )


def doctor(project_dir: ProjectOpt = ".", as_json: JsonFlag = False) -> None:
    """Check the install, start the server and list its tools, and show which agents are configured."""
    from omgml.install.doctor import doctor as run_doctor

    report = run_doctor(project_dir)
    emit(report, as_json)
    if not report.healthy:
        raise typer.Exit(1)
