"""The shell face: ``omgml init|status|report|validate|drift|baseline|monitor|serve|install``. Thin: parse, call the
service, print.

Errors a user can fix print one line to stderr and exit 2; any other exception is a bug in omgml:
its traceback, then one line asking for a report, go to stderr, and the exit code is 70 (EX_SOFTWARE:
1 already means "validate found an error"). ``--json`` prints the same object the MCP tool returns as
structured content.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from omgml import __version__
from omgml.cli import baseline, drift, install, monitor, project, registry, validation
from omgml.errors import OmgmlError, unexpected_error

try:  # typer >= 0.20 vendors click; older releases use the click package
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError

app = typer.Typer(
    name="omgml",
    help="Computed, repeatable answers for building ML systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"omgml {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = None,
) -> None:
    """omgml: scaffold, check and track ML projects from the shell, CI or an AI agent."""


# One explicit registry of commands: adding a capability adds its lines here.
app.command()(project.init)
app.command()(project.status)
app.command()(project.report)
app.command()(validation.validate)
app.command()(drift.drift)
app.command()(baseline.baseline)
app.command()(install.install)
app.command()(install.uninstall)
app.command()(install.doctor)
app.command()(monitor.monitor)
app.command()(registry.compare)
app.command()(registry.promote)
app.command()(registry.rollback)
skills_app = typer.Typer(help="The omgml skill pack for agents.", no_args_is_help=True)
skills_app.command("install")(install.skills_install)
app.add_typer(skills_app, name="skills")


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --http.")] = 8765,
) -> None:
    """Run the MCP server (stdio by default)."""
    from omgml.mcp.server import serve as run_server

    run_server(http=http, port=port)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a usage or input error is one line on stderr and exit code 2, a bug 70 with its traceback."""
    try:
        code = app(args=argv, standalone_mode=False)
    except OmgmlError as exc:
        typer.echo(f"omgml: error: {exc}", err=True)
        sys.exit(2)
    except UsageError as exc:
        if not exc.format_message():  # bare `omgml`: the help was printed
            sys.exit(0)
        hint = (
            f" (see `omgml {exc.ctx.info_name} --help`)"
            if exc.ctx and exc.ctx.info_name != "omgml"
            else " (see `omgml --help`)"
        )
        typer.echo(f"omgml: error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("omgml: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("omgml: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 -- the last resort: a bug, reported with its traceback
        import traceback

        traceback.print_exc(file=sys.stderr)
        words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")][:1]
        typer.echo(f"omgml: error: {unexpected_error(' '.join(['omgml', *words]), exc)}", err=True)
        sys.exit(getattr(os, "EX_SOFTWARE", 70))
    sys.exit(code if isinstance(code, int) else 0)
