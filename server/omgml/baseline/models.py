"""Request and result of ``train_baseline``: cross-validated candidates, a leaderboard, MLflow references."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from omgml.config import Task
from omgml.workspace import Report

CandidateName = Literal["dummy", "linear", "hgb"]
DEFAULT_TIME_BUDGET_S = 300.0
DEFAULT_FOLDS = 5
DEFAULT_SEED = 0


class TrainBaselineRequest(BaseModel):
    """What to train on and how; empty fields come from ``omgml.toml`` or a stated default."""

    model_config = ConfigDict(extra="forbid")

    project_dir: str = Field(".", description="the project folder; paths below are relative to it")
    data_path: str | None = Field(None, description="the training table; default: [data] train in omgml.toml")
    target: str | None = Field(None, description="the column to predict; default: [project] target in omgml.toml")
    task: Task | None = Field(None, description="binary, multiclass or regression; default: omgml.toml, else inferred")
    metric: str | None = Field(
        None, description="primary metric; default: omgml.toml's metric, else the task's default"
    )
    cv: int = Field(DEFAULT_FOLDS, ge=2, le=20, description="number of cross-validation folds")
    group_column: str | None = Field(None, description="rows sharing a value stay in one fold (group K-fold)")
    time_column: str | None = Field(None, description="order rows by this time column and validate on later rows")
    time_budget: float = Field(
        DEFAULT_TIME_BUDGET_S,
        gt=0,
        le=7 * 24 * 3600,
        description="seconds; candidates that would exceed it are skipped",
    )
    max_rows: int | None = Field(
        None, ge=2, description="sample down to this many rows (stratified for classification)"
    )
    models: list[CandidateName] | None = Field(
        None, description="candidates to run (dummy, linear, hgb); default all. The dummy always runs: it is the bar"
    )
    seed: int = Field(DEFAULT_SEED, ge=0, le=2**32 - 1, description="seed for folds, sampling and models")
    model_name: str | None = Field(
        None, min_length=1, max_length=200, description="registered model name; default '<project>-model'"
    )
    register_model: bool = Field(True, description="register the best model in the MLflow model registry")


class Decision(BaseModel):
    """A choice omgml made (or was given), where it came from and why."""

    value: str
    source: Literal["request", "omgml.toml", "inferred", "default"]
    reason: str


class ClassCount(BaseModel):
    label: str
    count: int


class FeatureInfo(BaseModel):
    name: str
    kind: Literal["numeric", "categorical"]
    distinct: int
    missing: int


class DroppedColumn(BaseModel):
    name: str
    reason: str


class DataSummary(BaseModel):
    path: str = Field(description="relative to the project")
    sha256: str
    rows_read: int
    rows_dropped: int = Field(description="rows without a target (or group, or time) value")
    rows_used: int
    sampled: bool = Field(description="whether max_rows sampled the rows down")
    target: str
    classes: list[ClassCount] = Field(description="class counts in the rows used; empty for regression")
    positive_class: str | None = Field(description="binary only: the class scored as positive (sorted second)")
    features: list[FeatureInfo]
    dropped_columns: list[DroppedColumn]


class SplitInfo(BaseModel):
    kind: Literal["stratified_kfold", "kfold", "group_kfold", "time_series"]
    n_splits: int
    shuffle: bool
    seed: int = Field(description="the seed for folds, sampling and models, recorded for reruns")
    group_column: str | None
    time_column: str | None
    test_rows: list[int] = Field(description="rows in each test fold")
    reason: str


class MetricSummary(BaseModel):
    name: str
    greater_is_better: bool
    mean: float | None = Field(description="mean over the folds; None when not computed")
    std: float | None = Field(description="population standard deviation over the folds (ddof=0)")
    folds: list[float]


class CandidateResult(BaseModel):
    name: str
    estimator: str = Field(description="what was fitted, in words")
    status: Literal["ok", "failed", "skipped"]
    reason: str = Field(description="the error or why it was skipped; empty when ok")
    params: dict[str, str] = Field(description="model hyperparameters, as logged to MLflow")
    metrics: list[MetricSummary]
    primary_mean: float | None
    primary_std: float | None
    train_primary_mean: float | None = Field(
        description="primary metric on (a sample of up to 5,000 of) each fold's training rows, averaged"
    )
    lift_over_dummy: float | None = Field(description="primary metric gain over the dummy; positive is better")
    fit_time_mean: float | None = Field(description="seconds per fold fit")
    score_time_mean: float | None = Field(description="seconds per fold scoring")
    folds_done: int
    seconds: float = Field(description="wall time spent on this candidate")
    notes: list[str] = Field(description="warnings raised while fitting (e.g. convergence)")
    mlflow_run_id: str | None


class LeaderboardRow(BaseModel):
    rank: int
    name: str
    primary_mean: float
    primary_std: float
    lift_over_dummy: float | None
    fit_time_mean: float | None


class Finding(BaseModel):
    code: Literal[
        "within_noise",
        "dummy_best",
        "perfect_score",
        "target_leakage",
        "class_imbalance",
        "overfit",
        "sampled",
        "rows_dropped",
        "column_dropped",
        "task_ambiguous",
        "candidate_failed",
        "candidate_skipped",
        "over_budget",
    ]
    message: str


class TrackingInfo(BaseModel):
    uri: str
    experiment: str
    experiment_id: str | None
    parent_run_id: str | None
    registered_model: str | None
    model_version: str | None
    aliases: list[str] = Field(description="aliases this run set on the new version")
    model_uri: str | None = Field(description="load it with mlflow.pyfunc.load_model(model_uri)")
    note: str


class BaselineReport(Report):
    kind: Literal["baseline"] = "baseline"
    project_dir: str
    project: str = Field(description="project name: the MLflow experiment")
    ok: bool = Field(
        description="a model other than the dummy was trained, beat the dummy beyond noise and was logged, and no "
        "feature gives the target away (no within_noise or target_leakage finding; a perfect_score alone is a note)"
    )
    headline: str
    data: DataSummary
    task: Decision
    metric: Decision
    greater_is_better: bool
    split: SplitInfo
    threads: int
    threads_reason: str
    time_budget_s: float
    elapsed_s: float
    candidates: list[CandidateResult]
    leaderboard: list[LeaderboardRow]
    best: str | None
    findings: list[Finding]
    tracking: TrackingInfo
    next_steps: list[str]
