"""``train_baseline``: the first model every project gets, done right.

Read the table, decide the task and metric (with reasons), split honestly, cross-validate the
dummy, a linear model and boosted trees within a time budget, refit the best on every row,
log it all to MLflow (a parent run, a nested run per candidate, the dataset, the model) and
register the model with alias ``baseline`` (and ``champion`` when there is none yet).
"""

from __future__ import annotations

import difflib
import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omgml.baseline.models import (
    BaselineReport,
    CandidateResult,
    ClassCount,
    DataSummary,
    Decision,
    Finding,
    LeaderboardRow,
    MetricSummary,
    SplitInfo,
    TrackingInfo,
    TrainBaselineRequest,
)
from omgml.config import METRICS, ProjectConfig, registered_model_name
from omgml.errors import InvalidInput, first_line, parse_request
from omgml.tracking import stdout_to_stderr
from omgml.workspace import Project

# Leaderboard checks, each stated in the finding it raises.
PERFECT_SCORE = 0.999  # balanced accuracy, ROC AUC or R² at or above this: a note, or the leak's symptom
LEAKAGE_ROWS = 50_000  # rows the leakage check looks at (a seeded sample beyond), as validate's sample
FAILING = {"within_noise", "target_leakage"}  # findings that make the run not ok
IMBALANCE_RATIO = 0.1  # smallest class under a tenth of the largest
OVERFIT_GAP = 0.1  # train score above CV score by more than this (scores bounded by 1)
OVERFIT_RATIO = 1.5  # CV error above this many times the train error (RMSE, MAE, log loss)
BOUNDED = {"roc_auc", "average_precision", "accuracy", "balanced_accuracy", "f1_macro", "r2"}
IMPORTANCE_ROWS = 2_000
SIGNATURE_ROWS = 100


def train_baseline(request: TrainBaselineRequest | dict | None = None, *, root: Path | None = None) -> BaselineReport:
    """Cross-validate baseline models, log them to MLflow and register the best one.

    Parameters
    ----------
    request
        A ``TrainBaselineRequest`` or a dict of its fields. Empty fields come from the
        project's ``omgml.toml`` (data path, target, task, metric), else from the data
        (the task is inferred, with the reason) or a stated default.
    root
        Folder the project dir must stay inside (the MCP face passes the workspace root);
        None takes the project dir as given.

    Returns
    -------
    BaselineReport
        Decisions with reasons, the folds, every candidate's mean and standard deviation per
        metric (equal to ``sklearn.model_selection.cross_validate`` on the same folds), the
        leaderboard with lift over the dummy, findings, and the MLflow runs and registered
        version. Also saved under ``.omgml/reports/baseline/``.

    Raises
    ------
    OmgmlError
        Bad input (missing target column, a constant or id-like target, fewer rows than
        folds, ...) before anything is trained; ``TrackingError`` when MLflow cannot be reached
        (nothing is trained) or a write fails (the runs are marked FAILED).
    """
    request = parse_request(TrainBaselineRequest, request, "baseline")
    # MLflow prints run links to stdout; stdout belongs to the MCP protocol and to --json.
    with stdout_to_stderr():
        return _Session(request, root).run()


@dataclass
class _Prepared:
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


