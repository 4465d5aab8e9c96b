"""MCP tool for the drift capability: ``omgml_check_drift``.

The function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and ``DriftReport`` the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from omgml.args import EngineChoice, ProjectDir
from omgml.drift.models import (
    Columns,
    Current,
    DriftReport,
    DriftRequest,
    DriftShare,
    DriftTarget,
    Prediction,
    Reference,
    ReplaceReference,
    SaveReference,
    Tests,
    Thresholds,
    TimeColumn,
    Window,
)
from omgml.mcp._common import IncludeImage, ToolSpec, call_service, request_of


async def omgml_check_drift(
    reference: Reference,
    current: Current = None,
    project_dir: ProjectDir = ".",
    columns: Columns = None,
    target: DriftTarget = None,
    prediction: Prediction = None,
    tests: Tests = {},  # noqa: B006 - pydantic copies the default per call
    thresholds: Thresholds = {},  # noqa: B006
    drift_share: DriftShare = 0.5,
    save_reference: SaveReference = None,
    replace_reference: ReplaceReference = False,
    time_column: TimeColumn = None,
    window: Window = None,
    engine: EngineChoice = None,
    include_image: IncludeImage = False,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, DriftReport]:
    """Check current data for drift from a reference, per column, with the right test."""
    from omgml.drift.service import check_drift

    return await call_service(check_drift, request_of(DriftRequest, locals()), ctx, _picture if include_image else None)


def _picture(report: DriftReport) -> bytes | str:
    """The ranked effect sizes with each column's threshold, as the HTML report draws them."""
    from omgml.images import effect_png

    if not report.checked:
        return "No image: this call only saved a reference profile; the chart needs current data to compare with it."
    return effect_png(report) or "No image: no column was tested, so there is no chart."


SPECS: tuple[ToolSpec, ...] = (
    # Writes a report (and a profile when asked) under .omgml/; never touches the data.
    ToolSpec(omgml_check_drift, "Check data drift", read_only=False, destructive=False, idempotent=False),
)
