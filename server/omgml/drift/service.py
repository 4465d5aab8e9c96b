"""``check_drift``: compare current data with a reference, column by column, effect size first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from omgml.data.files import fingerprint, resolve_data
from omgml.data.kinds import physical_of
from omgml.data.tables import open_table
from omgml.drift.columns import reader_for, unreadable_reason
from omgml.drift.compare import MIN_VALUES, Comparison, Pair, check_forced, compare, reference_grid
from omgml.drift.models import ColumnDrift, DriftReport, DriftRequest, Role, SkippedColumn, WindowDrift
from omgml.drift.profile import save_profile, summary_from_profile
from omgml.drift.reference import Reference, open_reference, profile_columns, stream_profile
from omgml.drift.scan import Scan, scan_table
from omgml.drift.spark_scan import SparkTable, open_spark_table
from omgml.drift.stattests import StatTest, get_test
from omgml.drift.summaries import CURRENT_EXACT_ROWS, CategoryAccumulator, NumericAccumulator, Summary
from omgml.drift.windows import Window, parse_window
from omgml.errors import InvalidInput, listing, parse_request, unknown_column
from omgml.spark.source import choose_engine, engine_session, local_sha256
from omgml.workspace import Project

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

MIN_ROWS = MIN_VALUES  # per side, for the whole table and for a time window
TOP_COLUMNS = 5


@dataclass
class _Plan:
    """What to do with one compared column, decided from both sides' storage types."""

    name: str
    role: Role
    reader: str | None
    skip: str | None = None


