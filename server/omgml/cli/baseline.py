"""CLI command for the baseline capability: ``omgml baseline``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from omgml.args import ProjectDir
from omgml.baseline.models import (
    DEFAULT_FOLDS,
    DEFAULT_SEED,
    DEFAULT_TIME_BUDGET_S,
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
    TrainingTable,
)
from omgml.cli._common import HtmlCopy, HtmlOption, JsonFlag, ReplaceHtmlFlag, argument, emit, option, with_progress


def baseline(
    data: Annotated[str | None, argument(TrainingTable)] = None,
    target: Annotated[str | None, option(BaselineTarget)] = None,
    task: Annotated[str | None, option(BaselineTask)] = None,
    metric: Annotated[str | None, option(PrimaryMetric)] = None,
    cv: Annotated[int, option(Folds, "--cv")] = DEFAULT_FOLDS,
    group_column: Annotated[str | None, option(GroupColumn, "--group-column")] = None,
    time_column: Annotated[str | None, option(BaselineTimeColumn, "--time-column")] = None,
    time_budget: Annotated[float, option(TimeBudget, "--time-budget")] = DEFAULT_TIME_BUDGET_S,
    max_rows: Annotated[int | None, option(MaxRows, "--max-rows")] = None,
    models: Annotated[list[str] | None, option(Candidates, "--models", note="Repeat, or separate with commas.")] = None,
    seed: Annotated[int, option(Seed)] = DEFAULT_SEED,
    model_name: Annotated[str | None, option(ModelName, "--model-name")] = None,
    register: Annotated[bool, option(RegisterModel, "--register/--no-register")] = True,
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
    as_json: JsonFlag = False,
    html: HtmlOption = None,
    replace_html: ReplaceHtmlFlag = False,
) -> None:
    """Cross-validate baselines, log them to MLflow and register the best one."""
    from omgml.baseline.service import train_baseline

    names = [name.strip() for value in models or [] for name in value.split(",") if name.strip()] or None
    request = {
        "project_dir": str(project_dir),
        "data_path": data,
        "target": target,
        "task": task,
        "metric": metric,
        "cv": cv,
        "group_column": group_column,
        "time_column": time_column,
        "time_budget": time_budget,
        "max_rows": max_rows,
        "models": names,
        "seed": seed,
        "model_name": model_name,
        "register_model": register,
    }
    html_copy = HtmlCopy.of(html, replace_html, as_json)
    emit(with_progress(train_baseline, request), as_json, project_dir, html_copy)
