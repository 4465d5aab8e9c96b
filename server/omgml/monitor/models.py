"""Request and result of ``monitor_batch``: the same objects for the Python API, the CLI and MCP."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omgml.args import COLUMN_MAX, PATH_MAX, ProjectDir
from omgml.monitor.history import BatchEntry, DriftedColumn, Performance
from omgml.workspace import SAVED_NAME_PATTERN, Report

# The arguments of monitor_batch, declared once: the request, the MCP tool and the CLI use these.
Batch = Annotated[str, Field(min_length=1, max_length=PATH_MAX, description="New batch: csv, tsv, parquet or jsonl.")]
Labels = Annotated[
    str | None, Field(min_length=1, max_length=PATH_MAX, description="Table of the batch's true labels, joined on key.")
]
LabelKey = Annotated[
    str | None, Field(min_length=1, max_length=COLUMN_MAX, description="Column joining labels to the batch.")
]
MonitorContract = Annotated[
    str | None,
    Field(max_length=PATH_MAX, description="Saved contract to validate with (default: the project package's)."),
]
MonitorReference = Annotated[
    str | None,
    Field(pattern=SAVED_NAME_PATTERN, description="Saved reference profile for drift (default: the package's)."),
]

AlertStatus = Literal["fired", "quiet", "not_evaluated"]


class MonitorBatchRequest(BaseModel):
    """Monitor one new ``batch`` of the project (paths are relative to the project)."""

    model_config = ConfigDict(extra="forbid")

    project_dir: ProjectDir = "."
    batch: Batch
    labels: Labels = None
    key: LabelKey = None
    contract: MonitorContract = None
    reference: MonitorReference = None

    @model_validator(mode="after")
    def _labels_with_key(self) -> MonitorBatchRequest:
        if (self.labels is None) != (self.key is None):
            raise ValueError("labels and key go together: the key column joins the labels to the batch's rows")
        return self


class ValidationPart(BaseModel):
    """The batch's validation against the contract, in counts; the full report is at ``report_path``."""

    headline: str
    passed: bool
    errors: int
    warnings: int
    contract: str | None = Field(description="the contract file used; None: checked without one")
    report_path: str | None


class DriftPart(BaseModel):
    """The batch's drift against the reference profile, in counts; the full report is at ``report_path``."""

    headline: str
    reference: str
    dataset_drift: bool
    drifted_share: float | None
    features_tested: int
    features_drifted: int
    drifted: list[DriftedColumn] = Field(description="every drifted column (any role), largest effect first")
    report_path: str | None


class AlertResult(BaseModel):
    rule: str = Field(description="as written in omgml.toml")
    metric: str
    op: str
    threshold: float
    value: float | None = Field(description="the metric measured on this batch; None: not measured")
    status: AlertStatus
    reason: str = Field(description="the comparison, or why it was not evaluated")


class Delivery(BaseModel):
    """One fired rule's POST to the webhook."""

    rule: str
    delivered: bool
    attempts: int
    status_code: int | None = Field(description="the last HTTP status; None: no response")
    error: str = Field(description="why it failed ('' when delivered)")


class MonitorReport(Report):
    """One monitored batch: validation, drift and performance, the alert rules, the webhook posts, the trend."""

    kind: Literal["monitor"] = "monitor"

    batch: str
    fingerprint: str
    rows: int
    validation: ValidationPart
    drift: DriftPart | None
    performance: Performance | None
    alerts: list[AlertResult]
    fired: list[str]
    webhook: str | None = Field(description="the webhook's scheme and host (its path may hold a secret)")
    deliveries: list[Delivery]
    recent: list[BatchEntry] = Field(description="the history's last batches, oldest first, this one last")
    notes: list[str]
    next_steps: list[str]
