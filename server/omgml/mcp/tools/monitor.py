"""MCP tool for monitoring: ``omgml_monitor_batch``.

The function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and ``MonitorReport`` the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from omgml.args import ProjectDir
from omgml.mcp._common import ToolSpec, call_service, request_of
from omgml.monitor.models import (
    Batch,
    LabelKey,
    Labels,
    MonitorBatchRequest,
    MonitorContract,
    MonitorReference,
    MonitorReport,
)


async def omgml_monitor_batch(
    batch: Batch,
    project_dir: ProjectDir = ".",
    labels: Labels = None,
    key: LabelKey = None,
    contract: MonitorContract = None,
    reference: MonitorReference = None,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, MonitorReport]:
    """Monitor a new batch: validation, drift, champion performance, alert rules, history."""
    from omgml.monitor.service import monitor_batch

    return await call_service(monitor_batch, request_of(MonitorBatchRequest, locals()), ctx)


SPECS: tuple[ToolSpec, ...] = (
    # Appends to the history and may post to the project's webhook; never touches the data or the registry.
    ToolSpec(omgml_monitor_batch, "Monitor a data batch", read_only=False, destructive=False, idempotent=False),
)
