"""MCP tools for the project capabilities: ``omgml_init`` and ``omgml_status``.

Each function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and the service's result model the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from omgml.config import Task
from omgml.mcp._args import ProjectDir
from omgml.mcp._common import ToolSpec, call_service
from omgml.project.models import InitResult, StatusReport


async def omgml_init(
    task: Annotated[Task, Field(description="What the model predicts: binary, multiclass or regression.")],
    target: Annotated[str, Field(min_length=1, max_length=256, description="The column the model predicts.")],
    project_dir: ProjectDir = ".",
    name: Annotated[
        str | None, Field(max_length=100, description="Project name; defaults to the folder's name.")
    ] = None,
    metric: Annotated[
        str | None,
        Field(
            max_length=40,
            description="Success metric. Binary/multiclass: roc_auc, average_precision (binary), accuracy, "
            "balanced_accuracy, f1_macro, log_loss; regression: rmse, mae, r2. Empty: a default per task, explained.",
        ),
    ] = None,
    data_path: Annotated[
        str | None, Field(max_length=4096, description="Training table inside the project, e.g. data/raw/train.csv.")
    ] = None,
    description: Annotated[
        str, Field(max_length=2000, description="What the model is for, in a sentence or two.")
    ] = "",
    dry_run: Annotated[bool, Field(description="Report what would be written without writing.")] = False,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, InitResult]:
    """Scaffold a runnable production ML project (config, package, tests, data folders); never overwrites files."""
    from omgml.project.init import init_project

    # A dict: the service validates it, so a bad value comes back as a readable tool error.
    request = {
        "project_dir": project_dir,
        "name": name,
        "task": task,
        "target": target,
        "metric": metric,
        "data_path": data_path,
        "description": description,
        "dry_run": dry_run,
    }
    return await call_service(init_project, request, ctx)


async def omgml_status(
    project_dir: ProjectDir = ".", ctx: Context | None = None
) -> Annotated[CallToolResult, StatusReport]:
    """Report where the project stands in the ML lifecycle, from evidence: config, data, reports, MLflow."""
    from omgml.project.status import project_status

    return await call_service(project_status, {"project_dir": project_dir}, ctx)


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(omgml_init, "Scaffold an ML project", read_only=False, destructive=False, idempotent=True),
    ToolSpec(omgml_status, "ML project status", read_only=True, idempotent=True),
)
