"""What every CLI command shares: the --json flag, options read from the argument declarations, printing."""

from __future__ import annotations

import sys
import time
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from omgml.progress import Reporter, reporting

BAR_AFTER = 1.0  # seconds of work before a bar appears: a quick command prints its report and nothing else

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the full result as JSON (same object as the MCP tool).")]


@dataclass(frozen=True)
class OpenBounds:
    """typer's ranges are closed: this callback refuses the end a ``gt`` or ``lt`` leaves out."""

    gt: float | None = None
    lt: float | None = None

    def __call__(self, value: Any) -> Any:
        if value is not None and self.gt is not None and value <= self.gt:
            raise typer.BadParameter(f"{value} is not greater than {self.gt}.")
        if value is not None and self.lt is not None and value >= self.lt:
            raise typer.BadParameter(f"{value} is not less than {self.lt}.")
        return value


def _declared(arg: Any) -> dict[str, Any]:
    """The description and numeric bounds of an ``Annotated[..., Field(...)]`` argument declaration."""
    out: dict[str, Any] = {}
    for info in (m for m in typing.get_args(arg)[1:] if isinstance(m, FieldInfo)):
        out["description"] = info.description or out.get("description")
        for meta in info.metadata:
            out.update({k: getattr(meta, k) for k in ("ge", "gt", "le", "lt") if getattr(meta, k, None) is not None})
    return out


def _typer_kwargs(arg: Any, note: str) -> dict[str, Any]:
    declared = _declared(arg)
    # typer shows a closed range itself; an open end is said in words.
    ends = [
        f"Above {declared['gt']}." if "gt" in declared else "",
        f"Below {declared['lt']}." if "lt" in declared else "",
    ]
    kwargs: dict[str, Any] = {"help": " ".join(t for t in (declared.get("description"), *ends, note) if t)}
    if "ge" in declared or "le" in declared:
        kwargs.update(min=declared.get("ge"), max=declared.get("le"))
    if "gt" in declared or "lt" in declared:
        kwargs["callback"] = OpenBounds(declared.get("gt"), declared.get("lt"))
    return kwargs


def option(arg: Any, *param_decls: str, note: str = "", **kwargs: Any) -> Any:
    """A ``typer.Option`` whose help and bounds are the declaration's; ``note`` adds what only the CLI needs."""
    return typer.Option(*param_decls, **_typer_kwargs(arg, note), **kwargs)


def argument(arg: Any, *, note: str = "", **kwargs: Any) -> Any:
    """A ``typer.Argument`` whose help and bounds are the declaration's."""
    return typer.Argument(**_typer_kwargs(arg, note), **kwargs)


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


def with_progress(service: Callable[[Any], BaseModel], request: Any) -> BaseModel:
    """``service(request)``, with a progress bar on stderr when it is a terminal and the work lasts over a second.

    Never on stdout (it carries the report) and never into a log or CI output (stderr not a terminal).
    """
    if not sys.stderr.isatty():
        return service(request)
    from rich.console import Console

    with progress_bar(Console(stderr=True)) as report, reporting(report):
        return service(request)


@contextmanager
def progress_bar(console: Any) -> Iterator[Reporter]:
    """A reporter that draws each step as a rich bar on ``console``, once the work has run ``BAR_AFTER`` s."""
    started = time.monotonic()
    bar: Any = None
    tasks: dict[str, Any] = {}

    def report(step: str, done: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:
            if time.monotonic() - started < BAR_AFTER:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=True,
            )  # fmt: skip
            bar.start()
        if step not in tasks:
            for task in bar.tasks:  # a step of unknown length (rows of a csv) ends when the next begins: stop its pulse
                if task.total is None:
                    bar.update(task.id, total=task.completed)
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done, total=total)

    try:
        yield report
    finally:
        if bar is not None:
            bar.stop()
