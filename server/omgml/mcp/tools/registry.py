"""MCP tools for the registry: ``omgml_compare_models``, ``omgml_promote_model``, ``omgml_rollback_model``."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from omgml.args import ProjectDir
from omgml.mcp._common import ToolSpec, call_service, request_of
from omgml.registry.models import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Challengers,
    Champion,
    CompareModelsRequest,
    CompareReport,
    EvaluationTable,
    Force,
    Margin,
    ModelRef,
    PromoteModelRequest,
    PromoteResult,
    Reason,
    Resamples,
    RollbackModelRequest,
    RollbackResult,
    Seed,
)


async def omgml_compare_models(
    challengers: Challengers = None,
    champion: Champion = "champion",
    data: EvaluationTable = None,
    margin: Margin = None,
    resamples: Resamples = DEFAULT_RESAMPLES,
    seed: Seed = DEFAULT_SEED,
    project_dir: ProjectDir = ".",
    ctx: Context | None = None,
) -> Annotated[CallToolResult, CompareReport]:
    """Score champion and challengers on held-out rows; paired bootstrap CI of the gain; promote or keep."""
    from omgml.registry.service import compare_models

    return await call_service(compare_models, request_of(CompareModelsRequest, locals()), ctx)


async def omgml_promote_model(
    ref: ModelRef,
    force: Force = False,
    reason: Reason = None,
    project_dir: ProjectDir = ".",
    ctx: Context | None = None,
) -> Annotated[CallToolResult, PromoteResult]:
    """Move @champion to a version a saved compare said to promote; the old one becomes @previous."""
    from omgml.registry.service import promote_model

    return await call_service(promote_model, request_of(PromoteModelRequest, locals()), ctx)


async def omgml_rollback_model(
    project_dir: ProjectDir = ".",
    ctx: Context | None = None,
) -> Annotated[CallToolResult, RollbackResult]:
    """Move @champion back to @previous."""
    from omgml.registry.service import rollback_model

    return await call_service(rollback_model, request_of(RollbackModelRequest, locals()), ctx)


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(omgml_compare_models, "Compare champion and challengers", read_only=False, idempotent=True),
    ToolSpec(omgml_promote_model, "Promote a model to champion", read_only=False, destructive=True, idempotent=True),
    ToolSpec(omgml_rollback_model, "Roll back the champion", read_only=False, destructive=True),
)
