"""``doctor``: is omgml installed whole, does its server start, which agents are configured."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from omgml._version import __version__
from omgml.install.models import ClientCheck, DoctorReport
from omgml.install.service import config_paths, configured_entry
from omgml.workspace import Project

DEPENDENCIES = ("mcp", "pydantic", "jinja2", "typer", "pyyaml", "pandas", "pyarrow", "scipy", "scikit-learn", "mlflow")


def doctor(project_dir: str = ".", *, root: Path | None = None) -> DoctorReport:
    """Check the install, start ``omgml-mcp`` and list its tools, and find omgml in each client's config."""
    project = Project.open(project_dir, root).root
    dependencies = {}
    for name in DEPENDENCIES:
        try:
            dependencies[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            dependencies[name] = "missing"
    assets_ok = _assets_ok()
    tools, error = _start_server()
    clients = []
    for spec, scope, path in config_paths(project):
        entry, problem = configured_entry(spec, path)
        command = entry.get("command") if entry else None
        if isinstance(command, list):
            command = " ".join(command)
        clients.append(
            ClientCheck(
                client=spec.name,
                scope=scope,
                path=str(path),
                configured=entry is not None,
                command=command,
                problem=problem,
            )
        )
    return DoctorReport(
        omgml_version=__version__,
        python=platform.python_version(),
        executable=sys.executable,
        assets_ok=assets_ok,
        dependencies=dependencies,
        server_ok=error is None,
        server_tools=tools,
        server_error=error,
        clients=clients,
        healthy=assets_ok and error is None and "missing" not in dependencies.values(),
    )


def _assets_ok() -> bool:
    from omgml.assets import asset_dir

    try:
        return all(any(asset_dir(name).iterdir()) for name in ("templates", "prompts", "skills"))
    except FileNotFoundError:
        return False


def _start_server() -> tuple[list[str], str | None]:
    import anyio
    from mcp import Client, StdioServerParameters

    script = Path(sys.executable).with_name("omgml-mcp")
    params = StdioServerParameters(
        command=str(script) if script.exists() else sys.executable,
        args=[] if script.exists() else ["-m", "omgml.mcp.server"],
    )

    async def list_tools() -> list[str]:
        with anyio.fail_after(60):
            async with Client(params) as client:
                return [tool.name for tool in (await client.list_tools()).tools]

    try:
        return anyio.run(list_tools), None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return [], f"{type(exc).__name__}: {exc}"[:300]
