"""MCP tools for the project capabilities: ``omgml_init`` and ``omgml_status``.

Each function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and the service's result model the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from omgml.args import DryRun, ProjectDir
from omgml.mcp._common import ToolSpec, call_service, request_of
from omgml.project.models import (
    InitDataPath,
    InitMetric,
    InitProjectDir,
    InitRequest,
    InitResult,
    InitTarget,
    InitTask,
    ModelDescription,
    ProjectName,
    StatusReport,
    StatusRequest,
)


async def omgml_init(
    task: InitTask,
    target: InitTarget,
    project_dir: InitProjectDir = ".",
    name: ProjectName = None,
    metric: InitMetric = None,
    data_path: InitDataPath = None,
    description: ModelDescription = "",
    dry_run: DryRun = False,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, InitResult]:
    """Scaffold a runnable ML project (config, package, tests, data folders); never overwrites."""
    from omgml.project.init import init_project

    return await call_service(init_project, request_of(InitRequest, locals()), ctx)


async def omgml_status(
    project_dir: ProjectDir = ".", ctx: Context | None = None
) -> Annotated[CallToolResult, StatusReport]:
    """Where the project stands in the ML lifecycle, from evidence: files, reports, MLflow."""
    from omgml.project.status import project_status

    return await call_service(project_status, request_of(StatusRequest, locals()), ctx)


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(omgml_init, "Scaffold an ML project", read_only=False, destructive=False, idempotent=True),
    # Saves its report under .omgml/reports/status/ (the newest ten are kept); reads everything else.
    ToolSpec(omgml_status, "ML project status", read_only=False, destructive=False, idempotent=False),
)
