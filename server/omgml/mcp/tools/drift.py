"""MCP tool for the drift capability: ``omgml_check_drift``.

The function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and ``DriftReport`` the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from omgml.drift.models import DriftReport
from omgml.mcp._args import ProjectDir
from omgml.mcp._common import ToolSpec, call_service


async def omgml_check_drift(
    reference: Annotated[
        str,
        Field(
            min_length=1,
            max_length=4096,
            description="Reference data file (csv, tsv, parquet, jsonl) inside the project, e.g. data/train.parquet, "
            "or the name of a saved reference profile (.omgml/references/NAME.json).",
        ),
    ],
    current: Annotated[
        str | None,
        Field(
            max_length=4096,
            description="The data file to check, e.g. data/processed/latest.parquet. "
            "Leave empty only with save_reference, to save a profile without checking.",
        ),
    ] = None,
    project_dir: ProjectDir = ".",
    columns: Annotated[
        list[str] | None, Field(max_length=10_000, description="Compare only these columns (default: all in both).")
    ] = None,
    target: Annotated[
        str | None,
        Field(
            max_length=256,
            description="Target column, checked and shown first (default: omgml.toml's target "
            "when both tables have it).",
        ),
    ] = None,
    prediction: Annotated[
        str | None, Field(max_length=256, description="Model prediction column, checked and shown first.")
    ] = None,
    tests: Annotated[
        dict[str, str] | None,
        Field(
            description='Force a stat test per column, e.g. {"age": "psi"}. Tests: ks, chi2, z, wasserstein, '
            "psi, jensenshannon, hellinger, kl_div, cramer_von_mises, anderson. Default: chosen per column."
        ),
    ] = None,
    thresholds: Annotated[
        dict[str, float] | None,
        Field(description='Override a test\'s threshold, e.g. {"wasserstein": 0.2, "ks": 0.01}.'),
    ] = None,
    drift_share: Annotated[
        float, Field(gt=0, le=1, description="Share of drifted feature columns that makes the dataset drifted.")
    ] = 0.5,
    save_reference: Annotated[
        str | None,
        Field(
            max_length=100,
            description="Also save the reference's compact profile under this name, so later "
            "checks pass the name instead of the raw reference.",
        ),
    ] = None,
    time_column: Annotated[
        str | None, Field(max_length=256, description="Time column of the current data: compare each window.")
    ] = None,
    window: Annotated[
        str | None, Field(max_length=32, description="Window length with time_column: 1h, 1D, 7D, 1W...")
    ] = None,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, DriftReport]:
    """Check whether current data drifted from a reference, per column with the right test, effect size first."""
    from omgml.drift.service import check_drift

    # A dict: the service validates it, so a bad value comes back as a readable tool error.
    request = {
        "project_dir": project_dir,
        "reference": reference,
        "current": current,
        "columns": columns,
        "target": target,
        "prediction": prediction,
        "tests": tests or {},
        "thresholds": thresholds or {},
        "drift_share": drift_share,
        "save_reference": save_reference,
        "time_column": time_column,
        "window": window,
    }
    return await call_service(check_drift, request, ctx)


SPECS: tuple[ToolSpec, ...] = (
    # Writes a report (and a profile when asked) under .omgml/; never touches the data.
    ToolSpec(omgml_check_drift, "Check data drift", read_only=False, destructive=False, idempotent=False),
)