def check_drift(request: DriftRequest | dict, *, root: Path | None = None) -> DriftReport:
    """Compare current data with a reference, one column at a time, and decide whether it drifted.

    Parameters
    ----------
    request
        ``DriftRequest`` (or a dict of its fields): the reference (a data file or a saved profile
        name), the current data file, optional column selection, target and prediction columns,
        tests forced per column, thresholds, the dataset drift share, a profile name to save,
        and a time column with a window length.
    root
        Folder every path must stay inside (the MCP face passes the workspace root); None takes
        the project dir as given.

    Returns
    -------
    DriftReport
        The dataset verdict; per column the test, why it was chosen, statistic, raw and
        Holm-adjusted p-value, effect size and decision (target and prediction
        first); missingness and novelty signals; skipped columns with reasons; per-window
        results. Saved under ``.omgml/reports/drift/`` when current data was checked.

    Raises
    ------
    OmgmlError
        For input that cannot be compared: no common columns, empty or one-row data, an unknown
        test or one that does not fit a column, a missing or corrupt profile, a path outside the
        project root.
    """
    request = parse_request(DriftRequest, request, "drift")
    project = Project.open(request.project_dir, root)
    config = project.config
    window = parse_window(request.window) if request.window else None
    forced = {column: get_test(name) for column, name in request.tests.items()}
    thresholds = _thresholds(request.thresholds)
    spark = _spark(request, config)
    reference = open_reference(project, request.reference, spark)
    if request.save_reference and reference.kind == "profile":
        raise InvalidInput(
            f"Cannot save a profile of '{request.reference}': it is already a saved profile",
            "a profile is built from the rows of a data file",
            "pass the data file as REFERENCE with --save-reference NAME",
        )
    if request.save_reference and not request.replace_reference:
        _refuse_overwrite(project, request.save_reference)
    # Before the rows are read: a change while reading then reads as stale, never as fresh.
    ref_sha256 = _source_sha256(project, reference) if request.save_reference else None
    if request.current is None:
        return _save_only(project, request, reference, ref_sha256)

    if spark is not None:
        current = open_spark_table(spark, project, request.current, "current data")
        current_label = current.source
    else:
        current_path = resolve_data(project, request.current, "current data")
        current = open_table(current_path)
        current_label = project.rel(current_path)
    notes: list[str] = []
    if spark is not None:
        notes.append("Computed by the Spark engine: summaries per partition, merged on the driver.")

    ref_physical = reference.physicals()
    cur_names = list(current.schema.names)
    common = [c for c in ref_physical if c in cur_names and c != request.time_column]
    if request.time_column is not None and request.time_column not in cur_names:
        raise unknown_column(
            f"The time column '{request.time_column}' is not in the current data",
            request.time_column,
            cur_names,
            "pass one of them as --time-column",
            limit=12,
        )
    if not common:
        raise InvalidInput(
            "The reference and the current data have no column in common",
            f"reference columns: {listing(list(ref_physical), 12)}; current columns: {listing(cur_names, 12)}",
            "compare tables with the same column names (check the header and the delimiter)",
        )
    roles = _roles(request, config, common, notes)
    compared = list(roles)
    for column in forced:
        if column not in roles:
            raise unknown_column(
                f"--test names the column '{column}', which is not compared",
                column,
                compared,
                "name a compared column, or add it with --columns",
                columns="the compared columns are",
                limit=12,
            )

    ref_scan: Scan | None = None
    if reference.kind == "file":
        wanted = list(ref_physical) if request.save_reference else compared
        ref_scan = scan_table(reference.table, lambda schema: _reference_plan(schema, wanted))
        ref_physical = {f.name: physical_of(f.type) for f in ref_scan.schema}
        ref_rows = ref_scan.rows
        ref_summaries: dict[str, Summary] = dict(ref_scan.columns)
        if reference.table.ragged.count:
            notes.append(f"{reference.table.ragged.count:,} ragged row(s) of the reference were skipped.")
    else:
        profile = reference.profile
        ref_rows = profile.rows
        ref_summaries = {}
        for name in compared:
            summary = summary_from_profile(profile.columns[name])
            if summary is not None:
                ref_summaries[name] = summary
        notes.append(
            f"Reference: saved profile '{profile.name}' of {profile.source} ({profile.rows:,} rows, "
            f"saved {profile.created_at})."
        )
    _check_rows("reference", reference.label, ref_rows)

    saved_path = None
    if request.save_reference:
        saved_path = save_profile(
            project.root,
            request.save_reference,
            reference.label,
            ref_rows,
            profile_columns(ref_scan.schema, ref_summaries, ref_rows),
            sha256=ref_sha256,
            replace=request.replace_reference,
        )
        notes.append(
            f"Saved the reference profile '{request.save_reference}': later checks can pass that name "
            "instead of the reference file."
        )

    plans: dict[str, _Plan] = {}

    def current_plan(schema: pa.Schema) -> dict:
        plans.clear()
        accs: dict = {}
        for name, role in roles.items():
            kind = schema.field(name).type
            cur_physical = physical_of(kind)
            plan = _column_plan(name, role, ref_physical[name], cur_physical, str(kind), ref_summaries.get(name))
            plans[name] = plan
            if plan.skip is None:
                accs[name] = _current_accumulator(plan, ref_summaries[name], reference.kind, cur_physical)
        return accs

    if current.num_rows is not None:
        _check_rows("current data", current_label, current.num_rows)
    cur_scan = scan_table(current, current_plan, time_column=request.time_column, window=window)
    _check_rows("current data", current_label, cur_scan.rows)
    if current.ragged.count:
        notes.append(f"{current.ragged.count:,} ragged row(s) of the current data were skipped.")

    forced_checked = {c: t for c, t in forced.items() if plans[c].skip is None}
    for column, spec in forced_checked.items():
        _check_applies(column, spec, plans[column].reader)
    pairs = [
        Pair(name, roles[name], ref_summaries[name], cur_scan.columns[name], forced_checked.get(name))
        for name in compared
        if plans[name].skip is None
    ]
    early_skips = [SkippedColumn(column=n, role=roles[n], reason=plans[n].skip) for n in compared if plans[n].skip]
    comparison = compare(pairs, thresholds)
    comparison.skipped[:0] = early_skips
    comparison.skipped.sort(key=lambda s: compared.index(s.column))
    if not comparison.columns:
        raise InvalidInput(
            f"None of the {len(compared)} compared column(s) could be tested",
            "; ".join(f"{s.column}: {s.reason}" for s in comparison.skipped[:8]),
            "check that both files hold the same data with values in these columns",
        )

    windows = _windows(cur_scan, ref_summaries, roles, plans, forced_checked, thresholds, window, request.drift_share)
    if cur_scan.untimed_rows:
        notes.append(f"{cur_scan.untimed_rows:,} current row(s) have no '{request.time_column}' and are in no window.")
    binned = [c.column for c in comparison.columns if c.statistic_bound > 0]
    if binned:
        notes.append(
            f"{len(binned)} column(s) were compared on binned values of the saved profile "
            f"({listing(binned, 5)}): each statistic is within its statistic_bound of the raw-data value."
        )
    only_ref = [c for c in ref_physical if c not in cur_names]
    only_cur = [c for c in cur_names if c not in ref_physical and c != request.time_column]
    if only_ref:
        notes.append(f"{len(only_ref)} reference column(s) are missing from the current data: {listing(only_ref, 8)}.")
    if only_cur:
        notes.append(f"{len(only_cur)} current column(s) are new (not in the reference): {listing(only_cur, 8)}.")
    report = _report(
        project,
        request,
        reference,
        current_label=current_label,
        ref_rows=ref_rows,
        cur_rows=cur_scan.rows,
        comparison=comparison,
        only_ref=only_ref,
        only_cur=only_cur,
        windows=windows,
        window=window,
        saved_path=saved_path,
        notes=notes,
    )
    project.store.save(report)
    return report


