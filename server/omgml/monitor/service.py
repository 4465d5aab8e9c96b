"""``monitor_batch``: one call per new batch -- validation, drift, the champion's performance, alert rules.

The order is what keeps a crash or a dead webhook from losing evidence: the validation and drift reports are
saved by their own services, then this run's report, then its line in the history, and only then are fired
alerts posted (the report is saved again with the deliveries).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from omgml.config import ProjectConfig
from omgml.data.files import fingerprint, is_dataset, resolve_data
from omgml.errors import ConfigError, InvalidInput, OmgmlError, listing, parse_request, unknown_column
from omgml.monitor.history import DriftedColumn
from omgml.monitor.models import DriftPart, MonitorBatchRequest, MonitorReport, ValidationPart
from omgml.workspace import Project

RECENT = 10  # batches of the history the report shows
# Resamples of the batch's labelled rows for the metric's standard error: 200 estimate it within about 5 %
# (the relative error of a std from n draws is 1/sqrt(2n)), and each costs a scorer call of a few ms.
BOOTSTRAP = 200
SEED = 0
NOISE_SIGMAS = 2.0  # a drop beyond 2 x the combined standard deviation is named


def monitor_batch(request: MonitorBatchRequest | dict, *, root: Path | None = None) -> MonitorReport:
    """Check a new batch of data in one call and record it: validation, drift, performance, alert rules.

    Parameters
    ----------
    request
        ``MonitorBatchRequest`` (or a dict of its fields): the batch, optionally a labels table and the key
        column joining it to the batch, and the saved contract and reference profile to use (by default the
        ones named after the project's package, as ``validate.py`` and ``monitor.py`` of the scaffold save them).
    root
        Folder every path must stay inside (the MCP face passes the workspace root); None takes the project dir
        as given.

    Returns
    -------
    MonitorReport
        Validation and drift in counts (their full reports saved by ``validate_data`` and ``check_drift``), the
        champion's metric on the batch's labels against its cross-validated estimate (a drop beyond
        2 x sqrt(fold std² + the batch's bootstrap std²) is named), every ``[monitor] alerts`` rule fired, quiet
        or not evaluated, the webhook's deliveries and the history's last batches. Saved under
        ``.omgml/reports/monitor/``, and appended as one line to ``.omgml/history/batches.jsonl``.

    Raises
    ------
    OmgmlError
        Before anything is written: no omgml.toml, a malformed alert rule or webhook, a missing batch, labels
        table, contract or reference profile, a key column missing from either table or not unique in the labels.
    """
    from omgml.drift.service import check_drift
    from omgml.monitor.alerts import drift_streak, evaluate
    from omgml.monitor.history import BatchEntry, append_entry, read_history
    from omgml.validation.service import validate_data

    request = parse_request(MonitorBatchRequest, request, "monitor")
    project = Project.open(request.project_dir, root)
    config = _config(project)
    rules = config.monitor.rules()
    batch_path = resolve_data(project, request.batch, "batch")
    batch = project.rel(batch_path)
    if not (batch_path.is_file() or is_dataset(batch_path)):
        raise InvalidInput(
            f"The batch {batch} does not exist",
            "monitoring checks one table of new rows",
            "pass the path of the batch file (or a folder or glob of parquet files), relative to the project",
        )
    notes: list[str] = []
    labelled = _labelled(project, request, config, batch_path, notes) if request.labels else None
    contract = _contract(project, request.contract, config)
    reference = _reference(project, request.reference, config)
    if contract is None:
        notes.append(
            f"No contract '{config.package}' is saved: the batch was validated without one (save it from trusted "
            f"data: `omgml validate DATA --save-contract {config.package}`)."
        )

    common = {"project_dir": request.project_dir}
    validation = validate_data({**common, "data": request.batch, "contract": contract}, root=root)
    drift_part: DriftPart | None = None
    why_not: dict[str, str] = {}
    if reference is None:
        why = f"no reference profile '{config.package}' is saved"
        notes.append(
            f"Drift not checked: {why} (save it from the training data: "
            f"`omgml drift TRAIN --save-reference {config.package}`)."
        )
        why_not.update(dict.fromkeys(("drifted_share", "drifted_columns", "drift_persists"), f"not measured: {why}"))
    else:
        try:
            drift = check_drift({**common, "reference": reference, "current": request.batch}, root=root)
        except OmgmlError as exc:  # a batch drift cannot compare (too few rows, no common column) is still recorded
            notes.append(f"Drift not checked: {exc.what}.")
            why = f"not measured: {exc.what}"
            why_not.update(dict.fromkeys(("drifted_share", "drifted_columns", "drift_persists"), why))
        else:
            drift_part = _drift_part(drift)
            if drift.drifted_share is None:
                why_not["drifted_share"] = "not measured: no feature could be tested"

    performance, missing = _performance(project, config, batch_path, labelled, notes)
    if performance is None:
        why_not["performance_drop"] = f"not measured: {missing}"

    batch_sha256 = fingerprint(project, batch_path, batch)
    previous = read_history(project.root)
    notes.extend(previous.notes)
    dataset_drift = drift_part.dataset_drift if drift_part else None
    measured: dict[str, float | None] = {
        "validation_errors": float(validation.counts.error),
        "validation_warnings": float(validation.counts.warning),
        "drifted_share": drift_part.drifted_share if drift_part else None,
        "drifted_columns": float(len(drift_part.drifted)) if drift_part else None,
        "performance_drop": performance.drop if performance else None,
        "drift_persists": _float(drift_streak([e.dataset_drift for e in previous.entries], dataset_drift)),
    }
    alerts = evaluate(rules, measured, why_not)
    fired = [a.rule for a in alerts if a.status == "fired"]

    entry = BatchEntry(
        batch=batch,
        fingerprint=batch_sha256,
        rows=validation.rows,
        validation_errors=validation.counts.error,
        validation_warnings=validation.counts.warning,
        drifted_share=drift_part.drifted_share if drift_part else None,
        drifted=drift_part.drifted if drift_part else [],
        dataset_drift=dataset_drift,
        performance=performance,
        alerts=fired,
        reports={
            "validation": validation.report_path or "",
            **({"drift": drift_part.report_path or ""} if drift_part else {}),
        },
    )
    webhook = config.monitor.webhook
    report = MonitorReport(
        headline=_headline(batch, validation, drift_part, performance, alerts, fired),
        ok=not fired,
        batch=batch,
        fingerprint=batch_sha256,
        rows=validation.rows,
        validation=ValidationPart(
            headline=validation.headline,
            passed=validation.passed,
            errors=validation.counts.error,
            warnings=validation.counts.warning,
            contract=validation.contract,
            report_path=validation.report_path,
        ),
        drift=drift_part,
        performance=performance,
        alerts=alerts,
        fired=fired,
        webhook=_shown(webhook) if webhook else None,
        deliveries=[],
        recent=[*previous.entries[-(RECENT - 1) :], entry],
        notes=notes,
        next_steps=_next_steps(config, validation, drift_part, performance, alerts, contract, reference, measured),
    )
    path = project.store.save(report)  # the run's evidence exists before its history line...
    entry.reports["monitor"] = report.report_path or ""
    report.recent[-1] = entry
    append_entry(project.root, entry)  # ...and that line before any POST

    if fired and webhook:
        from omgml.monitor.webhook import post_all

        report.deliveries = post_all(
            webhook, [(a.rule, _payload(config, report, a)) for a in alerts if a.rule in fired]
        )
        failed = [d for d in report.deliveries if not d.delivered]
        if failed:
            report.notes.append(
                f"{len(failed)} of {len(report.deliveries)} alert(s) could not be posted to the webhook "
                f"({failed[0].error}); the batch is in the history all the same."
            )
            report.next_steps.append("Check the webhook URL in omgml.toml [monitor] and that the hook is up.")
    elif fired:
        report.notes.append("No webhook is set ([monitor] webhook in omgml.toml): the alerts were not posted.")
    project.store.save_at(path, report)  # again: with the history line's report path and the deliveries
    return report


def _config(project: Project) -> ProjectConfig:
    config = project.config
    if config is None:
        raise ConfigError(
            f"No omgml.toml in {project.root}",
            "monitoring reads the project's target, metric, alert rules and webhook from it",
            "run the command in the project folder (--project-dir), or `omgml init` to make one",
        )
    return config


def _contract(project: Project, name: str | None, config: ProjectConfig) -> str | None:
    """The contract to validate with: the one asked for (it must exist), else the package's when saved."""
    from omgml.validation.contract import contract_path

    if name is not None:
        contract_path(project, name)  # raises, naming the saved ones, before anything is written
        return name
    return config.package if (project.store.contracts / f"{config.package}.json").is_file() else None


def _reference(project: Project, name: str | None, config: ProjectConfig) -> str | None:
    """The reference profile to check drift against: the one asked for (it must exist), else the package's."""
    from omgml.drift.profile import load_profile, profile_path

    if name is not None:
        load_profile(project.root, name)  # raises, naming the saved ones, before anything is written
        return name
    return config.package if profile_path(project.root, config.package).is_file() else None


def _labelled(
    project: Project, request: MonitorBatchRequest, config: ProjectConfig, batch_path: Path, notes: list[str]
) -> Any:
    """The batch with the labels table's target joined on the key (the labels win over a target column in the
    batch), checked before anything is written."""
    from omgml.baseline.prepare import read_table

    key, target = request.key, config.target
    labels_path = resolve_data(project, request.labels, "labels table")
    shown = project.rel(labels_path)
    if not (labels_path.is_file() or is_dataset(labels_path)):
        raise InvalidInput(
            f"The labels table {shown} does not exist",
            "the labels are joined to the batch's rows to score the champion",
            "pass the path of the labels file, relative to the project",
        )
    batch, _ = read_table(batch_path)
    batch_columns = [str(c) for c in batch.columns]
    if key not in batch_columns:
        raise unknown_column(
            f"The key column '{key}' is not in the batch {project.rel(batch_path)}",
            key,
            batch_columns,
            "pass --key with a column both the batch and the labels have",
        )
    labels, _ = read_table(labels_path)
    columns = [str(c) for c in labels.columns]
    for column, role in ((key, "key"), (target, "target (omgml.toml)")):
        if column not in columns:
            raise unknown_column(
                f"The {role} column '{column}' is not in the labels table {shown}",
                column,
                columns,
                "use a labels file with the key column and the target column",
            )
    labels = labels[[key, target]]
    repeated = labels[key][labels[key].duplicated()].astype(str).unique().tolist()
    if repeated:
        raise InvalidInput(
            f"The key '{key}' repeats in the labels table {shown}: {listing(repeated, 5)}",
            "each batch row takes the label of the one labels row with its key; a repeated key is ambiguous",
            "keep one label per key",
        )
    left, right = batch[key], labels[key]
    if left.dtype != right.dtype:  # 7 in one file and "7" in the other are the same key: match them as text
        left, right = left.astype(str), right.astype(str)
    joined = batch.drop(columns=[target], errors="ignore").assign(**{key: left})
    joined = joined.merge(labels.assign(**{key: right}), on=key, how="left")
    matched = int(joined[target].notna().sum())
    notes.append(f"{matched:,} of {len(batch):,} batch row(s) have a label in {shown} (joined on '{key}').")
    return joined


def _drift_part(drift: Any) -> DriftPart:
    drifted = sorted((c for c in drift.columns if c.drifted), key=lambda c: -c.effect.value)
    return DriftPart(
        headline=drift.headline,
        reference=drift.reference,
        dataset_drift=drift.drifted,
        drifted_share=drift.drifted_share,
        features_tested=drift.features_tested,
        features_drifted=drift.features_drifted,
        drifted=[DriftedColumn(column=c.column, measure=c.effect.measure, effect=c.effect.value) for c in drifted],
        report_path=drift.report_path,
    )


def _performance(project: Project, config: ProjectConfig, batch_path: Path, labelled: Any, notes: list[str]):
    """The champion's metric on the batch's labelled rows against its cross-validated estimate, or (None, why)."""
    from omgml.baseline.prepare import read_table
    from omgml.monitor.history import Performance
    from omgml.registry.scoring import Registry, score_rows
    from omgml.tracking import run_metrics, tracking_lock

    target, metric = config.target, config.metric
    if labelled is None:
        from omgml.data.tables import open_table

        if target not in open_table(batch_path).column_names:
            return None, f"the batch has no '{target}' column and no labels file was given (--labels FILE --key COL)"
        labelled, _ = read_table(batch_path)
    frame = labelled
    labelled_rows = int(frame[target].notna().sum())
    if not labelled_rows:
        return None, f"no row of the batch has a '{target}' label"
    try:
        registry = Registry.open(project)
        if "champion" not in registry.state.aliases:
            return None, f"{registry.name} has no @champion version"
        model = registry.load("champion")
        scores = score_rows(model, frame, target, metric)
        logged = run_metrics(registry.uri, model.run_id, tracking_lock(project.root)) if model.run_id else {}
    except OmgmlError as exc:  # the batch is still validated, drift-checked and recorded
        notes.append(f"Performance not measured. {exc.what} ({exc.why}).")
        return None, exc.what
    expected = logged.get(metric)
    if expected is None and metric in model.tags:
        expected = _float(model.tags[metric])
    if expected is None:
        return None, f"the champion ({model.label}) has no cross-validated {metric} logged on its run"
    expected_std = logged.get(f"{metric}_std")
    batch_std = _bootstrap_std(scores)
    drop = (expected - scores.value) if scores.greater_is_better else (scores.value - expected)
    noise = NOISE_SIGMAS * math.sqrt((expected_std or 0.0) ** 2 + (batch_std or 0.0) ** 2)
    if scores.rows_dropped:
        notes.append(f"{scores.rows_dropped:,} row(s) of the batch have no '{target}' label and were not scored.")
    return (
        Performance(
            metric=metric,
            value=scores.value,
            expected=expected,
            expected_std=expected_std,
            drop=drop,
            model_version=model.version,
            labelled_rows=labelled_rows,
            batch_std=batch_std,
            noise=noise,
            significant=drop > noise,
        ),
        "",
    )


def _bootstrap_std(scores: Any) -> float | None:
    """The metric's standard deviation over seeded bootstrap resamples of the scored rows (None: under 2 usable).

    A resample the metric is undefined on (ROC AUC of one class) is left out rather than counted as a score.
    """
    import warnings

    import numpy as np

    rng = np.random.default_rng(SEED)
    n = len(scores.y)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(BOOTSTRAP):
            try:
                value = scores.on(rng.integers(0, n, n))
            except ValueError:
                continue
            if math.isfinite(value):
                values.append(value)
    return float(np.std(values, ddof=1)) if len(values) >= 2 else None


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _shown(url: str) -> str:
    from omgml.monitor.webhook import shown

    return shown(url)


def _headline(batch: str, validation, drift: DriftPart | None, performance, alerts, fired: list[str]) -> str:
    parts = [f"{validation.counts.error} validation error(s), {validation.counts.warning} warning(s)"]
    if drift is not None and drift.drifted_share is not None:
        parts.append(f"{drift.features_drifted} of {drift.features_tested} features drifted")
    if performance is not None:
        parts.append(
            f"{performance.metric} {performance.value:.4g} vs {performance.expected:.4g} cross-validated"
            + (" (a drop beyond noise)" if performance.significant else "")
        )
    facts = "; ".join(parts)
    if fired:
        return f"ALERT: {len(fired)} of {len(alerts)} rule(s) fired for {batch} ({', '.join(fired)}): {facts}"
    return f"No alert for {batch} ({len(alerts)} rule(s)): {facts}"


def _next_steps(config, validation, drift, performance, alerts, contract, reference, measured) -> list[str]:
    steps = []
    if validation.counts.error:
        steps.append(f"Fix the batch's validation errors (see {validation.report_path}) before it is used.")
    persists = measured.get("drift_persists") or 0
    dropped = performance is not None and performance.significant
    if persists >= 2 or dropped:
        why = f"drift persisted for {int(persists)} batches" if persists >= 2 else ""
        why += (" and " if why else "") + ("performance dropped beyond noise" if dropped else "")
        steps.append(f"Retrain on recent data ({why}), then compare the new model with the champion.")
    elif drift is not None and drift.dataset_drift:
        steps.append(f"Look at how the drifted columns changed (see {drift.report_path}) before retraining.")
    if contract is None:
        steps.append(f"Save a contract from trusted data: `omgml validate DATA --save-contract {config.package}`.")
    if reference is None:
        steps.append(f"Save a reference profile: `omgml drift TRAIN --save-reference {config.package}`.")
    skipped = [a.rule for a in alerts if a.status == "not_evaluated"]
    if skipped and performance is None and any(a.metric == "performance_drop" for a in alerts):
        steps.append("Monitor a labelled batch (the target column, or --labels FILE --key COL) to check performance.")
    if not steps:
        steps.append("Nothing to do now: monitor the next batch when it arrives.")
    return steps


def _payload(config: ProjectConfig, report: MonitorReport, alert) -> dict[str, Any]:
    from omgml.monitor.webhook import slack_escape

    text = f"omgml alert for {config.name}: {alert.rule} fired on {report.batch} ({alert.reason})."
    return {
        "text": slack_escape(text),
        "project": config.name,
        "batch": report.batch,
        "fingerprint": report.fingerprint,
        "rule": alert.rule,
        "metric": alert.metric,
        "op": alert.op,
        "threshold": alert.threshold,
        "value": alert.value,
        "headline": report.headline,
        "report": report.report_path,
        "time": report.recent[-1].time,
    }
