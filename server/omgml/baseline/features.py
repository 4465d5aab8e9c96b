"""Which columns the candidates see, as what kind, and which are dropped and why.

An ordered table of (rule, reason) rows decides what is dropped; every kept column is either
numeric (float or int) or categorical (Python strings, NaN for missing), so the fitted
pipelines take the same plain frame at serving time that they were trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omgml.baseline.models import DroppedColumn, FeatureInfo
from omgml.errors import InvalidInput

# A text column with more distinct values than this share of its rows (and more than
# ID_LIKE_MIN_DISTINCT of them) names rows: identifiers, free text, timestamps as text.
ID_LIKE_SHARE = 0.5
ID_LIKE_MIN_DISTINCT = 50


@dataclass(frozen=True)
class ColumnFacts:
    name: str
    rows: int
    missing: int
    distinct: int
    kind: str  # numeric, categorical, datetime

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
        lambda c: c.kind == "datetime",
        lambda c: "a date/time column: derive features from it (age, day of week) or pass it as --time-column",
    ),
    DropRule(
        "constant",
        lambda c: c.distinct == 1 and c.missing == 0,
        lambda c: "constant: the same value in every row",
    ),
    DropRule(
        "id-like text",
        lambda c: c.kind == "categorical" and c.distinct > max(ID_LIKE_MIN_DISTINCT, ID_LIKE_SHARE * c.present),
        lambda c: (
            f"{c.distinct:,} distinct text values in {c.present:,} rows: an identifier or free text, "
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


def column_kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
    ):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "datetime"
    return "categorical"


def plan_features(frame: pd.DataFrame, excluded: dict[str, str]) -> FeaturePlan:
    """Sort every column into numeric, categorical or dropped (with the reason)."""
    plan = FeaturePlan()
    for name in frame.columns:
        if name in excluded:
            if excluded[name]:
                plan.dropped.append(DroppedColumn(name=name, reason=excluded[name]))
            continue
        series = frame[name]
        kind = column_kind(series)
        facts = ColumnFacts(name, len(series), int(series.isna().sum()), int(series.nunique(dropna=True)), kind)
        rule = next((r for r in DROP_RULES if r.holds(facts)), None)
        if rule is not None:
            plan.dropped.append(DroppedColumn(name=name, reason=rule.reason(facts)))
            continue
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
