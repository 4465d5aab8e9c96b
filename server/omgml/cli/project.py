"""CLI commands for the project capabilities: ``omgml init``, ``omgml status`` and ``omgml report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.args import DryRun, ProjectDir
from omgml.cli._common import (
    HtmlCopy,
    HtmlOption,
    JsonFlag,
    ReplaceHtmlFlag,
    argument,
    emit,
    option,
    print_markdown,
)
from omgml.errors import InvalidInput
from omgml.project.models import (
    InitDataPath,
    InitMetric,
    InitProjectDir,
    InitTarget,
    InitTask,
    ModelDescription,
    ProjectName,
    ReportRef,
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
    html: HtmlOption = None,
    replace_html: ReplaceHtmlFlag = False,
) -> None:
    """Show where the project stands in the ML lifecycle, from evidence."""
    from omgml.project.status import project_status

    html_copy = HtmlCopy.of(html, replace_html, as_json)
    emit(project_status({"project_dir": str(project_dir)}), as_json, project_dir, html_copy)


def report(
    kind_or_path: Annotated[str | None, argument(ReportRef, metavar="[KIND|PATH]")] = None,
    as_md: Annotated[bool, typer.Option("--md", help="Print the markdown report (the default).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report's JSON as it was saved.")] = False,
    html: HtmlOption = None,
    replace_html: ReplaceHtmlFlag = False,
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
) -> None:
    """Show a saved report again (the latest of KIND, or the one at PATH) as markdown, HTML or JSON."""
    from omgml.project.reports import find_report, format_report, read_report
    from omgml.workspace import Project

    if as_md and as_json:
        raise InvalidInput("--md and --json both print to stdout", "stdout carries one document", "drop one of them")
    html_copy = HtmlCopy.of(html, replace_html, as_json, as_md)
    project = Project.open(project_dir, None)
    saved = read_report(find_report(kind_or_path, project), project)
    if html_copy is not None:
        html_copy.send(format_report(saved, "html", project))
        if html_copy.path is None:
            return
    if as_json:
        typer.echo(format_report(saved, "json", project), nl=False)
    else:
        print_markdown(format_report(saved, "md", project))