class _Session:
    def __init__(self, request: TrainBaselineRequest, root: Path | None) -> None:
        from omgml.baseline.crossval import Budget

        self.request = request
        self.budget = Budget(request.time_budget)
        self.project = Project.open(request.project_dir, root)
        self.config: ProjectConfig | None = self.project.config
        self.name = self.config.name if self.config else self.project.root.name

    # --- the steps ------------------------------------------------------------------------

    def run(self) -> BaselineReport:
        from omgml.baseline import crossval
        from omgml.baseline.candidates import BY_NAME as CANDIDATES_BY_NAME
        from omgml.baseline.candidates import CANDIDATES
        from omgml.baseline.metrics import BY_NAME as METRIC_SPECS
        from omgml.baseline.metrics import build_scorers, choose_primary
        from omgml.baseline.splits import SplitContext, make_folds
        from omgml.tracking import open_experiment, project_tracking_uri, tracking_uri_source

        request = self.request
        if request.group_column and request.time_column:
            raise InvalidInput(
                "Both --group-column and --time-column were given",
                "a split either keeps groups together or follows time; omgml does one of them",
                "pass only one (a time split already keeps future rows out of training)",
            )
        data_rel, data_path = self._data_path()
        target = self._target()
        frame, ragged = self._read(data_path)
        task, prepared = self._prepare(frame, target, data_rel, data_path, ragged)
        metric, metric_source, metric_reason = choose_primary(
            task.value, request.metric, self.config.metric if self.config else None
        )
        greater = METRICS[metric].greater_is_better
        folds = make_folds(
            SplitContext(task.value, request.cv, request.seed, request.group_column, request.time_column),
            prepared.y,
            prepared.groups,
        )
        threads, threads_reason = training_threads()
        uri = project_tracking_uri(self.project.root, self.config)
        # Fails fast, before any training: an unreachable server costs nothing but the message.
        experiment = open_experiment(
            uri, self.name, self.project.root / "mlruns", source=tracking_uri_source(self.config)
        )

        names = set(request.models or CANDIDATES_BY_NAME)
        chosen = [c for c in CANDIDATES if c.name in names or c.reference]
        scorers = build_scorers(task.value, prepared.classes, prepared.positive)
        from threadpoolctl import threadpool_limits

        numeric, categorical = prepared.numeric, prepared.categorical
        results: list[CandidateResult] = []
        final_model, best = None, None
        with threadpool_limits(limits=threads):
            for candidate in chosen:
                estimator = candidate.build(task.value, numeric, categorical, request.seed)
                outcome = crossval.evaluate(
                    estimator,
                    prepared.X,
                    prepared.y,
                    folds.splits,
                    scorers,
                    METRIC_SPECS,
                    metric,
                    self.budget,
                    reference=candidate.reference,
                    seed=request.seed,
                )
                results.append(_result(candidate, estimator, outcome, metric, task.value, numeric, categorical))
            results = _with_lift(results, greater)
            leaderboard = _leaderboard(results, greater)
            findings = list(prepared.findings)
            for ranked in leaderboard:
                if ranked.name == "dummy":
                    break  # the dummy is the bar, never the model to register
                candidate = CANDIDATES_BY_NAME[ranked.name]
                try:
                    final_model = candidate.build(task.value, numeric, categorical, request.seed).fit(
                        prepared.X, prepared.y
                    )
                    best = ranked.name
                    break
                except Exception as exc:  # noqa: BLE001 -- a candidate that fails to refit is a finding; the next one goes on
                    findings.append(
                        Finding(
                            code="candidate_failed",
                            message=f"{ranked.name} scored in cross-validation but failed to refit on all rows: "
                            f"{type(exc).__name__}: {first_line(exc)}",
                        )
                    )
            findings += self._findings(results, leaderboard, metric, greater, prepared, final_model, best, scorers)

        split = SplitInfo(
            kind=folds.kind,
            n_splits=request.cv,
            shuffle=folds.shuffle,
            seed=request.seed,
            group_column=request.group_column,
            time_column=request.time_column,
            test_rows=[len(test) for _, test in folds.splits],
            reason=folds.reason,
        )
        report = BaselineReport(
            project_dir=str(self.project.root),
            project=self.name,
            ok=False,
            headline="",
            data=prepared.summary,
            task=task,
            metric=Decision(value=metric, source=metric_source, reason=metric_reason),
            greater_is_better=greater,
            split=split,
            threads=threads,
            threads_reason=threads_reason,
            time_budget_s=request.time_budget,
            elapsed_s=0.0,
            candidates=results,
            leaderboard=leaderboard,
            best=best,
            findings=findings,
            tracking=TrackingInfo(
                uri=uri,
                experiment=self.name,
                experiment_id=experiment.experiment_id,
                parent_run_id=None,
                registered_model=None,
                model_version=None,
                aliases=[],
                model_uri=None,
                note=experiment.note,
            ),
            next_steps=[],
        )
        report = self._log(report, experiment, prepared, final_model, data_path)
        report = _finish(report, self.budget.elapsed())
        self.project.store.save(report)
        return report

    def _data_path(self) -> tuple[str, Path]:
        rel = self.request.data_path or (self.config.data.train if self.config else None)
        if not rel:
            raise InvalidInput(
                "No training table was given",
                "the baseline needs a data file, and omgml.toml has no [data] train"
                if self.config
                else "the baseline needs a data file, and there is no omgml.toml to name one",
                "pass the table (e.g. `omgml baseline data/raw/train.csv --target COLUMN`), or set [data] train "
                "in omgml.toml",
            )
        path = self.project.resolve(rel, "data path")
        return self.project.rel(path), path

    def _target(self) -> str:
        target = self.request.target or (self.config.target if self.config else None)
        if not target:
            raise InvalidInput(
                "No target column was given",
                "the baseline predicts one column, and there is no omgml.toml naming it",
                "pass --target COLUMN",
            )
        return target

    def _read(self, path: Path) -> tuple[Any, str]:
        from omgml.data.tables import open_table

        table = open_table(path)
        arrow = table.read_all()
        ragged = ""
        if table.ragged.count:
            lines = ", ".join(str(n) for n in table.ragged.examples)
            ragged = f"{table.ragged.count:,} ragged row(s) skipped while reading (field count differs; lines {lines})"
        return arrow.to_pandas(), ragged

    def _prepare(
        self, frame: Any, target: str, data_rel: str, data_path: Path, ragged: str
    ) -> tuple[Decision, _Prepared]:
        import numpy as np
        import pandas as pd

        from omgml.baseline.features import prepare_features

        request = self.request
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
        if not given and self.config is not None:
            given, source = self.config.task, "omgml.toml"
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
            if smallest < IMBALANCE_RATIO * largest:
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
        sha = self._sha256(data_path, data_rel)
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
        return task, _Prepared(
            X, y, frame_used, groups, summary, classes, positive, findings, plan.numeric, plan.categorical
        )

    def _sha256(self, path: Path, rel: str) -> str:
        from omgml.data.files import FingerprintCache

        cache = FingerprintCache(self.project.store.fingerprints)
        digest = cache.sha256(path, rel)
        if self.config is not None:  # the same cache status keeps; only omgml projects get one
            cache.save()
        return digest

    def _findings(self, results, leaderboard, metric, greater, prepared, final_model, best, scorers) -> list[Finding]:
        findings: list[Finding] = []
        for r in results:
            if r.status == "failed":
                findings.append(
                    Finding(code="candidate_failed", message=f"{r.name} failed ({r.reason}); the others went on.")
                )
            elif r.status == "skipped":
                findings.append(Finding(code="candidate_skipped", message=f"{r.name} skipped: {r.reason}."))
        by_name = {r.name: r for r in results}
        dummy = by_name.get("dummy")
        models = [row for row in leaderboard if row.name != "dummy"]
        if models and leaderboard[0].name == "dummy":  # (only the dummy scored: the skips and failures say why)
            findings.append(
                Finding(
                    code="dummy_best",
                    message=f"No candidate beat the dummy on {metric}: the features, as given, do not predict the "
                    "target. Nothing was registered.",
                )
            )
        elif models and dummy is not None and dummy.status == "ok":
            top = models[0]
            noise = max(top.primary_std, dummy.primary_std or 0.0)
            if top.lift_over_dummy is not None and top.lift_over_dummy <= noise:
                findings.append(
                    Finding(
                        code="within_noise",
                        message=f"{top.name}'s {metric} {top.primary_mean:.4g} ± {top.primary_std:.2g} is within noise "
                        f"of the dummy's {dummy.primary_mean:.4g}: the lift {top.lift_over_dummy:.3g} is no larger than "
                        f"the folds' spread ({noise:.3g}). The features carry little signal about the target.",
                    )
                )
        leaks = self._leaks(prepared)
        findings += [Finding(code="target_leakage", message=f"{leak}.") for leak in leaks]
        if best is not None and final_model is not None:
            perfect = self._perfect(by_name[best], final_model, prepared, metric, scorers, bool(leaks))
            if perfect:
                findings.append(Finding(code="perfect_score", message=perfect))
        for r in results:
            if r.name == "dummy" or r.status != "ok" or r.train_primary_mean is None or r.primary_mean is None:
                continue
            train, cv = r.train_primary_mean, r.primary_mean
            if greater and metric in BOUNDED and train - cv > OVERFIT_GAP:
                rule = f"gap {train - cv:.3f} > {OVERFIT_GAP}"
            elif not greater and train > 0 and cv > OVERFIT_RATIO * train:
                rule = f"{cv / train:.2f} times the training error, more than {OVERFIT_RATIO}"
            else:
                continue
            findings.append(
                Finding(
                    code="overfit",
                    message=f"{r.name} fits its training rows much better than held-out rows: train {metric} "
                    f"{train:.4g} vs cross-validated {cv:.4g} ({rule}). It may be overfitting: more rows, stronger "
                    "regularization or fewer, better features help.",
                )
            )
        return findings

    def _leaks(self, prepared: _Prepared) -> list[str]:
        """validate's target_leakage rule on the features as trained on (a seeded sample of at most LEAKAGE_ROWS)."""
        import numpy as np
        import pyarrow as pa

        from omgml.baseline.crossval import sample_rows
        from omgml.data.leakage import find_leaks

        target = prepared.summary.target
        rows = sample_rows(np.arange(len(prepared.y)), LEAKAGE_ROWS, self.request.seed)
        frame = prepared.frame_used.iloc[rows]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        features = [c for c in prepared.X.columns if c != target]
        classification = bool(prepared.classes)
        return [leak.message for leak in find_leaks(table, target, features, classification, len(prepared.y))]

    def _perfect(
        self, result: CandidateResult, model: Any, prepared: _Prepared, metric: str, scorers, leaked: bool
    ) -> str:
        import numpy as np

        from omgml.baseline.crossval import sample_rows

        means = {m.name: m.mean for m in result.metrics if m.mean is not None}
        checks = ("balanced_accuracy", "roc_auc") if "balanced_accuracy" in means else ("r2",)
        hit = next((name for name in checks if means.get(name, 0.0) >= PERFECT_SCORE), None)
        if hit is None:
            return ""
        from sklearn.inspection import permutation_importance

        sample = sample_rows(np.arange(len(prepared.y)), IMPORTANCE_ROWS, self.request.seed)
        top = ""
        try:
            importance = permutation_importance(
                model,
                prepared.X.iloc[sample],
                prepared.y[sample],
                scoring=scorers[hit],
                n_repeats=3,
                random_state=self.request.seed,
            )
            order = np.argsort(importance.importances_mean)[::-1]
            column = prepared.X.columns[order[0]]
            top = (
                f" The top feature is '{column}': shuffling it lowers {hit} by "
                f"{importance.importances_mean[order[0]]:.3f}."
            )
        except Exception as exc:  # noqa: BLE001 -- the note stands without it
            top = f" (The top feature could not be computed: {type(exc).__name__}.)"
        scored = f"{result.name} scores {hit} {means[hit]:.4f} in cross-validation"
        if leaked:
            return (
                f"{scored}: suspiciously perfect, a sign of leakage (a feature that encodes the target), which the "
                f"target_leakage finding names.{top}"
            )
        looks = "the classes look separable" if prepared.classes else "the target looks nearly determined"
        return (
            f"{scored}, and no feature alone (nor a sum of two) gives the target away: {looks} with these "
            f"features together, which is a note, not a failure.{top} Confirm on data collected later that it "
            "stays this easy."
        )

    def _log(
        self, report: BaselineReport, experiment, prepared: _Prepared, final_model, data_path: Path
    ) -> BaselineReport:
        from omgml._version import __version__
        from omgml.git import git_state
        from omgml.tracking import DatasetRecord, ModelRecord, RunRecord, SessionRecord, log_session

        request, metric = self.request, report.metric.value
        _, commit, _, dirty = git_state(self.project.root)
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
        registered_name = (request.model_name or registered_model_name(self.name)) if request.register_model else None
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
                description=f"omgml baseline ({report.best}) for {self.name}: {report.task.value}, target "
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
        logged = log_session(experiment, record)
        candidates = [
            r.model_copy(update={"mlflow_run_id": run_id}) for r, run_id in zip(report.candidates, logged.child_run_ids)
        ]
        note = experiment.note
        if logged.registered_model:
            note += f"; registered {logged.registered_model} version {logged.model_version}"
        elif final_model is not None and not request.register_model:
            note += "; model logged, not registered (register was off)"
        elif final_model is None:
            beaten = any(row.name != "dummy" for row in report.leaderboard)
            note += "; no model logged: " + (
                "no candidate beat the dummy" if beaten else "only the dummy produced a score"
            )
        if logged.notes:
            note += "; " + "; ".join(logged.notes)
        tracking = report.tracking.model_copy(
            update={
                "parent_run_id": logged.parent_run_id,
                "registered_model": logged.registered_model,
                "model_version": logged.model_version,
                "aliases": logged.aliases,
                "model_uri": f"models:/{logged.registered_model}@baseline"
                if logged.registered_model
                else logged.model_uri,
                "note": note,
            }
        )
        return report.model_copy(update={"candidates": candidates, "tracking": tracking})


