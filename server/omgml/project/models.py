"""Requests and results of ``init_project`` and ``project_status``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from omgml.args import COLUMN_MAX, METRIC_CHOICES, PATH_MAX, TASK_CHOICES, DryRun, ProjectDir, one_of
from omgml.config import ProjectConfig, Task
from omgml.monitor.history import BatchEntry
from omgml.tracking import TrackingSummary
from omgml.workspace import Report

# The arguments of init, declared once: the request, the MCP tool and the CLI use these.
InitProjectDir = Annotated[
    str,
    Field(
        max_length=PATH_MAX,
        description="Folder to scaffold; its parent must exist.",
    ),
]
ProjectName = Annotated[str | None, Field(max_length=100, description="Project name (default: the folder's).")]
InitTask = Annotated[Task, Field(description=f"What the model predicts: {TASK_CHOICES}.")]
InitTarget = Annotated[str, Field(min_length=1, max_length=COLUMN_MAX, description="The column the model predicts.")]
InitMetric = Annotated[
    str | None,
    Field(max_length=40, description=f"Success metric: {METRIC_CHOICES}; default: the task's."),
]
InitDataPath = Annotated[str | None, Field(max_length=PATH_MAX, description="Training table, e.g. data/raw/train.csv.")]
ModelDescription = Annotated[str, Field(max_length=2000, description="What the model is for.")]


class InitRequest(BaseModel):
    project_dir: InitProjectDir = "."
    name: ProjectName = None
    task: InitTask
    target: InitTarget
    metric: InitMetric = None
    data_path: InitDataPath = None
    description: ModelDescription = ""
    dry_run: DryRun = False


class InitResult(BaseModel):
    project_dir: str
    name: str
    package: str = Field(description="the Python package name made from the project name")
    package_note: str = Field(description="how the name became the package, when it had to change")
    task: Task
    target: str
    metric: str
    metric_note: str = Field(description="why this metric, when it was chosen by default")
    data_path: str | None
    data_note: str
    dry_run: bool
    changed: bool = Field(description="whether this run wrote (or, dry, would write) anything")
    created: list[str] = Field(description="files written (or that would be), relative to the project")
    unchanged: list[str] = Field(description="files already there with the same content")
    conflicts: list[str] = Field(description="files already there with other content: left alone")
    next_steps: list[str]


StageState = Literal["done", "stale", "in_progress", "not_started"]


class Staleness(BaseModel):
    """Why a stage's evidence no longer describes the project: the data it rests on changed after it, or the
    monitored batches say the model no longer fits them."""

    reason: Literal["data_changed", "drift_persisted", "performance_dropped"]
    evidence: str = Field(description="the report, reference profile or history the stage rests on")
    evidence_at: str = Field(description="when that evidence was made (UTC)")
    file: str | None = Field(None, description="data_changed: the file, relative to the project")
    changed_at: str | None = Field(None, description="data_changed: the file's modification time (UTC)")
    recorded_sha256: str | None = Field(
        None, description="the fingerprint the evidence recorded; None: it recorded none, so times were compared"
    )
    current_sha256: str | None = None
    batches: list[str] = Field(default_factory=list, description="the monitored batches that showed it")


class Stage(BaseModel):
    name: str
    state: StageState
    evidence: list[str] = Field(description="what was found that decides the state")
    next_step: str | None = Field(description="the one thing to do next, when not done")
    stale: list[Staleness] = Field(default_factory=list, description="why a stale stage is stale")


class ReadinessItem(BaseModel):
    practice: str
    ok: bool
    evidence: str


class GitInfo(BaseModel):
    is_repo: bool
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = Field(None, description="uncommitted or untracked, not ignored, files exist")


class DataFile(BaseModel):
    path: str = Field(description="relative to the project")
    area: str = Field(description="which data folder it is in: raw, processed, reference, train or other")
    format: str
    size_bytes: int
    rows: int | None = Field(description="data rows, None when not a table or not readable")
    rows_exact: bool = Field(description="False when rows is estimated because the file is over the count cap")
    columns: int | None
    sha256: str | None
    note: str = ""


class SavedReport(BaseModel):
    kind: str
    path: str
    created_at: str
    summary: str
    ok: bool
    runs: int = Field(description="how many reports of this kind are stored")


# Every kind of saved report `omgml report` can show again: the result model it is read into ("module:Name",
# imported only when one is read) and the command that saves one. A new kind of report is added here.
REPORT_KINDS = {
    "validation": ("omgml.validation.models:ValidationReport", "omgml validate DATA"),
    "drift": ("omgml.drift.models:DriftReport", "omgml drift REFERENCE CURRENT"),
    "baseline": ("omgml.baseline.models:BaselineReport", "omgml baseline"),
    "status": ("omgml.project.models:StatusReport", "omgml status"),
    "monitor": ("omgml.monitor.models:MonitorReport", "omgml monitor BATCH"),
    "compare": ("omgml.registry.models:CompareReport", "omgml compare"),
    "promote": ("omgml.registry.models:PromoteResult", "omgml promote REF"),
    "rollback": ("omgml.registry.models:RollbackResult", "omgml rollback"),
}

# The arguments of `omgml report` and ``show_report``, declared once.
ReportRef = Annotated[
    str | None,
    Field(
        max_length=PATH_MAX,
        description=f"A kind ({one_of(REPORT_KINDS)}: its latest saved report) or a saved report's JSON path, "
        "relative to the project; default: the latest of any kind.",
    ),
]
ReportFormat = Literal["md", "html", "json"]


class Trend(BaseModel):
    batches: int = Field(description="batches in the monitoring history")
    last: list[BatchEntry] = Field(description="the newest batches' history entries, oldest first")
    drift_streak: int = Field(description="consecutive batches with dataset drift, ending with the newest")
    performance_dropped: bool = Field(description="the newest labelled batch scored worse than promised, beyond noise")
    notes: list[str] = Field(description="history lines that could not be read, and why")


class StatusRequest(BaseModel):
    project_dir: ProjectDir = "."


class StatusReport(Report):
    kind: Literal["status"] = "status"
    project_dir: str
    is_project: bool = Field(description="whether omgml.toml exists")
    headline: str
    config: ProjectConfig | None
    git: GitInfo
    data: list[DataFile]
    reports: list[SavedReport]
    tracking: TrackingSummary
    stages: list[Stage]
    readiness: list[ReadinessItem]
    trend: Trend
    next_step: str