def _thresholds(given: dict[str, float]) -> dict[str, float]:
    out = {}
    for name, value in given.items():
        spec = get_test(name)
        upper = 1.0 if spec.score == "pvalue" else float("inf")
        if not 0 < value < upper:
            raise InvalidInput(
                f"The threshold {value} for '{spec.name}' is out of range",
                "a p-value threshold is between 0 and 1"
                if spec.score == "pvalue"
                else "a distance threshold is above 0",
                f"pass for example {spec.name}={spec.threshold}",
            )
        out[spec.name] = float(value)
    return out


def _roles(request: DriftRequest, config, common: list[str], notes: list[str]) -> dict[str, Role]:
    """Compared columns in order: target, prediction, then features in the reference's order."""
    if request.columns is not None:
        missing = [c for c in request.columns if c not in common]
        if missing:
            raise InvalidInput(
                f"--columns names column(s) not in both tables: {listing(missing, 12)}",
                f"the columns in both are: {listing(common, 12)}",
                "name columns that the reference and the current data share",
            )
        selected = list(dict.fromkeys(request.columns))
    else:
        selected = list(common)
    target = request.target
    if target is None and config is not None and config.target in common:
        target = config.target
        notes.append(f"Target column '{target}' from omgml.toml.")
    if target is not None and target == request.prediction:
        raise InvalidInput(
            f"The target and the prediction are the same column '{target}'",
            "the target is what happened, the prediction what the model said: two different columns",
            "pass the model's output column as --prediction",
        )
    roles: dict[str, Role] = {}
    for role, column in (("target", target), ("prediction", request.prediction)):
        if column is None:
            continue
        if column not in common:
            raise unknown_column(
                f"The {role} column '{column}' is not in both tables",
                column,
                common,
                f"pass a shared column as --{role}, or leave it out",
                columns="the columns in both are",
                limit=12,
            )
        roles[column] = role  # type: ignore[assignment]
    for column in selected:
        roles.setdefault(column, "feature")
    return roles


def _check_rows(side: str, label: str, rows: int) -> None:
    if rows == 0:
        raise InvalidInput(
            f"The {side} {label} has no rows",
            "there is nothing to compare",
            "check the file (a csv needs a header and at least one data row)",
        )
    if rows < MIN_ROWS:
        raise InvalidInput(
            f"The {side} {label} has {rows} row(s)",
            f"comparing distributions needs at least {MIN_ROWS} rows on each side",
            "check more rows at once (for example a day of data instead of one request)",
        )


def _reference_plan(schema: pa.Schema, wanted: list[str]) -> dict:
    accs: dict = {}
    for name in wanted:
        kind = physical_of(schema.field(name).type)
        reader = reader_for(kind)
        if reader == "numeric":
            accs[name] = NumericAccumulator(kind, keep="all")
        elif reader == "categorical":
            accs[name] = CategoryAccumulator(kind)
    return accs


def _column_plan(name: str, role: Role, ref_kind: str, cur_kind: str, cur_type: str, ref: Summary | None) -> _Plan:
    ref_reader = reader_for(ref_kind)
    if ref_reader is None:
        return _Plan(name, role, None, unreadable_reason(ref_kind))
    cur_reader = ref_reader if cur_kind == "null" else reader_for(cur_kind)
    if cur_reader != ref_reader:
        return _Plan(
            name,
            role,
            None,
            (
                f"type changed: {_words(ref_kind)} in the reference, {_words(cur_kind)} ({cur_type}) in the current data; "
                "a few non-numeric values turn a csv column into text (run a validation to find them)"
            ),
        )
    if ref is None:  # pragma: no cover - every readable reference column has a summary
        return _Plan(name, role, None, "the reference has no summary for this column")
    return _Plan(name, role, ref_reader)


def _words(kind: str) -> str:
    return {
        "integer": "numbers",
        "float": "numbers",
        "string": "text",
        "boolean": "true/false",
        "datetime": "dates",
        "null": "nulls",
    }.get(kind, kind)


def _current_accumulator(plan: _Plan, ref: Summary, reference_kind: str, cur_kind: str):
    kind = cur_kind if cur_kind != "null" else ("float" if plan.reader == "numeric" else "string")
    if plan.reader == "categorical":
        return CategoryAccumulator(kind)
    bounds = (ref.minimum, ref.maximum) if ref.count else None
    if reference_kind == "file":
        return NumericAccumulator(kind, keep="all", bounds=bounds)
    grid = reference_grid(ref) if ref.count else None
    return NumericAccumulator(kind, keep="rows", cap=CURRENT_EXACT_ROWS, grid=grid, bounds=bounds)


