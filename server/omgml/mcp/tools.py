"""The MCP tools: one typed function each, listed in ``TOOLS``; the server registers that tuple.

Each function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and the service's result model the output schema.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlparse

import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from omgml.config import Task
from omgml.errors import OmgmlError
from omgml.mcp._args import ProjectDir
from omgml.project.models import InitRequest, InitResult, StatusReport, StatusRequest
from omgml.render import render
from omgml.workspace import ROOT_ENV_VARS, default_root


async def workspace_root(ctx: Context | None) -> Path:
    """The folder every path argument must stay in: env var, else the client's first root, else the cwd."""
    if any(os.environ.get(var) for var in ROOT_ENV_VARS) or ctx is None:
        return default_root()
    capabilities = ctx.client_capabilities
    if capabilities is not None and capabilities.roots is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # roots are deprecated in 2026-07-28 but older clients offer them
                roots = (await ctx.session.list_roots()).roots
        except Exception:
            roots = []
        for root in roots:
            uri = urlparse(str(root.uri))
            if uri.scheme == "file" and Path(unquote(uri.path)).is_dir():
                return Path(unquote(uri.path)).resolve()
    return default_root()


async def call_service(service: Callable[..., BaseModel], request: BaseModel, ctx: Context | None) -> CallToolResult:
    """Run a service off the event loop; return its result as structured content plus rendered markdown."""
    root = await workspace_root(ctx)
    try:
        result = await anyio.to_thread.run_sync(lambda: service(request, root=root))
    except OmgmlError as exc:
        raise ToolError(str(exc)) from exc
    return CallToolResult(
        content=[TextContent(type="text", text=render(result, "md"))],
        structured_content=result.model_dump(mode="json"),
    )


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
    description: Annotated[str, Field(max_length=2000, description="What the model is for, in a sentence or two.")] = "",
    dry_run: Annotated[bool, Field(description="Report what would be written without writing.")] = False,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, InitResult]:
    """Scaffold a runnable production ML project (config, package, tests, data folders); never overwrites files."""
    from omgml.project.init import init_project

    request = InitRequest(
        project_dir=project_dir,
        name=name,
        task=task,
        target=target,
        metric=metric,
        data_path=data_path,
        description=description,
        dry_run=dry_run,
    )
    return await call_service(init_project, request, ctx)


async def omgml_status(project_dir: ProjectDir = ".", ctx: Context | None = None) -> Annotated[CallToolResult, StatusReport]:
    """Report where the project stands in the ML lifecycle, from evidence: config, data, reports, MLflow."""
    from omgml.project.status import project_status

    return await call_service(project_status, StatusRequest(project_dir=project_dir), ctx)


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Any]
    title: str
    read_only: bool
    destructive: bool = False
    idempotent: bool = False


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(omgml_init, "Scaffold an ML project", read_only=False, destructive=False, idempotent=True),
    ToolSpec(omgml_status, "ML project status", read_only=True, idempotent=True),
)
