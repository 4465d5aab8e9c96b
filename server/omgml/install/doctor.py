"""``doctor``: is omgml installed whole, does its server start, and does every configured agent entry start it.

A config that names a command that is missing, exits, hangs or serves other tools is what breaks an agent on
first use, so each entry is started the way its client would start it (command, args, env, cwd = the project),
initialized with the SDK client and asked for its tools. All starts run at once, each bounded in time.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from omgml._version import __version__
from omgml.errors import first_line
from omgml.install.models import ClientCheck, DoctorReport
from omgml.install.service import config_paths, configured_entry
from omgml.workspace import Project

DEPENDENCIES = ("mcp", "pydantic", "jinja2", "typer", "pyyaml", "pandas", "pyarrow", "scipy", "scikit-learn", "mlflow")
# Per start: initialize and tools/list. A warm `uvx --from` start takes 6-9 s; past this the agent would give up too.
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Launch:
    """One process to start, as the client would start it."""

    command: str
    args: list[str]
    env: dict[str, str]  # the entry's own variables, laid over this process's environment when started
    cwd: Path


@dataclass(frozen=True)
class Outcome:
    tools: list[str] | None  # None: it did not answer
    problem: str | None
    seconds: float


def doctor(project_dir: str = ".", *, root: Path | None = None) -> DoctorReport:
    """Check the install, start ``omgml-mcp`` and every configured client entry, and list each one's tools."""
    import anyio

    project = Project.open(project_dir, root).root
    dependencies = {}
    for name in DEPENDENCIES:
        try:
            dependencies[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            dependencies[name] = "missing"
    assets_ok = _assets_ok()

    checks: list[ClientCheck] = []
    launches: dict[int, Launch] = {}
    for spec, scope, path in config_paths(project):
        entry, problem = configured_entry(spec, path)
        check = ClientCheck(
            client=spec.name, scope=scope, path=str(path), configured=entry is not None, problem=problem
        )
        if problem:
            check.status = "unreadable"
        elif entry is not None:
            launch, status, check.problem = _launch_of(spec.name, scope, entry, project)
            if launch:
                check.command = _shown(launch)
                check.problem = _missing_command(launch, check.client, scope)
                if check.problem:
                    check.status = "failed"
                else:
                    launches[len(checks)] = launch
            else:
                check.status, check.command = status, _shown_raw(entry)
        checks.append(check)

    own, outcomes = anyio.run(_start_all, _own_server(), launches)
    expected = set(own.tools or ())
    for index, outcome in outcomes.items():
        check = checks[index]
        check.seconds = round(outcome.seconds, 2)
        check.tools = outcome.tools
        missing = sorted(expected - set(outcome.tools or ()))
        if outcome.problem:
            check.status, check.problem = "failed", outcome.problem
        elif missing:
            count = len(outcome.tools)
            check.status = "failed"
            check.problem = (
                f"it started but lists {count} tool{'' if count == 1 else 's'} without omgml's {', '.join(missing)}: "
                f"it runs another server or an older omgml; rerun `{_reinstall(check.client, check.scope)}`"
            )
        else:
            check.status = "ok"
    return DoctorReport(
        omgml_version=__version__,
        python=platform.python_version(),
        executable=sys.executable,
        assets_ok=assets_ok,
        dependencies=dependencies,
        server_ok=own.problem is None,
        server_tools=own.tools or [],
        server_error=own.problem,
        clients=checks,
        healthy=assets_ok
        and own.problem is None
        and "missing" not in dependencies.values()
        # An unreadable file is shown but holds no entry of omgml's that could be started, so it does not count.
        and all(c.status in ("ok", "not configured", "disabled", "unreadable") for c in checks),
    )


def _assets_ok() -> bool:
    from omgml.assets import asset_dir

    try:
        return all(any(asset_dir(name).iterdir()) for name in ("templates", "prompts", "skills"))
    except FileNotFoundError:
        return False


def _own_server() -> Launch:
    script = Path(sys.executable).with_name("omgml-mcp")
    if script.exists():
        return Launch(str(script), [], {}, Path.cwd())
    return Launch(sys.executable, ["-m", "omgml.mcp.server"], {}, Path.cwd())


# ---------------------------------------------------------------------------------------------------------------
# Reading an entry the way its client does


def _launch_of(client: str, scope: str, entry: dict, project: Path) -> tuple[Launch | None, str, str | None]:
    """The process a client would start for ``entry``, or why there is none: (launch, status, problem)."""
    if entry.get("disabled") is True or entry.get("enabled") is False:
        return None, "disabled", "the entry is disabled in this config, so the client does not start it"
    if "url" in entry or entry.get("type") in ("http", "sse", "streamable-http", "remote"):
        return None, "skipped", "a remote server (url): doctor starts only local commands"
    command = entry.get("command")
    args = entry.get("args") or []
    if isinstance(command, list):  # opencode: one list, the command first
        command, args = (command[0] if command else None), command[1:]
    env = entry.get("env") or entry.get("environment") or {}  # opencode names it "environment"
    if not isinstance(command, str) or not command or not isinstance(args, list) or not isinstance(env, dict):
        return None, "failed", f"the entry has no usable command: rerun `{_reinstall(client, scope)}`"
    try:
        expand = _expander(client, project)
        command, args = expand(command), [expand(str(a)) for a in args]
        env = {str(k): expand(str(v)) for k, v in env.items()}
        cwd = project / expand(str(entry["cwd"])) if entry.get("cwd") else project
    except KeyError as exc:
        return (
            None,
            "failed",
            (
                f"the entry uses ${{{exc.args[0]}}}, which is not set here and has no default, so the client "
                f"cannot read this config: set it, give it a default (${{VAR:-value}}) or rerun "
                f"`{_reinstall(client, scope)}`"
            ),
        )
    return Launch(command, args, env, cwd), "ok", None  # "ok" until started


_CLAUDE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_EDITOR_VAR = re.compile(r"\$\{(env:[A-Za-z_][A-Za-z0-9_]*|workspaceFolder|userHome)\}")
_OPENCODE_VAR = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def _expander(client: str, project: Path):
    """Each client's own variable syntax in command, args and env (docs/clients.md lists the sources)."""
    environ = os.environ

    def claude(match: re.Match) -> str:
        # ${VAR} must be set; ${VAR:-default} takes the default when VAR is unset or empty (Claude Code's rule).
        name, default = match.group(1), match.group(2)
        if environ.get(name):
            return environ[name]
        if default is not None:
            return default
        if name in environ:
            return ""
        raise KeyError(name)

    def editor(match: re.Match) -> str:  # VS Code and Cursor: unset variables become empty
        token = match.group(1)
        if token == "workspaceFolder":
            return str(project)
        if token == "userHome":
            return str(Path.home())
        return environ.get(token[4:], "")

    rules = {
        "claude-code": (_CLAUDE_VAR, claude),
        "vscode": (_EDITOR_VAR, editor),
        "cursor": (_EDITOR_VAR, editor),
        "opencode": (_OPENCODE_VAR, lambda m: environ.get(m.group(1), "")),
    }
    if client not in rules:
        return lambda text: text
    pattern, replace = rules[client]
    return lambda text: pattern.sub(replace, text)


def _reinstall(client: str, scope: str) -> str:
    return f"omgml install {client}" + (" --scope user" if scope == "user" else "")


def _shown(launch: Launch) -> str:
    return " ".join([launch.command, *launch.args])


def _shown_raw(entry: dict) -> str | None:
    command = entry.get("command")
    if isinstance(command, list):
        return " ".join(map(str, command))
    return " ".join([str(command), *map(str, entry.get("args") or [])]) if command else entry.get("url")


# ---------------------------------------------------------------------------------------------------------------
# Starting them


async def _start_all(own: Launch, launches: dict[int, Launch]) -> tuple[Outcome, dict[int, Outcome]]:
    import anyio

    outcomes: dict[int, Outcome] = {}
    mine: list[Outcome] = []

    async def run(key: int | None, launch: Launch) -> None:
        outcome = await _start(launch)
        if key is None:
            mine.append(outcome)
        else:
            outcomes[key] = outcome

    async with anyio.create_task_group() as group:
        group.start_soon(run, None, own)
        for key, launch in launches.items():
            group.start_soon(run, key, launch)
    return mine[0], dict(sorted(outcomes.items()))


async def _start(launch: Launch) -> Outcome:
    """Start ``launch`` with the SDK's stdio client, initialize, list tools; a failure becomes its reason."""
    import anyio
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    began = time.monotonic()
    env = {**os.environ, **launch.env}
    params = StdioServerParameters(command=launch.command, args=launch.args, env=env, cwd=launch.cwd)
    # The server's stderr goes to a file, so a failure can quote the server's last words.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        try:
            with anyio.fail_after(START_TIMEOUT):
                async with Client(stdio_client(params, errlog=errlog)) as client:
                    tools = [tool.name for tool in (await client.list_tools()).tools]
            return Outcome(tools, None, time.monotonic() - began)
        except Exception as exc:  # noqa: BLE001 -- any failure to start is the finding, reported with its reason
            errlog.seek(0)
            said = [line.strip() for line in errlog.read().splitlines() if line.strip()]
            return Outcome(None, _reason(launch, _leaf(exc), said[-1] if said else None), time.monotonic() - began)


def _missing_command(launch: Launch, client: str, scope: str) -> str | None:
    """Why ``launch.command`` cannot be found the way the client's process would look it up, or None."""
    command = launch.command
    if os.sep in command or (os.altsep and os.altsep in command):
        found = (launch.cwd / command).is_file()
    else:
        found = shutil.which(command, path={**os.environ, **launch.env}.get("PATH")) is not None
    if found:
        return None
    name = Path(command).name
    if name in ("uvx", "uv"):
        how = "install uv (https://docs.astral.sh/uv/getting-started/installation/)"
    elif name.startswith("omgml"):
        how = "install omgml (pip install omgml, or uv tool install omgml)"
    else:
        how = f"install {name}"
    return f"the command {command} does not exist: {how}, or rerun `{_reinstall(client, scope)}` to write one that does"


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside the task groups' exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(launch: Launch, exc: BaseException, stderr: str | None) -> str:
    said = f"; its last stderr line: {stderr[:200]}" if stderr else "; it wrote nothing to stderr"
    if isinstance(exc, TimeoutError):
        first_run = " (a first uvx run downloads packages: run doctor again once they are cached)"
        return f"`{_shown(launch)}` did not answer initialize and tools/list within {START_TIMEOUT:.0f} s{said}" + (
            first_run if Path(launch.command).name in ("uvx", "uv") else ""
        )
    if "Connection closed" in str(exc):
        return f"`{_shown(launch)}` exited before answering initialize{said}"
    if isinstance(exc, OSError):
        return f"`{_shown(launch)}` could not be started: {exc.strerror or exc}"
    return f"`{_shown(launch)}` failed during initialize: {type(exc).__name__}: {first_line(exc)}{said}"
