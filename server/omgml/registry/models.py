"""Requests and results of compare, promote and rollback: the registry's champion, with evidence."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from omgml.args import PATH_MAX, ProjectDir
from omgml.workspace import Report

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95  # of every interval; with k challengers each is at 1 - 0.05/k (Bonferroni)
REF_MAX = 256

# The arguments, declared once: the requests, the MCP tools and the CLI use these.
ModelRef = Annotated[
    str, Field(min_length=1, max_length=REF_MAX, description="Version number, alias or run id of the project's model.")
]
Challengers = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=REF_MAX)]] | None,
    Field(min_length=1, max_length=10, description="Challenger refs (version, alias, run id); default: @challenger."),
]
Champion = Annotated[str, Field(min_length=1, max_length=REF_MAX, description="Champion ref.")]
EvaluationTable = Annotated[
    str | None,
    Field(max_length=PATH_MAX, description="Held-out table with the target; default: omgml.toml's [data] validation."),
]
Margin = Annotated[
    float | None,
    Field(ge=0, allow_inf_nan=False, description="Gain needed to promote; default: [registry] margin, else 0."),
]
Resamples = Annotated[int, Field(ge=100, le=100_000, description="Paired bootstrap resamples.")]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="Bootstrap seed.")]
Force = Annotated[bool, Field(description="Promote without a compare decision (needs reason).")]
Reason = Annotated[str | None, Field(min_length=1, max_length=2000, description="Why; recorded as a tag.")]


class CompareModelsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_dir: ProjectDir = "."
    challengers: Challengers = None
    champion: Champion = "champion"
    data: EvaluationTable = None
    margin: Margin = None
    resamples: Resamples = DEFAULT_RESAMPLES
    seed: Seed = DEFAULT_SEED


class PromoteModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_dir: ProjectDir = "."
    ref: ModelRef
    force: Force = False
    reason: Reason = None


class RollbackModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_dir: ProjectDir = "."


class ModelScore(BaseModel):
    ref: str = Field(description="as it was named")
    version: str
    run_id: str | None
    aliases: list[str] = Field(description="its aliases when compared")
    score: float = Field(description="the metric on every evaluated row")
    low: float = Field(description="lower end of its bootstrap interval")
    high: float = Field(description="upper end of its bootstrap interval")


class SignatureChange(BaseModel):
    column: str
    change: Literal["added", "removed", "type_changed"]
    champion_type: str | None
    challenger_type: str | None


class ChallengerResult(BaseModel):
    model: ModelScore
    difference: float = Field(description="challenger minus champion, signed so that positive is better")
    low: float = Field(description="lower end of the paired bootstrap interval of the difference")
    high: float
    decision: Literal["promote", "keep"]
    reason: str
    signature_changes: list[SignatureChange]


class Evaluation(BaseModel):
    """What the models were scored on and how the intervals were drawn."""

    data: str = Field(description="the evaluation table, relative to the project")
    data_source: Literal["request", "omgml.toml"]
    sha256: str
    rows: int = Field(description="rows scored (with a target value)")
    rows_dropped: int = Field(description="rows without a target value")
    target: str
    metric: str
    greater_is_better: bool
    margin: float
    margin_source: Literal["request", "omgml.toml", "default"]
    resamples: int
    resamples_undefined: int = Field(description="resamples where the metric was undefined (one class drawn), skipped")
    seed: int
    confidence: float = Field(description="of each interval (Bonferroni-adjusted with several challengers)")
    rule: str = Field(description="the decision rule, in words")


class CompareReport(Report):
    kind: Literal["compare"] = "compare"
    ok: bool = Field(description="a challenger should be promoted")
    registered_model: str
    champion: ModelScore
    challengers: list[ChallengerResult]
    promote: str | None = Field(description="the version to promote (the best challenger that passed), or None")
    evaluation: Evaluation
    warnings: list[str]
    next_steps: list[str]


class PromoteResult(Report):
    kind: Literal["promote"] = "promote"
    registered_model: str
    version: str = Field(description="the new @champion")
    previous: str | None = Field(description="the old champion, now @previous")
    forced: bool
    reason: str
    evidence: str = Field(description="the compare report that decided it, or 'forced'")
    by: str
    at: str


class RollbackResult(Report):
    kind: Literal["rollback"] = "rollback"
    registered_model: str
    version: str = Field(description="the restored @champion")
    rolled_back: str = Field(description="the version that was @champion")
    previous: str | None = Field(description="@previous now (the champion before the restored one), or None")
    by: str
    at: str
