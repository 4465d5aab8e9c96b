"""What every CLI command shares: the --json flag and printing a result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the full result as JSON (same object as the MCP tool).")]


def emit(result: BaseModel, as_json: bool, project_dir: str | Path = ".") -> None:
    """Print ``result``: JSON for machines, its markdown rendering (``project_dir`` may override it) for people."""
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from omgml.render import render

    text = render(result, "md", project_dir)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        typer.echo(text, nl=False)
