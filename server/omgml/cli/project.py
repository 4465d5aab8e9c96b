"""CLI commands for the project capabilities: ``omgml init`` and ``omgml status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from omgml.args import DryRun, ProjectDir
from omgml.cli._common import JsonFlag, argument, emit, option
from omgml.project.models import (
    InitDataPath,
    InitMetric,
    InitProjectDir,
    InitTarget,
    InitTask,
    ModelDescription,
    ProjectName,
)


def init(
    project_dir: Annotated[Path, argument(InitProjectDir)] = Path("."),
    task: Annotated[str, option(InitTask)] = ...,
    target: Annotated[str, option(InitTarget)] = ...,
    name: Annotated[str | None, option(ProjectName)] = None,
    metric: Annotated[str | None, option(InitMetric)] = None,
    data: Annotated[str | None, option(InitDataPath, "--data")] = None,
    description: Annotated[str, option(ModelDescription)] = "",
    dry_run: Annotated[bool, option(DryRun, "--dry-run")] = False,
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
    project_dir: Annotated[Path, argument(ProjectDir)] = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Show where the project stands in the ML lifecycle, from evidence."""
    from omgml.project.status import project_status

    emit(project_status({"project_dir": str(project_dir)}), as_json, project_dir)
