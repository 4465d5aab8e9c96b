"""The baseline's data preparation: read the table, check the target and split columns, decide the task,
plan and encode the features, sample, and summarise what was used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omgml.baseline.models import ClassCount, DataSummary, Decision, Finding, TrainBaselineRequest
from omgml.data.files import fingerprint
from omgml.data.tasks import IMBALANCE_RATIO
from omgml.errors import InvalidInput, unknown_column
from omgml.workspace import Project


@dataclass
class Prepared:
    """The data after every check: ready to split and fit."""

    X: Any
    y: Any
    frame_used: Any  # features + target, for MLflow's dataset record
    groups: Any
    summary: DataSummary
    classes: list[Any]
    positive: Any
    findings: list[Finding]
    numeric: list[str]  # feature columns by kind, as the candidates' preprocessing takes them
    categorical: list[str]


def read_table(path: Path) -> tuple[Any, str]:
    """The table as a pandas frame, and a note on ragged rows skipped while reading (or "")."""
    from omgml.data.tables import open_table

    table = open_table(path)
    arrow = table.read_all()
    ragged = ""
    if table.ragged.count:
        lines = ", ".join(str(n) for n in table.ragged.examples)
        ragged = f"{table.ragged.count:,} ragged row(s) skipped while reading (field count differs; lines {lines})"
    return arrow.to_pandas(), ragged


def prepare(
    request: TrainBaselineRequest,
    project: Project,
    frame: Any,
    *,
    target: str,
    data_rel: str,
    data_path: Path,
    ragged: str,
) -> tuple[Decision, Prepared]:
    """Every check on the table, the task decided, features planned and encoded: ready to split and fit."""
    import numpy as np
    import pandas as pd

    from omgml.baseline.features import prepare_features

    columns = [str(c) for c in frame.columns]
    for role, column in (
        ("target", target),
        ("group column", request.group_column),
        ("time column", request.time_column),
    ):
        if column is not None and column not in columns:
            raise _missing_column(role, column, columns, data_rel)
    if request.group_column == target or request.time_column == target:
        raise InvalidInput(
            f"The target '{target}' cannot also be the group or time column",
            "the target is what the model predicts; the split column must be known beforehand",
            "pass another column as --group-column or --time-column",
        )
    findings: list[Finding] = []
    if ragged:
        findings.append(Finding(code="rows_dropped", message=ragged))
    rows_read = len(frame)
    if rows_read == 0 or frame[target].isna().all():
        raise InvalidInput(
            f"The target '{target}' is empty: all {rows_read:,} row(s) of {data_rel} are null",
            "there is nothing to learn from or to score against",
            "check the column name and the export that produced the table",
        )
    keep = frame[target].notna()
    dropped_why = [f"{int((~keep).sum()):,} without a target"] if (~keep).any() else []
    for column, what in ((request.group_column, "group"), (request.time_column, "time")):
        if column is not None:
            missing = frame[column].isna() & keep
            if missing.any():
                dropped_why.append(f"{int(missing.sum()):,} without a {what} value ('{column}')")
            keep &= frame[column].notna()
    frame = frame.loc[keep]
    if dropped_why:
        findings.append(
            Finding(
                code="rows_dropped",
                message=f"Dropped {rows_read - len(frame):,} of {rows_read:,} rows: {'; '.join(dropped_why)}.",
            )
        )

    given, source = request.task, "request"
    if not given and project.config is not None:
        given, source = project.config.task, "omgml.toml"
    excluded = {target: ""}
    if request.group_column:
        excluded[request.group_column] = "the group column: it decides the folds, so it is not a feature"
    if request.time_column:
        excluded[request.time_column] = "the time column: it orders the folds, so it is not a feature"
    task, plan, planned = task_and_features(frame, target, given, source, excluded)
    findings.extend(planned)
    classification = task.value in ("binary", "multiclass")
    if not classification:
        values = frame[target].to_numpy(dtype="float64")
        infinite = int((~np.isfinite(values)).sum())
        if infinite:
            raise InvalidInput(
                f"The target '{target}' has {infinite:,} infinite value(s)",
                "no model can predict infinity, and every error metric would be infinite",
                "drop those rows or replace the values before training",
            )

    if request.time_column:
        frame = frame.assign(**{request.time_column: _parse_time(frame[request.time_column], request.time_column)})
    rows_before = len(frame)
    positions = _sample(frame[target], request.max_rows, request.seed, classification)
    sampled = positions is not None
    if sampled:
        frame = frame.iloc[positions]
        how = "stratified by class" if classification else "uniformly"
        findings.append(
            Finding(
                code="sampled",
                message=f"Sampled {len(frame):,} of {rows_before:,} rows ({how}, seed {request.seed}) to respect "
                f"--max-rows {request.max_rows:,}; scores are for the sample.",
            )
        )
    if request.time_column:
        frame = frame.sort_values(request.time_column, kind="stable")
    frame = frame.reset_index(drop=True)

    X = prepare_features(frame, plan)
    y = _target_values(frame[target], task.value)
    groups = None
    if request.group_column:
        values = frame[request.group_column]
        groups = (
            values.astype(str).to_numpy()
            if values.dtype == object or isinstance(values.dtype, pd.StringDtype)
            else values.to_numpy()
        )

    classes: list[Any] = []
    positive = None
    counts: list[ClassCount] = []
    if classification:
        labels, label_counts = np.unique(y, return_counts=True)
        classes = labels.tolist()
        positive = classes[1] if task.value == "binary" else None
        counts = [ClassCount(label=_label(label), count=int(n)) for label, n in zip(labels, label_counts)]
        smallest, largest = int(label_counts.min()), int(label_counts.max())
        if largest >= IMBALANCE_RATIO * smallest:  # validate's class_imbalance rule
            rare = labels[int(label_counts.argmin())]
            findings.append(
                Finding(
                    code="class_imbalance",
                    message=f"Strong class imbalance: '{_label(rare)}' has {smallest:,} rows against {largest:,} "
                    f"for the largest class ({smallest / len(y):.1%} of rows). Accuracy is misleading here; folds "
                    "are stratified, and ROC AUC, average precision or balanced accuracy show whether the rare "
                    "class is found.",
                )
            )
    sha = fingerprint(project, data_path, data_rel)
    summary = DataSummary(
        path=data_rel,
        sha256=sha,
        rows_read=rows_read,
        rows_dropped=rows_read - rows_before,
        rows_used=len(frame),
        sampled=sampled,
        target=target,
        classes=counts,
        positive_class=None if positive is None else _label(positive),
        features=plan.infos,
        dropped_columns=plan.dropped,
    )
    frame_used = X.assign(**{target: y})
    return task, Prepared(
        X, y, frame_used, groups, summary, classes, positive, findings, plan.numeric, plan.categorical
    )


def task_and_features(
    frame: Any,
    target: str,
    given: str | None = None,
    source: str = "request",
    excluded: dict[str, str] | None = None,
) -> tuple[Decision, Any, list[Finding]]:
    """The task and the feature plan train_baseline uses for the labelled rows in ``frame``.

    ``given`` is a task from ``source`` ("request" or "omgml.toml"), checked against the target;
    None infers it. ``excluded`` maps columns that are not features to the reason shown ("" shows
    none; the target is always excluded). Returns the task decision, the ``FeaturePlan`` and the
    findings: ``task_ambiguous`` when the inferred task rests on an ambiguous rule, and one
    ``column_dropped`` per column the kind rules keep out (identifiers, text, dates, ...).
    """
    from omgml.baseline.features import plan_features
    from omgml.baseline.tasks import choose_task

    excluded = {target: "", **(excluded or {})}
    task, findings = choose_task(frame[target], target, given, source)
    plan = plan_features(frame, excluded)
    findings += [
        Finding(code="column_dropped", message=f"Column '{d.name}' not used: {d.reason}.")
        for d in plan.dropped
        if d.name not in excluded
    ]
    return task, plan, findings


def _missing_column(role: str, column: str, columns: list[str], data_rel: str) -> InvalidInput:
    option = {"target": "--target", "group column": "--group-column", "time column": "--time-column"}[role]
    fix = f"pass one of them as {option}" + (", or fix [project] target in omgml.toml" if role == "target" else "")
    return unknown_column(f"The {role} '{column}' is not a column of {data_rel}", column, columns, fix, hint_first=True)


def _parse_time(series: Any, name: str) -> Any:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series  # years, epoch seconds: numbers order rows in time as they are
    bad_examples: list[str] = []
    try:
        parsed = pd.to_datetime(series.astype(object), errors="coerce", utc=True)
        bad = parsed.isna() & series.notna()
        if bad.any():
            bad_examples = [str(v) for v in series[bad].unique()[:3]]
            count = int(bad.sum())
        else:
            return parsed
    except (ValueError, TypeError, OverflowError) as exc:
        count, bad_examples = len(series), [str(exc).splitlines()[0][:120]]
    raise InvalidInput(
        f"The time column '{name}' is not a time: {count:,} of {len(series):,} value(s) cannot be read as dates "
        f"(e.g. {', '.join(repr(v) for v in bad_examples)})",
        "a time split orders rows by this column, so every value must be a date, a timestamp or a number",
        "give a column of dates in one format (ISO 8601 such as 2024-05-31 works), timestamps or numbers such as "
        "years, or fix the named values",
    )


def _sample(y: Any, max_rows: int | None, seed: int, classification: bool) -> Any:
    """Row positions to keep (sorted), or None when no sampling is needed."""
    import numpy as np

    from omgml.baseline.crossval import sample_rows

    rows = len(y)
    if max_rows is None or rows <= max_rows:
        return None
    positions = np.arange(rows)
    if classification:
        from sklearn.model_selection import train_test_split

        try:
            kept, _ = train_test_split(positions, train_size=max_rows, stratify=y.to_numpy(), random_state=seed)
            return np.sort(kept)
        except ValueError:  # a class too small to stratify: sample uniformly, the fold checks will speak
            pass
    return sample_rows(positions, max_rows, seed)


def _target_values(series: Any, task: str) -> Any:
    import numpy as np
    import pandas as pd

    if task == "regression":
        return series.to_numpy(dtype="float64")
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype="float64")
        return values.astype("int64") if np.all(np.mod(values, 1) == 0) else values
    values = series.astype(object).to_numpy()
    return np.array([str(v) for v in values], dtype=object)


def _label(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)
