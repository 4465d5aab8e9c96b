"""Request and result of ``train_baseline``: cross-validated candidates, a leaderboard, MLflow references."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omgml.args import COLUMN_MAX, METRIC_CHOICES, PATH_MAX, TASK_CHOICES, ProjectDir, one_of
from omgml.config import Task
from omgml.workspace import Report

CandidateName = Literal["dummy", "linear", "hgb"]
DEFAULT_TIME_BUDGET_S = 300.0
DEFAULT_FOLDS = 5
DEFAULT_SEED = 0

# The arguments of train_baseline, declared once: the request, the MCP tool and the CLI use these.
TrainingTable = Annotated[
    str | None,
    Field(
        max_length=PATH_MAX,
        description="Training table; default: omgml.toml's [data] train.",
    ),
]
BaselineTarget = Annotated[
    str | None, Field(max_length=COLUMN_MAX, description="Column to predict; default: omgml.toml's target.")
]
BaselineTask = Annotated[
    Task | None,
    Field(description=f"{TASK_CHOICES}; default: omgml.toml's, else inferred."),
]
PrimaryMetric = Annotated[
    str | None,
    Field(
        max_length=40,
        description=f"Ranking metric: {METRIC_CHOICES}; default: the project's.",
    ),
]
Folds = Annotated[int, Field(ge=2, le=20, description="Cross-validation folds.")]
GroupColumn = Annotated[
    str | None,
    Field(
        max_length=COLUMN_MAX,
        description="Rows sharing its value stay in one fold.",
    ),
]
BaselineTimeColumn = Annotated[
    str | None,
    Field(
        max_length=COLUMN_MAX,
        description="Date/time column: test on later rows.",
    ),
]
TimeBudget = Annotated[
    float,
    Field(
        gt=0,
        le=7 * 24 * 3600,
        description="Seconds; slower candidates are skipped.",
    ),
]
MaxRows = Annotated[int | None, Field(ge=2, description="Sample down to this many rows.")]
Candidates = Annotated[
    list[CandidateName] | None,
    Field(
        max_length=len(get_args(CandidateName)),
        description=f"Candidates: {one_of(get_args(CandidateName))}; default: all.",
    ),
]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="Seed for folds, sampling and models.")]
ModelName = Annotated[
    str | None, Field(min_length=1, max_length=200, description="Registered model name. Empty: '<project>-model'.")
]
RegisterModel = Annotated[bool, Field(description="Register the best model (alias 'baseline').")]


class TrainBaselineRequest(BaseModel):
    """What to train on and how; empty fields come from ``omgml.toml`` or a stated default."""

    model_config = ConfigDict(extra="forbid")

    project_dir: ProjectDir = "."
    data_path: TrainingTable = None
    target: BaselineTarget = None
    task: BaselineTask = None
    metric: PrimaryMetric = None
    cv: Folds = DEFAULT_FOLDS
    group_column: GroupColumn = None
    time_column: BaselineTimeColumn = None
    time_budget: TimeBudget = DEFAULT_TIME_BUDGET_S
    max_rows: MaxRows = None
    models: Candidates = None
    seed: Seed = DEFAULT_SEED
    model_name: ModelName = None
    register_model: RegisterModel = True

    @field_validator("model_name")
    @classmethod
    def _registrable(cls, name: str | None) -> str | None:
        """Refused at parse time: MLflow's registry would refuse it only after the whole cross-validation."""
        from omgml.tracking import model_name_problem

        problem = None if name is None else model_name_problem(name)
        if problem:
            raise ValueError(f"MLflow's registry would refuse this name: {problem}")
        return name


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


class ConfusionMatrix(BaseModel):
    labels: list[str] = Field(
        description="classes of the rows (true) and of the columns (predicted), in the same order; the last is the "
        "pooled rest when classes_pooled > 0"
    )
    counts: list[list[int]] = Field(description="counts[i][j]: rows of true class i predicted as class j")
    classes_pooled: int = Field(description="the least frequent classes counted together in the last label")


class ResidualBin(BaseModel):
    """Rows whose prediction falls in one quantile bin of the predictions, and their residuals (actual - predicted)."""

    low: float
    high: float = Field(description="the bin holds predictions from low up to (not including) high; the last, high too")
    rows: int
    predicted_mean: float
    residual_mean: float
    p10: float
    p25: float
    median: float
    p75: float
    p90: float


class ResidualHistogram(BaseModel):
    edges: list[float] = Field(description="equal-width bins from the 0.5th to the 99.5th percentile of the residuals")
    counts: list[int]
    below: int = Field(description="residuals under the first edge")
    above: int = Field(description="residuals over the last edge")


class Residuals(BaseModel):
    mean: float
    bins: list[ResidualBin]
    histogram: ResidualHistogram


class OutOfFold(BaseModel):
    """The best model's cross-validation predictions, each row predicted by the fold model that did not train on it."""

    rows: int = Field(description="rows in a test fold: all of them, but the first period of a time split")
    seconds: float = Field(description="time to summarise the predictions cross-validation scored (no refit)")
    confusion: ConfusionMatrix | None = Field(description="classification only")
    residuals: Residuals | None = Field(description="regression only")


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
    out_of_fold: OutOfFold | None = Field(
        default=None, description="the best model only: its confusion matrix or residuals over the test folds"
    )


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
