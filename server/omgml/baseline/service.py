"""``train_baseline``: the first model every project gets, done right.

Read the table, decide the task and metric (with reasons), split honestly, cross-validate the
dummy, a linear model and boosted trees within a time budget, refit the best on every row,
log it all to MLflow (a parent run, a nested run per candidate, the dataset, the model) and
register the model with alias ``baseline`` (and ``champion`` when there is none yet).
"""

from __future__ import annotations

import os
from pathlib import Path

from omgml.baseline.findings import Scored, baseline_findings, finish, rank, with_lift
from omgml.baseline.models import (
    BaselineReport,
    CandidateResult,
    Decision,
    Finding,
    MetricSummary,
    SplitInfo,
    TrackingInfo,
    TrainBaselineRequest,
)
from omgml.baseline.prepare import prepare, read_table
from omgml.baseline.records import log_baseline
from omgml.config import METRICS, ProjectConfig
from omgml.data.files import resolve_data
from omgml.errors import InvalidInput, OmgmlError, PathError, first_line, parse_request
from omgml.progress import advance
from omgml.tracking import stdout_to_stderr
from omgml.workspace import Project


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


class _Session:
    def __init__(self, request: TrainBaselineRequest, root: Path | None) -> None:
        from omgml.baseline.crossval import Budget

        self.request = request
        self.budget = Budget(request.time_budget)
        self.project = Project.open(request.project_dir, root)
        self.config: ProjectConfig | None = self.project.config
        self.name = self.config.name if self.config else self.project.root.name
        self.saved: Path | None = None  # where the report is saved, once it is

    # --- the steps ------------------------------------------------------------------------

    def run(self) -> BaselineReport:
        from omgml.baseline import crossval
        from omgml.baseline.candidates import BY_NAME as CANDIDATES_BY_NAME
        from omgml.baseline.candidates import CANDIDATES
        from omgml.baseline.metrics import BY_NAME as METRIC_SPECS
        from omgml.baseline.metrics import build_scorers, choose_primary
        from omgml.baseline.splits import SplitContext, make_folds
        from omgml.tracking import open_experiment, project_tracking_uri, tracking_lock, tracking_uri_source

        request = self.request
        self._check_names()
        if request.group_column and request.time_column:
            raise InvalidInput(
                "Both --group-column and --time-column were given",
                "a split either keeps groups together or follows time; omgml does one of them",
                "pass only one (a time split already keeps future rows out of training)",
            )
        data_rel, data_path = self._data_path()
        target = self._target()
        frame, ragged = read_table(data_path)
        task, prepared = prepare(
            request, self.project, frame, target=target, data_rel=data_rel, data_path=data_path, ragged=ragged
        )
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
            uri,
            self.name,
            self.project.resolve("mlruns", "MLflow artifact folder"),
            source=tracking_uri_source(self.config),
            lock=tracking_lock(self.project.root),
        )

        names = set(request.models or CANDIDATES_BY_NAME)
        chosen = [c for c in CANDIDATES if c.name in names or c.reference]
        scorers = build_scorers(task.value, prepared.classes, prepared.positive)
        from threadpoolctl import threadpool_limits

        numeric, categorical = prepared.numeric, prepared.categorical
        results: list[CandidateResult] = []
        fold_predictions: dict[str, list] = {}
        final_model, best = None, None
        with threadpool_limits(limits=threads):
            k, total = len(folds.splits), len(chosen) * len(folds.splits)
            for number, candidate in enumerate(chosen):
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
                    fold_done=lambda n, before=number * k: advance("cross-validation folds", before + n, total),
                )
                results.append(_result(candidate, estimator, outcome, metric, task.value, numeric, categorical))
                fold_predictions[candidate.name] = outcome.predictions
            results = with_lift(results, greater)
            leaderboard = rank(results, greater)
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
            if best is not None:
                results = _with_out_of_fold(results, best, fold_predictions[best], prepared, folds.splits, task.value)
            scored = Scored(results, leaderboard, metric, greater, final_model, best, scorers)
            findings += baseline_findings(request, scored, prepared)

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
        # The report is saved before the model is registered (and saved again with the version), so a
        # report that cannot be written leaves no registered version behind.
        return log_baseline(
            report,
            request=request,
            project=self.project,
            name=self.name,
            experiment=experiment,
            prepared=prepared,
            final_model=final_model,
            data_path=data_path,
            finish=lambda draft: finish(draft, self.budget.elapsed()),
            save=self._save,
        )

    def _check_names(self) -> None:
        """The experiment and registered model names MLflow would refuse, refused before any work."""
        from omgml.config import registered_model_name
        from omgml.tracking import experiment_name_problem, model_name_problem

        problem = experiment_name_problem(self.name)
        if problem:
            raise InvalidInput(
                f"The project name {self.name!r} cannot name an MLflow experiment",
                f"{problem}; nothing was trained",
                "set a shorter, non-blank name in omgml.toml",
            )
        if self.request.register_model and not self.request.model_name:
            default = registered_model_name(self.name)
            problem = model_name_problem(default)
            if problem:
                raise InvalidInput(
                    f"The registered model name {default!r} made from the project name cannot be used",
                    f"MLflow's registry would refuse it: {problem}; nothing was trained",
                    "pass --model-name NAME (model_name), or rename the project in omgml.toml",
                )

    def _save(self, report: BaselineReport) -> Path:
        """Save ``report``; once saved, again at the same path (the draft before registration, then the final one).

        A folder that refuses it is a ``PathError`` saying what it left behind.
        """
        store = self.project.store
        try:
            if self.saved is None:
                self.saved = store.save(report)
                return self.saved
            return store.save_at(self.saved, report)
        except (OSError, OmgmlError) as exc:
            left = (
                "the model is registered in MLflow, but the saved report still shows it unregistered"
                if report.tracking.registered_model
                else "the MLflow runs are marked FAILED and no model version was registered"
            )
            if isinstance(exc, OmgmlError):  # the store's own words, and what that left behind
                raise PathError(
                    f"The baseline report could not be saved: {exc.what}", f"{exc.why}; {left}", exc.fix
                ) from exc
            raise PathError(
                f"The baseline report could not be saved under {store.reports('baseline')}",
                f"{exc.strerror or exc}; {left}",
                "make the project's .omgml/reports folder writable, then run the baseline again",
            ) from exc

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
        path = resolve_data(self.project, rel, "data path")
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


def _with_out_of_fold(results, best: str, predictions: list, prepared, splits, task: str) -> list[CandidateResult]:
    """The best candidate's result with its out-of-fold confusion matrix or residuals, from the predictions its
    cross-validation scored: no fit and no prediction of its own."""
    import time

    from omgml.baseline import crossval, diagnostics

    start = time.perf_counter()
    predicted, tested = crossval.out_of_fold(predictions, prepared.y, splits)
    labels = [c.label for c in prepared.summary.classes]
    summary = diagnostics.summarize(
        task, prepared.y, predicted, tested, prepared.classes, labels, time.perf_counter() - start
    )
    return [r.model_copy(update={"out_of_fold": summary}) if r.name == best else r for r in results]


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
