"""CLI commands that put omgml into agents: ``install``, ``uninstall``, ``skills install``, ``doctor``."""

from __future__ import annotations

from typing import Annotated

import typer

from omgml.cli._common import JsonFlag, emit

ClientArg = Annotated[str, typer.Argument(help="claude-code, cursor, cline, opencode, vscode or claude-desktop.")]
ScopeOpt = Annotated[
    str | None, typer.Option("--scope", help="project or user (default: project where the client has one).")
]
ProjectOpt = Annotated[str, typer.Option("--project-dir", help="The project folder for project scope.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the change; write nothing.")]


def install(
    client: ClientArg,
    scope: ScopeOpt = None,
    launcher: Annotated[
        str, typer.Option(help="venv: this install's omgml-mcp; uvx: uvx --from omgml omgml-mcp.")
    ] = "venv",
    project_dir: ProjectOpt = ".",
    dry_run: DryRun = False,
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
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove only omgml's entry from an agent's MCP config."""
    from omgml.install.service import uninstall_client

    emit(uninstall_client({"client": client, "scope": scope, "project_dir": project_dir, "dry_run": dry_run}), as_json)


def skills_install(
    client: Annotated[list[str] | None, typer.Option("--client", help="Repeatable; default claude-code.")] = None,
    scope: Annotated[str, typer.Option("--scope", help="project or user.")] = "project",
    project_dir: ProjectOpt = ".",
    force: Annotated[bool, typer.Option("--force", help="Replace skill files that differ from this omgml's.")] = False,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Copy omgml's skills where each agent looks (.claude/skills, .agents/skills, .github/skills)."""
    from omgml.install.service import install_skills

    emit(
        install_skills(
            {
                "clients": client or ["claude-code"],
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
