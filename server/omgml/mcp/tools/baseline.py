"""MCP tool for the baseline capability: ``omgml_train_baseline``.

The function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and ``BaselineReport`` the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from omgml.baseline.models import (
    DEFAULT_FOLDS,
    DEFAULT_SEED,
    DEFAULT_TIME_BUDGET_S,
    BaselineReport,
    CandidateName,
)
from omgml.config import Task
from omgml.mcp._args import ProjectDir
from omgml.mcp._common import ToolSpec, call_service


async def omgml_train_baseline(
    data_path: Annotated[
        str | None,
        Field(
            max_length=4096,
            description="Training table inside the project (csv, tsv, parquet, jsonl). "
            "Empty: [data] train from omgml.toml.",
        ),
    ] = None,
    target: Annotated[
        str | None, Field(max_length=256, description="Column to predict. Empty: [project] target from omgml.toml.")
    ] = None,
    task: Annotated[
        Task | None,
        Field(
            description="binary, multiclass or regression. Empty: omgml.toml's task, else inferred from the "
            "target with the reason stated."
        ),
    ] = None,
    metric: Annotated[
        str | None,
        Field(
            max_length=40,
            description="Primary metric that ranks the candidates. Classification: roc_auc, "
            "average_precision (binary), accuracy, balanced_accuracy, f1_macro, log_loss; regression: rmse, mae, "
            "r2. Empty: the project's success metric, else the task's default, explained.",
        ),
    ] = None,
    cv: Annotated[int, Field(ge=2, le=20, description="Cross-validation folds.")] = DEFAULT_FOLDS,
    group_column: Annotated[
        str | None,
        Field(
            max_length=256,
            description="Rows sharing a value of this column stay in one fold (group K-fold), "
            "e.g. a customer or patient id.",
        ),
    ] = None,
    time_column: Annotated[
        str | None,
        Field(
            max_length=256,
            description="Order rows by this date/time column and always test on later rows (time-series split).",
        ),
    ] = None,
    time_budget: Annotated[
        float,
        Field(
            gt=0,
            le=7 * 24 * 3600,
            description="Seconds. Candidates that would exceed it are skipped, and the result says so.",
        ),
    ] = DEFAULT_TIME_BUDGET_S,
    max_rows: Annotated[
        int | None, Field(ge=2, description="Sample down to this many rows first (stratified for classification).")
    ] = None,
    models: Annotated[
        list[CandidateName] | None,
        Field(max_length=3, description="Candidates: dummy, linear, hgb. Empty: all. The dummy always runs."),
    ] = None,
    seed: Annotated[int, Field(ge=0, le=2**32 - 1, description="Seed for folds, sampling and models.")] = DEFAULT_SEED,
    model_name: Annotated[
        str | None,
        Field(min_length=1, max_length=200, description="Registered model name. Empty: '<project>-model'."),
    ] = None,
    register_model: Annotated[
        bool, Field(description="Register the best model (alias 'baseline'; 'champion' when none exists).")
    ] = True,
    project_dir: ProjectDir = ".",
    ctx: Context | None = None,
) -> Annotated[CallToolResult, BaselineReport]:
    """Cross-validate a dummy, a linear model and boosted trees, log them to MLflow, and register the best one."""
    from omgml.baseline.service import train_baseline

    # A dict: the service validates it, so a bad value comes back as a readable tool error.
    request = {
        "project_dir": project_dir,
        "data_path": data_path,
        "target": target,
        "task": task,
        "metric": metric,
        "cv": cv,
        "group_column": group_column,
        "time_column": time_column,
        "time_budget": time_budget,
        "max_rows": max_rows,
        "models": models,
        "seed": seed,
        "model_name": model_name,
        "register_model": register_model,
    }
    return await call_service(train_baseline, request, ctx)


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        omgml_train_baseline, "Train cross-validated baselines", read_only=False, destructive=False, idempotent=False
    ),
)