def _check_applies(column: str, spec: StatTest, reader: str | None) -> None:
    possible = {"numeric": ("numeric", "binary"), "categorical": ("categorical", "binary")}.get(reader or "", ())
    check_forced(spec, column, possible, reader == "numeric", str(reader))


def _refuse_overwrite(project: Project, name: str) -> None:
    """Fail before any work when the name is taken (saving checks again, atomically, for a concurrent writer)."""
    from omgml.drift.profile import profile_exists, profile_path

    if profile_path(project.root, name).exists():
        raise profile_exists(project.root, name)


def _source_sha256(project: Project, reference: Reference) -> str | None:
    if isinstance(reference.table, SparkTable):
        return local_sha256(project, reference.table.local_path, reference.label)
    return fingerprint(project, resolve_data(project, reference.label, "reference data"), reference.label)


def _spark(request: DriftRequest, config) -> SparkSession | None:
    """The Spark session when the Spark engine runs: asked for, set in omgml.toml, or implied by a Spark table."""
    tables = {"reference": request.reference, "current data": request.current}
    if choose_engine(request.engine, config, tables) != "spark":
        return None
    return engine_session(config, tables.values())


def _save_only(project: Project, request: DriftRequest, reference: Reference, sha256: str | None) -> DriftReport:
    rows, columns = stream_profile(reference.table)
    _check_rows("reference", reference.label, rows)
    path = save_profile(
        project.root,
        request.save_reference,
        reference.label,
        rows,
        columns,
        sha256=sha256,
        replace=request.replace_reference,
    )
    rel = project.rel(path)
    tested = sum(1 for c in columns.values() if c.kind != "untested")
    verdict = (
        f"Saved the reference profile '{request.save_reference}' ({rows:,} rows, {tested} of "
        f"{len(columns)} columns profiled); no current data was given, so nothing was compared."
    )
    return DriftReport(
        headline=verdict,
        ok=True,
        project_dir=str(project.root),
        reference=reference.label,
        reference_kind="file",
        current=None,
        rows_reference=rows,
        rows_current=0,
        checked=False,
        drifted=False,
        verdict=verdict,
        drift_share_threshold=request.drift_share,
        drifted_share=None,
        features_tested=0,
        features_drifted=0,
        target_drifted=None,
        prediction_drifted=None,
        top_columns=[],
        columns=[],
        signals=[],
        skipped=[],
        only_in_reference=[],
        only_in_current=[],
        time_column=None,
        window=None,
        windows=[],
        first_drift_window=None,
        saved_reference=rel,
        notes=[f"The profile is in {rel}."],
        next_steps=[f"Check new data against it: `omgml drift {request.save_reference} NEW_DATA_FILE`."],
    )


@dataclass
class _Verdict:
    """The dataset-level verdict over compared columns (the whole data, or one window)."""

    drifted: bool
    share: float | None  # drifted features / tested features
    tested: int
    drifted_features: int
    target: bool | None  # None: no target compared
    prediction: bool | None
    text: str


def _verdict(columns: list[ColumnDrift], share_threshold: float) -> _Verdict:
    features = [c for c in columns if c.role == "feature"]
    drifted_features = [c for c in features if c.drifted]
    share = len(drifted_features) / len(features) if features else None
    target = next((c.drifted for c in columns if c.role == "target"), None)
    prediction = next((c.drifted for c in columns if c.role == "prediction"), None)
    by_share = share is not None and share >= share_threshold
    drifted = by_share or bool(target) or bool(prediction)
    parts = []
    if features:
        sign = ">=" if by_share else "<"
        parts.append(
            f"{len(drifted_features)} of {len(features)} features drifted ({share:.0%} {sign} {share_threshold:.0%})"
        )
    for role, flag in (("target", target), ("prediction", prediction)):
        if flag is not None:
            name = next(c.column for c in columns if c.role == role)
            parts.append(f"the {role} '{name}' {'drifted' if flag else 'did not drift'}")
    text = ("Dataset drift: " if drifted else "No dataset drift: ") + "; ".join(parts) + "."
    return _Verdict(drifted, share, len(features), len(drifted_features), target, prediction, text)


def _ratio(column: ColumnDrift) -> float:
    return column.effect.value / column.effect.threshold if column.effect.threshold else 0.0


