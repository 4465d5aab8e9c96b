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

from omgml.errors import InvalidInput, PathError
from omgml.progress import Reporter, reporting

BAR_AFTER = 1.0  # seconds of work before a bar appears: a quick command prints its report and nothing else

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the full result as JSON (same object as the MCP tool).")]
HtmlOption = Annotated[
    str | None,
    typer.Option(
        "--html",
        metavar="PATH",
        help="Also write the HTML report to PATH (relative to the current folder; an existing file is kept "
        "unless --replace-html). '-' prints the HTML instead of the markdown.",
    ),
]
ReplaceHtmlFlag = Annotated[bool, typer.Option("--replace-html", help="Let --html replace an existing file.")]
# How a command shows its result, not what it computes: options with no field in the request (tests/test_faces.py).
OUTPUT_OPTIONS = ("as_json", "html", "replace_html")
STDOUT = "-"


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


@dataclass(frozen=True)
class HtmlCopy:
    """Where ``--html`` sends the HTML report: the file ``path``, or stdout when ``path`` is None."""

    path: Path | None
    replace: bool = False

    @classmethod
    def of(cls, html: str | None, replace: bool, as_json: bool = False, as_md: bool = False) -> HtmlCopy | None:
        """The copy ``--html`` asks for, checked before the work starts (a 40 s baseline must not end in "file
        exists"); None without ``--html``."""
        from omgml.workspace import expand_home, resolve_path

        if html is None:
            return None
        if html == STDOUT:
            if as_json or as_md:
                raise InvalidInput(
                    f"--html - and {'--json' if as_json else '--md'} both print to stdout",
                    "stdout carries one document",
                    "drop one of them, or write the HTML to a file: --html PATH",
                )
            return cls(None)
        path = resolve_path(expand_home(html, "--html file"), "--html file", html)
        if path.is_dir():
            raise PathError(f"--html {html}: {path} is a folder", "--html names the file to write", "add a file name")
        if not path.parent.is_dir():
            raise PathError(
                f"--html {html}: the folder {path.parent} does not exist",
                "omgml writes the file, not the folders above it",
                "create the folder first, or give another path",
            )
        if path.exists() and not replace:
            raise _exists(html, path)
        return cls(path, replace)

    def send(self, page: str) -> None:
        """Print ``page``, or write it to the file: replaced atomically, or created only if still absent."""
        from omgml.workspace import atomic_write, create_new

        if self.path is None:
            typer.echo(page, nl=False)
            return
        try:
            if self.replace:
                atomic_write(self.path, page)
            elif not create_new(self.path, page):  # made by someone else since the check
                raise _exists(str(self.path), self.path)
        except OSError as exc:
            raise PathError(
                f"Cannot write the HTML report to {self.path}",
                f"the operating system refused it ({exc.strerror or exc})",
                "check the folder's permissions and free space, or give another path",
            ) from exc


def _exists(html: str, path: Path) -> PathError:
    return PathError(
        f"--html {html}: {path} already exists",
        "omgml replaces a file only when told to, so a mistyped path cannot destroy one",
        "add --replace-html, or give another path",
    )


def saved_html(result: BaseModel, project_dir: str | Path) -> str:
    """The HTML report of ``result``: the page saved beside its JSON, byte for byte, or rendered now when the
    result was not saved (status of a folder that is not an omgml project, drift that only saved a profile)."""
    saved = getattr(result, "html_path", None)
    if saved:
        from omgml.workspace import read_inside

        return read_inside(Path(project_dir).resolve(), saved, "saved HTML report").decode("utf-8")
    from omgml.render import render

    return render(result, "html", project_dir)


def emit(result: BaseModel, as_json: bool, project_dir: str | Path = ".", html: HtmlCopy | None = None) -> None:
    """Print ``result``: JSON for machines, its markdown rendering (``project_dir`` may override it) for people;
    ``html`` also writes its HTML report to a file, or prints it instead of the markdown."""
    if html is not None:
        html.send(saved_html(result, project_dir))
        if html.path is None:
            return
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from omgml.render import render

    print_markdown(render(result, "md", project_dir))


def print_markdown(text: str) -> None:
    """Markdown to stdout: drawn by rich on a terminal, as written everywhere else (a pipe, a file, CI)."""
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