# --- helpers ------------------------------------------------------------------------------


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


def _result(candidate, estimator, outcome, primary: str, task: str, numeric, categorical) -> CandidateResult:
    import numpy as np

    from omgml.baseline.candidates import model_params
    from omgml.baseline.metrics import BY_NAME

    metrics = []
    for name, values in outcome.scores.items():
        done = outcome.status == "ok" and len(values) > 0
        metrics.append(
            MetricSummary(
                name=name,
                greater_is_better=BY_NAME[name].greater_is_better,
                mean=float(np.mean(values)) if done else None,
                std=float(np.std(values)) if done else None,
                folds=[float(v) for v in values] if done else [],
            )
        )
    primary_summary = next(m for m in metrics if m.name == primary)
    ok = outcome.status == "ok"
    return CandidateResult(
        name=candidate.name,
        estimator=candidate.describe(task, numeric, categorical),
        status=outcome.status,
        reason=outcome.reason,
        params=model_params(estimator),
        metrics=metrics,
        primary_mean=primary_summary.mean,
        primary_std=primary_summary.std,
        train_primary_mean=float(np.mean(outcome.train_primary)) if ok and outcome.train_primary else None,
        lift_over_dummy=None,
        fit_time_mean=float(np.mean(outcome.fit_times)) if ok else None,
        score_time_mean=float(np.mean(outcome.score_times)) if ok else None,
        folds_done=outcome.folds_done,
        seconds=round(outcome.seconds, 3),
        notes=outcome.notes,
        mlflow_run_id=None,
    )


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


