"""Requests and results of ``init_project`` and ``project_status``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from omgml.config import ProjectConfig, Task
from omgml.tracking import TrackingSummary
from omgml.workspace import Report


class InitRequest(BaseModel):
    project_dir: str = Field(".", description="folder to scaffold; created when only its last part is missing")
    name: str | None = Field(None, description="project name; defaults to the folder's name")
    task: Task = Field(description="binary, multiclass or regression")
    target: str = Field(min_length=1, description="the column the model predicts")
    metric: str | None = Field(None, description="success metric; a default per task is chosen when empty")
    data_path: str | None = Field(None, description="main training table, inside the project")
    description: str = Field("", description="one or two sentences: what the model is for")
    dry_run: bool = Field(False, description="report what would be written, write nothing")


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


StageState = Literal["done", "in_progress", "not_started"]


class Stage(BaseModel):
    name: str
    state: StageState
    evidence: list[str] = Field(description="what was found that decides the state")
    next_step: str | None = Field(description="the one thing to do next, when not done")


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


class StatusRequest(BaseModel):
    project_dir: str = Field(".", description="the project folder")


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
    next_step: str