def _windows(
    scan: Scan, ref_summaries, roles, plans, forced, thresholds, window: Window | None, share_threshold: float
) -> list[WindowDrift]:
    if window is None:
        return []
    out = []
    for w in scan.windows:
        start, end = window.bounds(w.index)
        if w.rows < MIN_ROWS:
            out.append(
                _skipped_window(start, end, w.rows, f"{w.rows} row(s): too few to compare (at least {MIN_ROWS})")
            )
            continue
        pairs = [
            Pair(n, roles[n], ref_summaries[n], w.columns[n], forced.get(n)) for n in roles if plans[n].skip is None
        ]
        result = compare(pairs, thresholds, distributions=False)  # a window keeps its verdict, not the columns
        if not result.columns:
            out.append(_skipped_window(start, end, w.rows, "no column could be tested in this window"))
            continue
        verdict = _verdict(result.columns, share_threshold)
        ranked = sorted((c for c in result.columns if c.drifted), key=_ratio, reverse=True)
        out.append(
            WindowDrift(
                start=start,
                end=end,
                rows=w.rows,
                status="drift" if verdict.drifted else "no_drift",
                drifted_share=verdict.share,
                features_tested=verdict.tested,
                features_drifted=verdict.drifted_features,
                drifted_columns=[c.column for c in ranked],
                target_drifted=verdict.target,
                note=f"{len(result.skipped)} column(s) skipped" if result.skipped else "",
            )
        )
    return out


def _report(
    project,
    request,
    reference: Reference,
    *,
    current_label,
    ref_rows,
    cur_rows,
    comparison: Comparison,
    only_ref,
    only_cur,
    windows,
    window,
    saved_path,
    notes,
) -> DriftReport:
    order = {"target": 0, "prediction": 1, "feature": 2}
    columns = sorted(comparison.columns, key=lambda c: (order[c.role], not c.drifted, -_ratio(c)))
    result = _verdict(columns, request.drift_share)
    verdict = result.text
    top = [c.column for c in sorted((c for c in columns if c.drifted), key=_ratio, reverse=True)[:TOP_COLUMNS]]
    if top:
        verdict = verdict[:-1] + f". Most changed: {', '.join(top)}."
    first = next((w.start for w in windows if w.status == "drift"), None)
    return DriftReport(
        headline=verdict,
        ok=not result.drifted,
        project_dir=str(project.root),
        reference=reference.label,
        reference_kind=reference.kind,  # type: ignore[arg-type]
        current=current_label,
        rows_reference=ref_rows,
        rows_current=cur_rows,
        checked=True,
        drifted=result.drifted,
        verdict=verdict,
        drift_share_threshold=request.drift_share,
        drifted_share=result.share,
        features_tested=result.tested,
        features_drifted=result.drifted_features,
        target_drifted=result.target,
        prediction_drifted=result.prediction,
        top_columns=top,
        columns=columns,
        signals=comparison.signals,
        skipped=comparison.skipped,
        only_in_reference=only_ref,
        only_in_current=only_cur,
        time_column=request.time_column,
        window=window.text if window else None,
        windows=windows,
        first_drift_window=first,
        saved_reference=project.rel(saved_path) if saved_path else None,
        notes=notes,
        next_steps=_next_steps(result.drifted, top, comparison, reference, request, first),
    )


def _next_steps(drifted, top, comparison: Comparison, reference: Reference, request, first) -> list[str]:
    steps = []
    if drifted:
        steps.append(
            f"Look at how {', '.join(top[:3]) or 'the drifted columns'} changed (upstream bug, new population, "
            "or a real trend) before retraining."
        )
        if first:
            steps.append(f"Drift starts in the window from {first}: check what changed in the pipeline then.")
        steps.append("If the change is real, retrain on recent data and compare the new model with the champion.")
    alerts = [s for s in comparison.signals if s.alerts]
    if alerts:
        steps.append(f"Check the missingness and novelty alerts on {', '.join(s.column for s in alerts[:3])}.")
    if comparison.skipped:
        steps.append(
            f"{len(comparison.skipped)} column(s) were skipped: see why below; nothing was concluded about them."
        )
    if reference.kind == "file" and not request.save_reference:
        steps.append("Save the reference as a profile (--save-reference NAME) so later checks need no raw reference.")
    if not steps:
        steps.append("Nothing to do now: check again when new data arrives.")
    return steps


def _skipped_window(start: str, end: str, rows: int, note: str) -> WindowDrift:
    return WindowDrift(
        start=start,
        end=end,
        rows=rows,
        status="skipped",
        drifted_share=None,
        features_tested=0,
        features_drifted=0,
        drifted_columns=[],
        target_drifted=None,
        note=note,
    )
