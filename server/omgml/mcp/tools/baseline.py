"""MCP tool for the baseline capability: ``omgml_train_baseline``.

The function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and ``BaselineReport`` the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from omgml.args import ProjectDir
from omgml.baseline.models import (
    DEFAULT_FOLDS,
    DEFAULT_SEED,
    DEFAULT_TIME_BUDGET_S,
    BaselineReport,
    BaselineTarget,
    BaselineTask,
    BaselineTimeColumn,
    Candidates,
    Folds,
    GroupColumn,
    MaxRows,
    ModelName,
    PrimaryMetric,
    RegisterModel,
    Seed,
    TimeBudget,
    TrainBaselineRequest,
    TrainingTable,
)
from omgml.mcp._common import IncludeImage, ToolSpec, call_service, request_of


async def omgml_train_baseline(
    data_path: TrainingTable = None,
    target: BaselineTarget = None,
    task: BaselineTask = None,
    metric: PrimaryMetric = None,
    cv: Folds = DEFAULT_FOLDS,
    group_column: GroupColumn = None,
    time_column: BaselineTimeColumn = None,
    time_budget: TimeBudget = DEFAULT_TIME_BUDGET_S,
    max_rows: MaxRows = None,
    models: Candidates = None,
    seed: Seed = DEFAULT_SEED,
    model_name: ModelName = None,
    register_model: RegisterModel = True,
    project_dir: ProjectDir = ".",
    include_image: IncludeImage = False,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, BaselineReport]:
    """Cross-validate dummy, linear and boosted-tree baselines; log to MLflow; register the best."""
    from omgml.baseline.service import train_baseline

    request = request_of(TrainBaselineRequest, locals())
    return await call_service(train_baseline, request, ctx, _picture if include_image else None)


def _picture(report: BaselineReport) -> bytes | str:
    """The leaderboard with fold spread and the dummy's score, as the HTML report and the MLflow run hold it."""
    from omgml.images import leaderboard_png

    return leaderboard_png(report) or "No image: no candidate produced a score, so there is no leaderboard to draw."


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(omgml_train_baseline, "Train baselines", read_only=False, destructive=False, idempotent=False),
)
