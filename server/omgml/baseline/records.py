"""The baseline's MLflow records: provenance tags, the runs, the dataset digest, the model's signature rows."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omgml.baseline.findings import split_words
from omgml.baseline.models import BaselineReport, CandidateResult, TrainBaselineRequest
from omgml.baseline.prepare import Prepared
from omgml.config import registered_model_name
from omgml.workspace import Project

if TYPE_CHECKING:
    from omgml.tracking import ExperimentRef

SIGNATURE_ROWS = 100


def log_baseline(
    report: BaselineReport,
    *,
    request: TrainBaselineRequest,
    project: Project,
    name: str,
    experiment,
    prepared: Prepared,
    final_model,
    data_path: Path,
    finish: Callable[[BaselineReport], BaselineReport],
    save: Callable[[BaselineReport], Path],
) -> BaselineReport:
    """Log the parent run, a nested run per candidate, the dataset and the model; register it with its aliases.

    ``save`` writes the ``finish``ed report once everything but the registration is logged: a report that
    cannot be saved leaves no registered version, and a failed registration removes the saved report. After
    the registration it saves the final report in the same place, and the run gets that HTML report and the
    leaderboard's PNG as artifacts under ``report/`` before it ends. The final report is what this returns.
    """
    from omgml._version import __version__
    from omgml.git import git_state
    from omgml.tracking import DatasetRecord, LoggedSession, ModelRecord, RunRecord, SessionRecord, log_session

    metric = report.metric.value
    _, commit, _, dirty = git_state(project.root)
    provenance = {
        "omgml.version": __version__,
        "omgml.kind": "baseline",
        "omgml.data_path": report.data.path,
        "omgml.data_sha256": report.data.sha256,
        "omgml.git_dirty": "unknown" if dirty is None else str(dirty).lower(),
        "mlflow.source.name": "omgml baseline",
        "mlflow.source.type": "LOCAL",
        "mlflow.user": _user(),
    }
    if commit:
        provenance["mlflow.source.git.commit"] = commit
    common = {
        "seed": str(request.seed),
        "cv_folds": str(request.cv),
        "split": report.split.kind,
        "task": report.task.value,
    }
    children: list[RunRecord | None] = []
    for r in report.candidates:
        if r.status == "skipped":
            children.append(None)
            continue
        metrics = _metric_values(r)
        folds = {f"{m.name}_fold": m.folds for m in r.metrics if m.mean is not None}
        for key, value in (
            (f"train_{metric}", r.train_primary_mean),
            ("fit_time_mean", r.fit_time_mean),
            ("score_time_mean", r.score_time_mean),
            (f"lift_over_dummy_{metric}", r.lift_over_dummy),
        ):
            if value is not None:
                metrics[key] = value
        tags = {**provenance, "omgml.candidate": r.name, "omgml.estimator": r.estimator[:5000]}
        if r.status == "failed":
            tags["omgml.error"] = r.reason[:5000]
        children.append(
            RunRecord(
                name=r.name,
                params={**common, **r.params},
                metrics=metrics,
                fold_metrics=folds,
                tags=tags,
                failed=r.status == "failed",
            )
        )
    best = next((r for r in report.candidates if r.name == report.best), None)
    # the best's scores under plain names: status ranks runs by them
    parent_metrics = _metric_values(best) if best is not None else {}
    if best is not None and best.lift_over_dummy is not None:
        parent_metrics[f"lift_over_dummy_{metric}"] = best.lift_over_dummy
    dummy = next((r for r in report.candidates if r.name == "dummy" and r.primary_mean is not None), None)
    if dummy is not None:
        parent_metrics[f"dummy_{metric}"] = dummy.primary_mean
    parent_metrics["rows"] = float(report.data.rows_used)
    parent_params = {
        **common,
        "target": report.data.target,
        "metric": metric,
        "data_path": report.data.path,
        "rows": str(report.data.rows_used),
        "features": str(len(report.data.features)),
        "candidates": ",".join(r.name for r in report.candidates),
        "best": report.best or "none",
        "time_budget_s": f"{request.time_budget:g}",
        "max_rows": str(request.max_rows),
        "group_column": str(request.group_column),
        "time_column": str(request.time_column),
        "threads": str(report.threads),
    }
    parent = RunRecord(
        name="baseline",
        params=parent_params,
        metrics=parent_metrics,
        tags={**provenance, "omgml.best": report.best or "none"},
        failed=report.best is None and not any(r.status == "ok" for r in report.candidates),
    )
    model = None
    registered_name = (request.model_name or registered_model_name(name)) if request.register_model else None
    schema_rows = _schema_rows(prepared.X)
    if final_model is not None:  # refitted only from a leaderboard row, so best is set
        sample = prepared.X.iloc[schema_rows]
        model = ModelRecord(
            estimator=final_model,
            input_example=prepared.X.head(5),
            signature_input=sample,
            signature_output=final_model.predict(sample),
            registered_name=registered_name,
            params={**best.params, **common},
            tags={"omgml.candidate": report.best, metric: f"{best.primary_mean:.6g}", **provenance},
            description=f"omgml baseline ({report.best}) for {name}: {report.task.value}, target "
            f"'{report.data.target}', {metric} {best.primary_mean:.4g} ± {best.primary_std:.2g} "
            f"over {split_words(report.split.kind, request.cv)}.",
        )
    record = SessionRecord(
        parent=parent,
        children=children,
        dataset=DatasetRecord(
            prepared.frame_used,
            str(data_path),
            report.data.target,
            report.data.path,
            schema_rows=prepared.frame_used.iloc[schema_rows],
            digest=_dataset_digest(report, request),
        ),
        model=model,
        json_artifacts={"omgml/baseline_report.json": report.model_dump(mode="json")},
    )

    def before_register(logged: LoggedSession) -> Callable[[], None]:
        path = save(finish(_tracked(report, logged, request, experiment, final_model)))

        def undo() -> None:  # a registration that fails leaves no report claiming it
            path.unlink(missing_ok=True)
            path.with_suffix(".html").unlink(missing_ok=True)

        return undo

    final: list[BaselineReport] = []

    def before_end(logged: LoggedSession) -> None:
        done = finish(_tracked(report, logged, request, experiment, final_model))
        final.append(_saved_and_logged(done, project, experiment, save))

    log_session(experiment, record, before_register, before_end)
    return final[0]


ARTIFACT_FOLDER = "report"
REPORT_ARTIFACT = "baseline_report.html"
LEADERBOARD_ARTIFACT = "leaderboard.png"


def _saved_and_logged(
    report: BaselineReport, project: Project, experiment: ExperimentRef, save: Callable[[BaselineReport], Path]
) -> BaselineReport:
    """``report`` saved, then its HTML and the leaderboard's PNG logged to its parent run, each written once.

    A picture that cannot be drawn or an artifact store that refuses the files costs those artifacts, never the
    report: the reason goes into the tracking note (and the report is saved again when the upload failed).
    """
    from omgml.errors import OmgmlError, first_line
    from omgml.images import leaderboard_png
    from omgml.tracking import log_files
    from omgml.workspace import read_inside

    files: dict[str, bytes] = {}
    try:  # drawn before the save, so a note saying it failed is in the HTML the run gets
        png = leaderboard_png(report)
    except Exception as exc:  # noqa: BLE001 -- a bug in drawing costs the picture, not the run
        png = None
        report = _noted(report, f"the leaderboard PNG could not be drawn ({type(exc).__name__}: {first_line(exc)})")
    save(report)
    if png is not None:
        files[LEADERBOARD_ARTIFACT] = png
    try:
        if report.html_path:  # the bytes just saved, so the run's copy is the file
            files[REPORT_ARTIFACT] = read_inside(project.root, report.html_path, "saved HTML report")
        failed = log_files(experiment, report.tracking.parent_run_id, ARTIFACT_FOLDER, files) if files else None
    except OmgmlError as exc:
        failed = exc.what
    if failed:
        report = _noted(report, f"the run has no {ARTIFACT_FOLDER}/ artifacts: {failed}")
        save(report)
    return report


def _noted(report: BaselineReport, problem: str) -> BaselineReport:
    note = f"{report.tracking.note}; {problem}"
    return report.model_copy(update={"tracking": report.tracking.model_copy(update={"note": note})})


def _tracked(report: BaselineReport, logged, request: TrainBaselineRequest, experiment, final_model) -> BaselineReport:
    """``report`` with the runs, model and registration ``logged`` holds."""
    candidates = [
        r.model_copy(update={"mlflow_run_id": run_id}) for r, run_id in zip(report.candidates, logged.child_run_ids)
    ]
    note = experiment.note
    if logged.registered_model:
        note += f"; registered {logged.registered_model} version {logged.model_version}"
    elif final_model is not None and request.register_model:
        note += "; model logged, being registered"
    elif final_model is not None:
        note += "; model logged, not registered (register was off)"
    else:
        beaten = any(row.name != "dummy" for row in report.leaderboard)
        note += "; no model logged: " + ("no candidate beat the dummy" if beaten else "only the dummy produced a score")
    if logged.notes:
        note += "; " + "; ".join(logged.notes)
    tracking = report.tracking.model_copy(
        update={
            "parent_run_id": logged.parent_run_id,
            "registered_model": logged.registered_model,
            "model_version": logged.model_version,
            "aliases": logged.aliases,
            "model_uri": f"models:/{logged.registered_model}@baseline" if logged.registered_model else logged.model_uri,
            "note": note,
        }
    )
    return report.model_copy(update={"candidates": candidates, "tracking": tracking})


def _dataset_digest(report: BaselineReport, request: TrainBaselineRequest) -> str:
    """MLflow's 8-hex-digit dataset digest, from what fixes the rows used: the file's sha256, the target,
    the rows kept and the sampling. The whole file is hashed already; hashing the frame again costs time."""
    import hashlib

    key = "|".join(
        str(part)
        for part in (
            report.data.sha256,
            report.data.target,
            report.data.rows_used,
            f"sampled with seed {request.seed}" if report.data.sampled else "all rows",
            request.time_column,  # rows without a time value are dropped
            request.group_column,  # rows without a group are dropped
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _metric_values(result: CandidateResult) -> dict[str, float]:
    """Mean and std of each computed metric, under the names MLflow and status use."""
    values: dict[str, float] = {}
    for m in result.metrics:
        if m.mean is not None:
            values[m.name] = m.mean
            values[f"{m.name}_std"] = m.std or 0.0
    return values


def _schema_rows(X: Any) -> list[int]:
    """The first rows plus, per column with gaps, one row where it is missing: MLflow marks those optional."""
    rows = set(range(min(SIGNATURE_ROWS, len(X))))
    for column in X.columns:
        missing = X[column].isna().to_numpy()
        if missing.any():
            rows.add(int(missing.argmax()))
    return sorted(rows)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 -- no user name in some containers
        return "unknown"
