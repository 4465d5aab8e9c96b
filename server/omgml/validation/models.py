"""Request and result of ``validate_data``, and the data contract's file format."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omgml.args import COLUMN_MAX, PATH_MAX, EngineChoice, ProjectDir, one_of
from omgml.data.kinds import Kind
from omgml.validation.check_ids import TARGET_CHECK_IDS
from omgml.workspace import SAVED_NAME_PATTERN, Report

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
Example = str | int | float | bool | None
CONTRACT_NAME_PATTERN = SAVED_NAME_PATTERN

# The arguments of validate_data, declared once: the request, the MCP tool and the CLI use these.
_DATA = "Table to check: csv, tsv, parquet or jsonl."
DataTable = Annotated[str, Field(min_length=1, max_length=PATH_MAX, description=_DATA)]
ContractRef = Annotated[
    str | None,
    Field(
        max_length=PATH_MAX,
        description="A saved contract's name, or a contract .json path.",
    ),
]
SaveContract = Annotated[
    str | None,
    Field(
        pattern=CONTRACT_NAME_PATTERN,
        description="Save a contract inferred from this (trusted) data under this name.",
    ),
]
ReplaceContract = Annotated[bool, Field(description="Let save_contract overwrite a contract.")]
LabelColumn = Annotated[
    str | None,
    Field(
        max_length=COLUMN_MAX,
        description=f"Label column, for {one_of(TARGET_CHECK_IDS)}; default: omgml.toml's.",
    ),
]
KeyColumns = Annotated[list[str], Field(max_length=32, description="Columns that together identify a row.")]
_AGAINST = "Another table (e.g. the test set), to report shared rows."
AgainstTable = Annotated[str | None, Field(max_length=PATH_MAX, description=_AGAINST)]
Delimiter = Annotated[str | None, Field(min_length=1, max_length=1, description="csv delimiter; sniffed when empty.")]
Encoding = Annotated[
    str | None,
    Field(max_length=40, description="Text encoding; sniffed when empty."),
]


class ValidateDataRequest(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    project_dir: ProjectDir = "."
    data: Any = Field(description=_DATA)  # a path (DataTable on the faces), a pandas or Spark DataFrame, spark:db.t
    contract: ContractRef = None
    save_contract: SaveContract = None
    replace_contract: ReplaceContract = False
    target: LabelColumn = None
    keys: KeyColumns = []  # pydantic copies the default per instance
    against: Any = Field(None, description=_AGAINST)  # a path (AgainstTable on the faces) or a Spark DataFrame
    delimiter: Delimiter = None
    encoding: Encoding = None
    engine: EngineChoice = None

    @field_validator("against")
    @classmethod
    def _against_kind(cls, value: Any) -> Any:
        import os

        from omgml.spark.source import is_spark_frame

        if value is None or is_spark_frame(value):
            return value
        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            if len(text) > PATH_MAX:
                raise ValueError(f"the against path is longer than {PATH_MAX} characters")
            return text
        raise ValueError(f"against must be a file path or a Spark DataFrame, not {type(value).__name__}")

    @field_validator("data")
    @classmethod
    def _data_kind(cls, value: Any) -> Any:
        import os

        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            if not text.strip():
                raise ValueError("the data path is empty")
            return text
        if type(value).__name__ == "DataFrame":  # pandas, or Spark (the Spark engine reads it)
            return value
        raise ValueError(f"data must be a file path or a pandas or Spark DataFrame, not {type(value).__name__}")


class Finding(BaseModel):
    check: str = Field(description="the id of the check that found it")
    column: str | None = Field(description="the column, or null for the whole table")
    severity: Severity
    count: int = Field(
        description="how many rows (values) have the defect; for schema checks the rows affected; "
        "for target_leakage the held-out rows it was scored on"
    )
    fraction: float = Field(
        description="count over the rows looked at; for target_leakage the held-out score (balanced accuracy or R^2)"
    )
    examples: list[Example] = Field(description="up to 5 example values, row numbers or column names; see example_kind")
    example_kind: Literal["values", "rows", "columns", "lines"] = Field(
        description="what the examples are: values, 1-based data row numbers, column names, or 1-based file line numbers"
    )
    message: str
    suggestion: str


class SeverityCounts(BaseModel):
    error: int = 0
    warning: int = 0
    info: int = 0


class ColumnBounds(BaseModel):
    """A numeric column's contract range and how many of this data's values fall outside it."""

    min: float | int | None = Field(description="the contract's min; null: unbounded below")
    max: float | int | None = Field(description="the contract's max; null: unbounded above")
    below: int = Field(description="finite values below min")
    above: int = Field(description="finite values above max")


class ColumnSummary(BaseModel):
    name: str
    kind: Kind
    kind_reason: str
    dtype: str = Field(description="the type the column was read as")
    present: int = Field(description="values that are not null or NaN")
    missing: int = Field(description="null or NaN values")
    missing_fraction: float
    distinct: int
    distinct_exact: bool = Field(description="False when distinct is estimated (above 1,000 distinct values)")
    min: Example = None
    max: Example = None
    findings: int = Field(description="findings about this column")
    bounds: ColumnBounds | None = Field(
        None, description="the contract's numeric min/max beside min and max above; null: none to check"
    )


class CheckRun(BaseModel):
    check: str
    severity: Severity
    status: Literal["ran", "skipped"]
    findings: int
    reason: str = Field(description="why it was skipped, or what it looked at")


class ValidationReport(Report):
    kind: Literal["validation"] = "validation"
    source: str = Field(description="the data checked, relative to the project")
    sha256: str | None = Field(None, description="of the file checked (None for a DataFrame)")
    format: str
    rows: int
    columns: int
    passed: bool = Field(description="no error-severity finding")
    counts: SeverityCounts
    findings: list[Finding] = Field(description="most severe first, then by share of rows affected")
    column_summary: list[ColumnSummary]
    checks: list[CheckRun] = Field(description="every registered check: ran or skipped, and why")
    contract: str | None = Field(description="the contract checked against, relative to the project")
    contract_saved: str | None = Field(description="the contract written by this run, relative to the project")
    target: str | None
    keys: list[str]
    against: str | None
    notes: list[str] = Field(description="what the run assumed or left out")


class ContractColumn(BaseModel):
    """One column's expectations. Edit freely: null means 'not checked'."""

    model_config = ConfigDict(extra="forbid")
    name: str
    kind: Kind
    dtype: str = Field("", description="the type it was read as when the contract was inferred (informative)")
    nullable: bool = Field(True, description="false: any missing value fires null_rate")
    null_rate: float = Field(0.0, ge=0, le=1, description="missing share observed when inferred (informative)")
    max_null_rate: float = Field(1.0, ge=0, le=1, description="missing share above which null_rate fires")
    min: float | int | str | None = Field(None, description="smallest allowed value (ISO text for dates)")
    max: float | int | str | None = Field(None, description="largest allowed value (ISO text for dates)")
    categories: list[str | int | float | bool] | None = Field(None, description="the allowed values; null: any")
    bounds: Literal["inferred", "exact"] = Field(
        "exact",
        description="inferred: min, max and categories were inferred from a sample, and a few values just past "
        "them are warnings (many, or far, are errors); exact: every value outside is an error. A min, max or "
        "categories edited by hand (different from what was inferred) is checked exactly either way",
    )
    inferred_min: float | int | None = Field(None, description="the min inference wrote (informative)")
    inferred_max: float | int | None = Field(None, description="the max inference wrote (informative)")
    observed_min: float | int | None = Field(None, description="smallest value in the data it was inferred from")
    observed_max: float | int | None = Field(None, description="largest value in the data it was inferred from")
    values: int = Field(0, ge=0, description="non-missing values in that data: the evidence the inferred rules rest on")
    frequencies: list[tuple[str | int | float | bool, int]] | None = Field(
        None, description="the most frequent values and their counts in that data, at most 50 (informative)"
    )
    new_category_rate: float | None = Field(
        None,
        ge=0,
        le=1,
        description="share of values seen exactly once (Good-Turing: the chance the next value is a category not "
        "seen yet); categories is an allow-list only when it is small",
    )
    unique: bool = Field(False, description="no two rows may share a value")


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")
    omgml_version: str
    name: str
    created_at: str
    source: str = Field("", description="the data it was inferred from")
    rows: int = Field(0, description="rows in that data")
    target: str | None = None
    keys: list[str] = Field(default_factory=list)
    columns: list[ContractColumn]
