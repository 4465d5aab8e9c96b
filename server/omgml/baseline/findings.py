"""What a baseline run found and how it ends: the findings (each rule stated in its message), the
leaderboard with lift over the dummy, and the report's verdict, headline and next steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omgml.baseline.models import BaselineReport, CandidateResult, Finding, LeaderboardRow, TrainBaselineRequest
from omgml.baseline.prepare import Prepared

# Leaderboard checks, each stated in the finding it raises.
PERFECT_SCORE = 0.999  # balanced accuracy, ROC AUC or R² at or above this: a note, or the leak's symptom
LEAKAGE_ROWS = 50_000  # rows the leakage check looks at (a seeded sample beyond), as validate's sample
FAILING = {"within_noise", "target_leakage"}  # findings that make the run not ok
OVERFIT_GAP = 0.1  # train score above CV score by more than this (scores bounded by 1)
OVERFIT_RATIO = 1.5  # CV error above this many times the train error (RMSE, MAE, log loss)
BOUNDED = {"roc_auc", "average_precision", "accuracy", "balanced_accuracy", "f1_macro", "r2"}
IMPORTANCE_ROWS = 2_000


@dataclass(frozen=True)
class Scored:
    """The cross-validated candidates and what was refit, as the findings read them."""

    results: list[CandidateResult]
    leaderboard: list[LeaderboardRow]
    metric: str
    greater: bool
    final_model: Any
    best: str | None
    scorers: dict[str, Any]


def baseline_findings(request: TrainBaselineRequest, scored: Scored, prepared: Prepared) -> list[Finding]:
    """Failures and skips, the dummy bar, noise, leakage, a perfect score and overfitting, each stated."""
    results, leaderboard, metric, greater = scored.results, scored.leaderboard, scored.metric, scored.greater
    final_model, best, scorers = scored.final_model, scored.best, scored.scorers
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
    leaks = found_leaks(request, prepared)
    findings += [Finding(code="target_leakage", message=f"{leak}.") for leak in leaks]
    if best is not None and final_model is not None:
        perfect = perfect_note(request, by_name[best], final_model, prepared, metric, scorers, bool(leaks))
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


def found_leaks(request: TrainBaselineRequest, prepared: Prepared) -> list[str]:
    """validate's target_leakage rule on the features as trained on (a seeded sample of at most LEAKAGE_ROWS)."""
    import numpy as np
    import pyarrow as pa

    from omgml.baseline.crossval import sample_rows
    from omgml.data.leakage import find_leaks

    target = prepared.summary.target
    rows = sample_rows(np.arange(len(prepared.y)), LEAKAGE_ROWS, request.seed)
    frame = prepared.frame_used.iloc[rows]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    features = [c for c in prepared.X.columns if c != target]
    classification = bool(prepared.classes)
    return [leak.message for leak in find_leaks(table, target, features, classification, len(prepared.y))]


def perfect_note(
    request: TrainBaselineRequest,
    result: CandidateResult,
    model: Any,
    prepared: Prepared,
    metric: str,
    scorers,
    leaked: bool,
) -> str:
    import numpy as np

    from omgml.baseline.crossval import sample_rows

    means = {m.name: m.mean for m in result.metrics if m.mean is not None}
    checks = ("balanced_accuracy", "roc_auc") if "balanced_accuracy" in means else ("r2",)
    hit = next((name for name in checks if means.get(name, 0.0) >= PERFECT_SCORE), None)
    if hit is None:
        return ""
    from sklearn.inspection import permutation_importance

    sample = sample_rows(np.arange(len(prepared.y)), IMPORTANCE_ROWS, request.seed)
    top = ""
    try:
        importance = permutation_importance(
            model,
            prepared.X.iloc[sample],
            prepared.y[sample],
            scoring=scorers[hit],
            n_repeats=3,
            random_state=request.seed,
        )
        order = np.argsort(importance.importances_mean)[::-1]
        column = prepared.X.columns[order[0]]
        top = (
            f" The top feature is '{column}': shuffling it lowers {hit} by {importance.importances_mean[order[0]]:.3f}."
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


def with_lift(results: list[CandidateResult], greater: bool) -> list[CandidateResult]:
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


def rank(results: list[CandidateResult], greater: bool) -> list[LeaderboardRow]:
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


def finish(report: BaselineReport, elapsed: float) -> BaselineReport:
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
