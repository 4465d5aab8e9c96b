"""CLI command for the baseline capability: ``omgml baseline``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.baseline.models import DEFAULT_FOLDS, DEFAULT_SEED, DEFAULT_TIME_BUDGET_S
from omgml.cli._common import JsonFlag, emit


def baseline(
    data: Annotated[
        str | None, typer.Argument(help="Training table inside the project (default: [data] train in omgml.toml).")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Column to predict (default: omgml.toml's target).")] = None,
    task: Annotated[
        str | None, typer.Option(help="binary, multiclass or regression (default: omgml.toml, else inferred).")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="Primary metric (default: the project's success metric, else per task).")
    ] = None,
    cv: Annotated[int, typer.Option("--cv", help="Cross-validation folds (2-20).")] = DEFAULT_FOLDS,
    group_column: Annotated[
        str | None, typer.Option("--group-column", help="Keep rows sharing this column's value in one fold.")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="Order by this time column; test on later rows.")
    ] = None,
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds; candidates that would exceed it are skipped.")
    ] = DEFAULT_TIME_BUDGET_S,
    max_rows: Annotated[
        int | None, typer.Option("--max-rows", help="Sample down to this many rows (stratified for classes).")
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option("--models", help="Candidates to run: dummy, linear, hgb (repeat or comma-separate; default all)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for folds, sampling and models.")] = DEFAULT_SEED,
    model_name: Annotated[
        str | None, typer.Option("--model-name", help="Registered model name (default '<project>-model').")
    ] = None,
    register: Annotated[
        bool, typer.Option("--register/--no-register", help="Register the best model in the MLflow registry.")
    ] = True,
    project_dir: Annotated[Path, typer.Option("--project-dir", help="The project folder.")] = Path("."),
    as_json: JsonFlag = False,
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
    emit(train_baseline(request), as_json, project_dir)
