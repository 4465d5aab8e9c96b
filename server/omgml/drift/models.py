"""Request and result of ``check_drift``: the same objects for the Python API, the CLI and MCP."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator
from pydantic.fields import FieldInfo

from omgml.args import COLUMN_MAX, PATH_MAX, EngineChoice, ProjectDir
from omgml.drift.stattests import TEST_NAMES
from omgml.workspace import SAVED_NAME_PATTERN, Report

Role = Literal["target", "prediction", "feature"]

# The arguments of check_drift, declared once: the request, the MCP tool and the CLI use these.
Reference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=PATH_MAX,
        description="Reference table, or a saved reference profile's name.",
    ),
]
Current = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=PATH_MAX,
        description="Table to check; empty only with save_reference.",
    ),
]
Columns = Annotated[
    list[str] | None,
    Field(min_length=1, max_length=10_000, description="Only these columns (default: all in both)."),
]
DriftTarget = Annotated[
    str | None,
    Field(
        max_length=COLUMN_MAX,
        description="Target column, checked first (default: omgml.toml's).",
    ),
]
Prediction = Annotated[str | None, Field(max_length=COLUMN_MAX, description="Prediction column, checked first.")]
Tests = Annotated[
    dict[str, str],
    Field(description=f"Stat test to force, by column: {', '.join(TEST_NAMES)}."),
]
Thresholds = Annotated[dict[str, float], Field(description="Threshold by stat test, e.g. wasserstein: 0.2.")]
DriftShare = Annotated[float, Field(gt=0, le=1, description="Share of drifted features that flags the dataset.")]
SaveReference = Annotated[
    str | None,
    Field(
        pattern=SAVED_NAME_PATTERN,
        description="Save the reference's profile under this name.",
    ),
]
ReplaceReference = Annotated[bool, Field(description="Let save_reference overwrite a profile.")]
TimeColumn = Annotated[str | None, Field(max_length=COLUMN_MAX, description="Time column: compare each window.")]
Window = Annotated[str | None, Field(max_length=32, description="Window length, e.g. 1h, 1D, 7D, 1W.")]


def _description(alias: Any) -> str:
    return next(m.description for m in alias.__metadata__ if isinstance(m, FieldInfo))


class DriftRequest(BaseModel):
    """Compare ``current`` with ``reference`` column by column (paths are relative to the project).

    In the Python API ``reference`` and ``current`` may also be Spark DataFrames (the Spark engine then runs);
    the faces take the ``Reference`` and ``Current`` strings.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    project_dir: ProjectDir = "."
    reference: Any = Field(description=_description(Reference))
    current: Any = Field(None, description=_description(Current))
    columns: Columns = None
    target: DriftTarget = None
    prediction: Prediction = None
    tests: Tests = {}  # pydantic copies the default per instance
    thresholds: Thresholds = {}
    drift_share: DriftShare = 0.5
    save_reference: SaveReference = None
    replace_reference: ReplaceReference = False
    time_column: TimeColumn = None
    window: Window = None
    engine: EngineChoice = None

    @field_validator("reference", "current")
    @classmethod
    def _table(cls, value: Any, info) -> Any:
        from omgml.spark.source import is_spark_frame

        if value is None and info.field_name == "current":
            return None
        if is_spark_frame(value):
            return value
        alias = Reference if info.field_name == "reference" else Current
        return TypeAdapter(alias).validate_python(value)

    @model_validator(mode="after")
    def _consistent(self) -> DriftRequest:
        if self.current is None and self.save_reference is None:
            raise ValueError("give the current data to check, or save_reference to only save a profile")
        if (self.time_column is None) != (self.window is None):
            raise ValueError("time_column and window go together: give both, or neither")
        return self


class EffectSize(BaseModel):
    """The distance that says whether a change is material, against its threshold."""

    measure: str
    value: float
    threshold: float
    material: bool


class Distribution(BaseModel):
    """The counts a column's chart draws: the values the test compared, per bin or category cell, on each side.

    ``bins``: a numeric column counted in ``edges`` (as ``numpy.histogram``: each bin ``[a, b)``, the last
    ``[a, b]``). ``values``: the same, one bin per distinct value (edges half-way between), the values as
    ``labels``. ``categories``: the test's cells after pooling rare ones, by ``labels``. Counts are exact and sum
    to each side's values.
    """

    kind: Literal["bins", "values", "categories"]
    edges: list[float] | None = None
    labels: list[str] | None = None
    reference: list[int]
    current: list[int]
    note: str = Field(description="What the cells are")


class ColumnDrift(BaseModel):
    column: str
    role: Role
    kind: Literal["numeric", "categorical", "binary"]
    test: str
    score_kind: Literal["pvalue", "distance"]
    statistic: float
    pvalue: float | None
    adjusted_pvalue: float | None = Field(description="Holm-adjusted across the columns tested with a p-value")
    threshold: float
    decision_rule: Literal["pvalue_below", "score_above"]
    effect: EffectSize
    drifted: bool
    decision: str = Field(description="Why drifted or not, in words")
    why: str = Field(description="Why this test")
    method: str = Field(description="How the statistic and p-value were computed")
    rows_reference: int
    rows_current: int
    statistic_bound: float = Field(description="Largest possible difference from the raw-data statistic (0: exact)")
    near_threshold: bool = Field(description="The decision could flip within statistic_bound")
    distribution: Distribution | None = Field(
        None, description="Reference and current counts behind the test (drifted columns, target and prediction)"
    )


class ColumnSignals(BaseModel):
    """Missingness and novelty: reported beside the tests, not inside them."""

    column: str
    role: Role
    null_rate_reference: float
    null_rate_current: float
    null_rate_change: float
    infinite_rate_reference: float
    infinite_rate_current: float
    new_categories: list[str]
    new_category_count: int
    new_category_share: float = Field(description="Share of current values in categories the reference lacks")
    vanished_categories: list[str]
    vanished_category_count: int
    vanished_reference_share: float = Field(description="Share of reference values in categories absent now")
    out_of_range_share: float | None = Field(description="Share of current values outside the reference min..max")
    alerts: list[str]
    severity: float = Field(
        0.0, description="Largest share of values the alerts are about (0 without alerts); alerts are ranked by it"
    )


class SkippedColumn(BaseModel):
    column: str
    role: Role
    reason: str


class WindowDrift(BaseModel):
    start: str
    end: str
    rows: int
    status: Literal["drift", "no_drift", "skipped"]
    drifted_share: float | None
    features_tested: int
    features_drifted: int
    drifted_columns: list[str]
    target_drifted: bool | None
    note: str


class DriftReport(Report):
    """The dataset verdict, per-column results (target and prediction first), signals and skips."""

    kind: Literal["drift"] = "drift"

    project_dir: str
    reference: str
    reference_kind: Literal["file", "profile"]
    current: str | None
    rows_reference: int
    rows_current: int
    checked: bool = Field(description="False when only a reference profile was saved")
    drifted: bool
    verdict: str
    drift_share_threshold: float
    drifted_share: float | None
    features_tested: int
    features_drifted: int
    target_drifted: bool | None
    prediction_drifted: bool | None
    top_columns: list[str]
    columns: list[ColumnDrift]
    signals: list[ColumnSignals]
    skipped: list[SkippedColumn]
    only_in_reference: list[str]
    only_in_current: list[str]
    time_column: str | None
    window: str | None
    windows: list[WindowDrift]
    first_drift_window: str | None
    saved_reference: str | None
    notes: list[str]
    next_steps: list[str]
