"""The shell face: ``omgml init|status|serve``. Thin: parse, call the service, print.

Errors a user can fix print one line to stderr and exit 2; ``--json`` prints the same
object the MCP tool returns as structured content.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from pydantic import BaseModel

from omgml import __version__
from omgml.errors import OmgmlError

app = typer.Typer(
    name="omgml",
    help="Computed, repeatable answers for building ML systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the full result as JSON (same object as the MCP tool).")]


def emit(result: BaseModel, as_json: bool) -> None:
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from omgml.render import render

    text = render(result, "md")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        typer.echo(text, nl=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"omgml {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = None,
) -> None:
    """omgml: scaffold, check and track ML projects from the shell, CI or an AI agent."""


@app.command()
def init(
    project_dir: Annotated[Path, typer.Argument(help="Folder to scaffold (created if only its last part is missing).")] = Path("."),
    task: Annotated[str, typer.Option(help="binary, multiclass or regression.")] = ...,
    target: Annotated[str, typer.Option(help="The column the model predicts.")] = ...,
    name: Annotated[Optional[str], typer.Option(help="Project name (default: the folder's name).")] = None,
    metric: Annotated[Optional[str], typer.Option(help="Success metric (default chosen per task).")] = None,
    data: Annotated[Optional[str], typer.Option("--data", help="Training table inside the project.")] = None,
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
    emit(init_project(request), as_json)


@app.command()
def status(
    project_dir: Annotated[Path, typer.Argument(help="The project folder.")] = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Show where the project stands in the ML lifecycle, from evidence."""
    from omgml.project.status import project_status

    emit(project_status({"project_dir": str(project_dir)}), as_json)


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --http.")] = 8765,
) -> None:
    """Run the MCP server (stdio by default)."""
    from omgml.mcp.server import serve as run_server

    run_server(http=http, port=port)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a usage or input error is one line on stderr and exit code 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except OmgmlError as exc:
        typer.echo(f"omgml: error: {exc}", err=True)
        sys.exit(2)
    except click.UsageError as exc:
        hint = f" (see `omgml {exc.ctx.info_name} --help`)" if exc.ctx and exc.ctx.info_name != "omgml" else " (see `omgml --help`)"
        typer.echo(f"omgml: error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        typer.echo("omgml: aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