def training_threads() -> tuple[int, str]:
    """How many threads BLAS and OpenMP get while training, and why."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    pinned = os.environ.get("OMP_NUM_THREADS", "")
    if pinned.isdigit() and int(pinned) > 0:
        return int(pinned), f"OMP_NUM_THREADS={pinned} is set; {cpus} CPU(s) available"
    if cpus <= 2:
        return 1, f"{cpus} CPU(s): 1 thread, so training does not starve the agent and the OS on a small machine"
    if cpus <= 8:
        return cpus - 1, f"{cpus} CPUs: {cpus - 1} threads, one CPU left for the agent and the OS"
    return min(cpus - 1, 16), f"{cpus} CPUs: {min(cpus - 1, 16)} threads (one CPU left free, at most 16)"


def _with_lift(results: list[CandidateResult], greater: bool) -> list[CandidateResult]:
    dummy = next((r for r in results if r.name == "dummy" and r.primary_mean is not None), None)
    if dummy is None:
        return results
    updated = []
    for r in results:
        lift = None
        if r.primary_mean is not None:
            lift = (r.primary_mean - dummy.primary_mean) if greater else (dummy.primary_mean - r.primary_mean)
        updated.append(r.model_copy(update={"lift_over_dummy": lift}))
    return updated


def _leaderboard(results: list[CandidateResult], greater: bool) -> list[LeaderboardRow]:
    scored = [r for r in results if r.status == "ok" and r.primary_mean is not None]
    order = sorted(scored, key=lambda r: (-r.primary_mean if greater else r.primary_mean, r.name == "dummy"))
    return [
        LeaderboardRow(
            rank=i + 1,
            name=r.name,
            primary_mean=r.primary_mean,
            primary_std=r.primary_std or 0.0,
            lift_over_dummy=r.lift_over_dummy,
            fit_time_mean=r.fit_time_mean,
        )
        for i, r in enumerate(order)
    ]


def _finish(report: BaselineReport, elapsed: float) -> BaselineReport:
    metric = report.metric.value
    codes = {f.code for f in report.findings}
    findings = list(report.findings)
    if elapsed > report.time_budget_s:
        findings.append(
            Finding(
                code="over_budget",
                message=f"The run took {elapsed:.0f} s, over the {report.time_budget_s:g} s budget: the dummy, the "
                "final refit and MLflow logging always run; skipped candidates say why.",
            )
        )
    best = next((r for r in report.candidates if r.name == report.best), None)
    registered = report.tracking.registered_model
    logged = report.tracking.model_uri is not None
    ok = best is not None and logged and not codes & FAILING
    folds = split_words(report.split.kind, report.split.n_splits)
    if best is not None:
        lift = f", lift {best.lift_over_dummy:+.4g} over the dummy" if best.lift_over_dummy is not None else ""
        headline = f"{best.name} is the best baseline: {metric} {best.primary_mean:.4g} ± {best.primary_std:.2g} over {folds}{lift}"
        if registered:
            aliases = ", ".join(f"@{a}" for a in report.tracking.aliases)
            headline += f"; registered {registered} v{report.tracking.model_version} ({aliases})"
    elif any(row.name != "dummy" for row in report.leaderboard):
        headline = f"No model beat the dummy on {metric} over {folds}; nothing registered"
    elif report.leaderboard:
        headline = (
            f"Only the dummy produced a score over {folds} (the others were skipped or failed); nothing registered"
        )
    else:
        headline = f"No candidate produced a score over {folds}; nothing registered"
    if codes & FAILING:
        headline += " - but see the findings"
    steps = []
    if "target_leakage" in codes:
        steps.append(
            "Drop the column(s) named in the target_leakage finding (or show they are known before the target) and "
            "train again; no score can be trusted until then."
        )
    if "within_noise" in codes or "dummy_best" in codes:
        steps.append("Find features that carry signal about the target; a better model will not help until then.")
    if "candidate_skipped" in codes:
        steps.append("Raise --time-budget, or sample with --max-rows, to run the skipped candidates.")
    if "overfit" in codes:
        steps.append("Reduce overfitting (more rows, regularization) before tuning anything else.")
    if registered:
        steps.append(f'Load the model anywhere: mlflow.pyfunc.load_model("models:/{registered}@baseline").')
    if report.tracking.uri.startswith("sqlite:///"):
        steps.append(f"Browse the runs: `mlflow ui --backend-store-uri {report.tracking.uri}`.")
    steps.append("Run `omgml status` to see the model development stage and readiness checklist.")
    return report.model_copy(
        update={
            "ok": ok,
            "headline": headline + ".",
            "findings": findings,
            "elapsed_s": round(elapsed, 3),
            "next_steps": steps,
        }
    )


def split_words(kind: str, k: int) -> str:
    return {
        "stratified_kfold": f"{k}-fold stratified cross-validation",
        "kfold": f"{k}-fold cross-validation",
        "group_kfold": f"{k}-fold group cross-validation",
        "time_series": f"{k} time-ordered splits",
    }[kind]


def _missing_column(role: str, column: str, columns: list[str], data_rel: str) -> InvalidInput:
    close = difflib.get_close_matches(column, columns, n=3)
    shown = ", ".join(columns[:20]) + (f" (and {len(columns) - 20} more)" if len(columns) > 20 else "")
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    option = {"target": "--target", "group column": "--group-column", "time column": "--time-column"}[role]
    return InvalidInput(
        f"The {role} '{column}' is not a column of {data_rel}",
        f"its columns are: {shown}",
        f"{hint}pass one of them as {option}" + (", or fix [project] target in omgml.toml" if role == "target" else ""),
    )


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


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 -- no user name in some containers
        return "unknown"
