"""CLI commands for the project capabilities: ``omgml init`` and ``omgml status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.cli._common import JsonFlag, emit


def init(
    project_dir: Annotated[
        Path, typer.Argument(help="Folder to scaffold (created if only its last part is missing).")
    ] = Path("."),
    task: Annotated[str, typer.Option(help="binary, multiclass or regression.")] = ...,
    target: Annotated[str, typer.Option(help="The column the model predicts.")] = ...,
    name: Annotated[str | None, typer.Option(help="Project name (default: the folder's name).")] = None,
    metric: Annotated[str | None, typer.Option(help="Success metric (default chosen per task).")] = None,
    data: Annotated[str | None, typer.Option("--data", help="Training table inside the project.")] = None,
    description: Annotated[str, typer.Option(help="What the model is for.")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Scaffold a runnable production ML project; existing files are never overwritten."""
    from omgml.project.init import init_project

    request = {
        "project_dir": str(project_dir),
        "name": name,
        "task": task,
        "target": target,
        "metric": metric,
        "data_path": data,
        "description": description,
        "dry_run": dry_run,
    }
    emit(init_project(request), as_json, project_dir)


def status(
    project_dir: Annotated[Path, typer.Argument(help="The project folder.")] = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Show where the project stands in the ML lifecycle, from evidence."""
    from omgml.project.status import project_status

    emit(project_status({"project_dir": str(project_dir)}), as_json, project_dir)
