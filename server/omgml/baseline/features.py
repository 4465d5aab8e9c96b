"""Which columns the candidates see, as what kind, and which are dropped and why.

A column's kind is the data engine's (``omgml.data.kinds.infer_kind`` over ``stats_of`` the
column), the same kind validation and drift give it. An ordered table of (rule, reason) rows
then decides what is dropped: identifiers, free text and names, dates and times of day never
become features, each with a ``column_dropped`` finding. Every kept column is either numeric
(float or int) or categorical (Python strings, NaN for missing), so the fitted pipelines take
the same plain frame at serving time that they were trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omgml.baseline.models import DroppedColumn, FeatureInfo
from omgml.data.kinds import infer_kind, stats_of
from omgml.errors import InvalidInput


@dataclass(frozen=True)
class ColumnFacts:
    name: str
    rows: int
    missing: int
    distinct: int
    kind: str  # the engine's kind: numeric, integer, categorical, boolean, datetime, time, text, id_like
    kind_reason: str

    @property
    def present(self) -> int:
        return self.rows - self.missing


@dataclass(frozen=True)
class DropRule:
    name: str
    holds: Callable[[ColumnFacts], bool]
    reason: Callable[[ColumnFacts], str]


DROP_RULES: tuple[DropRule, ...] = (
    DropRule("all null", lambda c: c.present == 0, lambda c: f"entirely null ({c.rows:,} rows): nothing to learn from"),
    DropRule(
        "date or time",
        lambda c: c.kind in ("datetime", "time"),
        lambda c: (
            f"a date/time column ({c.kind_reason}): derive features from it (age, day of week, hour) "
            "or pass it as --time-column"
        ),
    ),
    DropRule(
        "constant",
        lambda c: c.distinct == 1 and c.missing == 0,
        lambda c: "constant: the same value in every row",
    ),
    DropRule(
        "identifier",
        lambda c: c.kind == "id_like",
        lambda c: (
            f"identifies rows ({c.kind_reason}; {c.distinct:,} distinct in {c.present:,} rows): "
            "nothing learned from a value that names one row carries to new rows"
        ),
    ),
    DropRule(
        "text or names",
        lambda c: c.kind == "text",
        lambda c: (
            f"free text or names ({c.kind_reason}; {c.distinct:,} distinct in {c.present:,} rows), "
            "which one-hot codes and category splits cannot generalize from"
        ),
    ),
)


@dataclass
class FeaturePlan:
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    infos: list[FeatureInfo] = field(default_factory=list)
    dropped: list[DroppedColumn] = field(default_factory=list)


def encoding(series: pd.Series) -> str:
    """How a kept column is fed to the models: numbers (numeric and boolean dtypes) or categories."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
    ):
        return "numeric"
    return "categorical"


def column_facts(series: pd.Series, name: str) -> ColumnFacts:
    """The column's counts and its engine kind (with the reason)."""
    kind, reason = infer_kind(stats_of(_arrow(series), name))
    return ColumnFacts(name, len(series), int(series.isna().sum()), int(series.nunique(dropna=True)), kind, reason)


def plan_features(frame: pd.DataFrame, excluded: dict[str, str]) -> FeaturePlan:
    """Sort every column into numeric, categorical or dropped (with the reason)."""
    plan = FeaturePlan()
    for name in frame.columns:
        if name in excluded:
            if excluded[name]:
                plan.dropped.append(DroppedColumn(name=name, reason=excluded[name]))
            continue
        series = frame[name]
        facts = column_facts(series, str(name))
        rule = next((r for r in DROP_RULES if r.holds(facts)), None)
        if rule is not None:
            plan.dropped.append(DroppedColumn(name=name, reason=rule.reason(facts)))
            continue
        kind = encoding(series)
        (plan.numeric if kind == "numeric" else plan.categorical).append(name)
        plan.infos.append(FeatureInfo(name=name, kind=kind, distinct=facts.distinct, missing=facts.missing))
    if not plan.infos:
        why = "; ".join(f"'{d.name}': {d.reason}" for d in plan.dropped[:6]) or "the table has only the target column"
        raise InvalidInput(
            "No usable feature columns are left to train on",
            why,
            "add feature columns to the table (numbers or categories) that are known before the target is",
        )
    return plan


def _arrow(series: pd.Series):
    """The column as Arrow, the form the kind rules read; values Arrow cannot type together are read as text."""
    import pyarrow as pa

    try:
        return pa.Array.from_pandas(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        text = series.astype(str).to_numpy(dtype=object)
        text[series.isna().to_numpy()] = None
        return pa.array(text, type=pa.large_string())


def prepare_features(frame: pd.DataFrame, plan: FeaturePlan) -> pd.DataFrame:
    """The model's input frame: numbers as float or int, categories as Python strings with NaN for missing."""
    columns = {}
    for info in plan.infos:
        series = frame[info.name]
        if info.kind == "numeric":
            if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_extension_array_dtype(series.dtype):
                series = series.astype("float64")
            columns[info.name] = pd.Series(series.to_numpy(), index=frame.index)
        else:  # object dtype on purpose: pandas would infer its own string dtype, serving sends objects
            columns[info.name] = pd.Series(_as_text(series), index=frame.index, dtype=object)
    return pd.DataFrame(columns, index=frame.index)


def _as_text(series: pd.Series) -> np.ndarray:
    values = np.array(series.astype(object).to_numpy(), dtype=object)  # a copy: pandas hands out read-only views
    missing = pd.isna(values)
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        values = np.array([v if m else str(v) for v, m in zip(values, missing)], dtype=object)
    values[missing] = np.nan
    return values
