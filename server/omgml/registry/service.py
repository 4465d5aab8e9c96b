"""``compare_models``, ``promote_model``, ``rollback_model``: move ``@champion`` only on evidence, and back.

compare scores the champion and each challenger on the same held-out rows with the project's metric and
draws a paired bootstrap of the difference (the same resampled rows for every model); promote moves
``@champion`` to a version the newest comparison of it said to promote, against the champion of now, and
keeps the old one as ``@previous``; rollback moves ``@champion`` back to ``@previous``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omgml.data.files import fingerprint, resolve_data
from omgml.errors import InvalidInput, OmgmlError, parse_request
from omgml.progress import advance
from omgml.registry.models import (
    CONFIDENCE,
    ChallengerResult,
    CompareModelsRequest,
    CompareReport,
    Evaluation,
    ModelScore,
    PromoteModelRequest,
    PromoteResult,
    RollbackModelRequest,
    RollbackResult,
    SignatureChange,
)
from omgml.registry.scoring import LoadedModel, Registry, RowScores
from omgml.tracking import stdout_to_stderr
from omgml.workspace import Project

CHAMPION, PREVIOUS, CHALLENGER = "champion", "previous", "challenger"
# Version tags promote and rollback write: who, when, why and on what evidence.
PROMOTED_BY, PROMOTED_AT = "omgml.promoted_by", "omgml.promoted_at"
PROMOTION_REASON, PROMOTION_EVIDENCE = "omgml.promotion_reason", "omgml.promotion_evidence"
PROMOTED_OVER = "omgml.promoted_over"  # the champion it replaced: where @previous goes after a rollback
ROLLED_BACK_BY, ROLLED_BACK_AT, ROLLED_BACK_TO = "omgml.rolled_back_by", "omgml.rolled_back_at", "omgml.rolled_back_to"
NONE_TAG = "none"
RULE = (
    "promote when the challenger's gain (positive = better) is more than the margin and the lower end of its "
    "paired bootstrap interval is above zero; keep otherwise"
)


def compare_models(request: CompareModelsRequest | dict | None = None, *, root: Path | None = None) -> CompareReport:
    """Score the champion and challengers on the same held-out rows, with a paired bootstrap of each difference.

    Parameters
    ----------
    request
        A ``CompareModelsRequest`` or a dict of its fields: the challengers (default ``@challenger``), the
        champion (default ``@champion``), the evaluation table (default ``[data] validation`` in omgml.toml),
        the margin (default ``[registry] margin``, else 0), the resamples and the seed.
    root
        Folder the project dir must stay inside (the MCP face passes the workspace root).

    Returns
    -------
    CompareReport
        Each model's score with its interval, each challenger's difference with its interval and decision
        (``promote`` or ``keep``, with the reason), the version to promote if any, and signature changes.
        Saved under ``.omgml/reports/compare/``; ``omgml promote`` reads it.

    Raises
    ------
    OmgmlError
        No evaluation table, one without the target or without a column a model takes, a reference that
        names no version, or an MLflow store that cannot be read.
    """
    request = parse_request(CompareModelsRequest, request, "compare")
    with stdout_to_stderr():
        return _compare(request, root)


def _compare(request: CompareModelsRequest, root: Path | None) -> CompareReport:
    import numpy as np

    from omgml.baseline.prepare import read_table
    from omgml.registry.scoring import score_rows

    project = Project.open(request.project_dir, root)
    registry = Registry.open(project)
    config = project.config
    data_rel, data_path, data_source = _evaluation_table(project, request)
    champion_version = registry.version_of(request.champion)
    refs: dict[str, str] = {}  # version -> the first ref that named it
    for ref in request.challengers or [CHALLENGER]:
        refs.setdefault(registry.version_of(ref), ref)  # the champion itself may be one: it is kept, and said so
    margin, margin_source = _margin(request, config)
    frame, _ = read_table(data_path)
    champion = registry.load(request.champion)
    challengers = [registry.load(ref) for ref in refs.values()]
    metric = config.metric
    champion_rows = score_rows(champion, frame, config.target, metric)
    challenger_rows = [score_rows(model, frame, config.target, metric) for model in challengers]
    greater = champion_rows.greater_is_better
    sign = 1.0 if greater else -1.0

    draws = _bootstrap([champion_rows, *challenger_rows], request.resamples, request.seed)
    defined = ~np.isnan(draws).any(axis=0)
    if defined.sum() < 2:
        raise InvalidInput(
            f"The metric {metric} is undefined on {int((~defined).sum()):,} of {request.resamples:,} resamples of "
            f"{data_rel}",
            f"its {len(champion_rows.y):,} labelled rows are too few or too one-sided for {metric}",
            "compare on a larger held-out table",
        )
    draws = draws[:, defined]
    k = len(challengers)
    confidence = 1 - (1 - CONFIDENCE) / k
    quantiles = [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2]

    def scored(model: LoadedModel, rows: RowScores, values: Any) -> ModelScore:
        low, high = np.percentile(values, quantiles)
        return ModelScore(
            ref=model.ref,
            version=model.version,
            run_id=model.run_id,
            aliases=model.aliases,
            score=rows.value,
            low=float(low),
            high=float(high),
        )

    champion_score = scored(champion, champion_rows, draws[0])
    results = []
    for index, (model, rows) in enumerate(zip(challengers, challenger_rows), start=1):
        differences = sign * (draws[index] - draws[0])
        low, high = (float(q) for q in np.percentile(differences, quantiles))
        difference = sign * (rows.value - champion_rows.value)
        decision, reason = _decide(difference, low, high, margin, confidence, len(rows.y))
        if model.version == champion_version:
            reason = f"it is the champion itself (version {model.version})"
        results.append(
            ChallengerResult(
                model=scored(model, rows, draws[index]),
                difference=difference,
                low=low,
                high=high,
                decision=decision,
                reason=reason,
                signature_changes=_signature_changes(champion, model),
            )
        )
    passed = [r for r in results if r.decision == "promote"]
    best = max(passed, key=lambda r: r.difference) if passed else None
    evaluation = Evaluation(
        data=data_rel,
        data_source=data_source,
        sha256=fingerprint(project, data_path, data_rel),
        rows=len(champion_rows.y),
        rows_dropped=champion_rows.rows_dropped,
        target=config.target,
        metric=metric,
        greater_is_better=greater,
        margin=margin,
        margin_source=margin_source,
        resamples=request.resamples,
        resamples_undefined=int((~defined).sum()),
        seed=request.seed,
        confidence=confidence,
        rule=RULE,
    )
    report = CompareReport(
        headline=_compare_headline(champion_score, results, best, evaluation),
        ok=best is not None,
        registered_model=registry.name,
        champion=champion_score,
        challengers=results,
        promote=best.model.version if best else None,
        evaluation=evaluation,
        warnings=_compare_warnings(project, data_rel, results, evaluation),
        next_steps=_compare_next_steps(champion_score, best),
    )
    project.store.save(report)
    return report


def _evaluation_table(project: Project, request: CompareModelsRequest) -> tuple[str, Path, str]:
    """(path as the user names it, resolved path, where it came from)."""
    given = request.data or project.config.data.validation
    if not given:
        raise InvalidInput(
            "No evaluation table was given, and omgml.toml has no [data] validation",
            "models are compared on held-out rows; the training table will not do, because the baseline refits "
            "every model on all of it, so each would be scored on rows it has seen",
            'pass --data FILE (rows no model was fit on, with the target), or set [data] validation = "..." '
            "in omgml.toml",
        )
    path = resolve_data(project, given, "evaluation table")
    return project.rel(path), path, "request" if request.data else "omgml.toml"


def _margin(request: CompareModelsRequest, config: Any) -> tuple[float, str]:
    if request.margin is not None:
        return request.margin, "request"
    if "margin" in config.registry.model_fields_set:
        return config.registry.margin, "omgml.toml"
    return config.registry.margin, "default"


def _bootstrap(scores: list[RowScores], resamples: int, seed: int) -> Any:
    """Each model's metric on the same ``resamples`` resamples of the rows: one row of the result per model.

    Resample ``b`` (in order) is ``numpy.random.default_rng(seed).integers(0, n, n)``, shared by every model so
    the differences are paired. A resample where a model's metric is undefined (one class drawn) is NaN.
    """
    import warnings

    import numpy as np
    import sklearn

    rows = len(scores[0].y)
    rng = np.random.default_rng(seed)
    draws = np.full((len(scores), resamples), np.nan)
    # The inputs were checked once on every row; checking each resample again only costs time.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an undefined resample warns; it is counted instead
        for b in range(resamples):
            sample = rng.integers(0, rows, rows)
            for m, model in enumerate(scores):
                try:
                    draws[m, b] = model.on(sample)
                except ValueError:
                    pass  # only one class in the resample: the metric is undefined there
            if b % 50 == 49 or b == resamples - 1:
                advance("bootstrap resamples", b + 1, resamples)
    return draws


def _decide(difference: float, low: float, high: float, margin: float, confidence: float, rows: int) -> tuple[str, str]:
    interval = f"{confidence:.0%} interval [{low:+.4g}, {high:+.4g}]"
    if difference > margin and low > 0:
        return "promote", f"better by {difference:+.4g}, more than the margin {margin:g}, and the {interval} is above 0"
    if difference <= 0:
        why = f"it scores {'the same as' if difference == 0 else 'worse than'} the champion ({difference:+.4g})"
    elif difference <= margin:
        why = f"its gain {difference:+.4g} is not more than the margin {margin:g}"
    else:
        why = f"its gain {difference:+.4g} may be noise: the {interval} reaches 0 on {rows:,} rows"
    return "keep", why


def _signature_changes(champion: LoadedModel, challenger: LoadedModel) -> list[SignatureChange]:
    old = {c.name: c.type for c in champion.inputs or []}
    new = {c.name: c.type for c in challenger.inputs or []}
    changes = [
        SignatureChange(column=n, change="removed", champion_type=t, challenger_type=None)
        for n, t in old.items()
        if n not in new
    ]
    changes += [
        SignatureChange(column=n, change="added", champion_type=None, challenger_type=t)
        for n, t in new.items()
        if n not in old
    ]
    changes += [
        SignatureChange(column=n, change="type_changed", champion_type=old[n], challenger_type=t)
        for n, t in new.items()
        if n in old and old[n] != t
    ]
    return changes


def _compare_headline(champion: ModelScore, results: list[ChallengerResult], best: Any, ev: Evaluation) -> str:
    score = f"{ev.metric} {{:.4g}}"
    if best is not None:
        return (
            f"Promote version {best.model.version}: {score.format(best.model.score)} against "
            f"{score.format(champion.score)} for the champion (version {champion.version}) on {ev.rows:,} held-out "
            f"rows, gain {best.difference:+.4g} ({ev.confidence:.0%} interval [{best.low:+.4g}, {best.high:+.4g}])."
        )
    why = "; ".join(f"version {r.model.version}: {r.reason}" for r in results)
    return f"Keep the champion (version {champion.version}, {score.format(champion.score)} on {ev.rows:,} rows): {why}."


def _compare_warnings(project: Project, data_rel: str, results: list[ChallengerResult], ev: Evaluation) -> list[str]:
    warnings = []
    train = project.config.data.train
    if train and project.resolve(train, "training table") == project.resolve(data_rel, "evaluation table"):
        warnings.append(
            f"{data_rel} is the training table: the baseline refit every model on it, so these scores are on rows "
            "the models have seen and flatter the more flexible model. Compare on held-out rows."
        )
    for r in results:
        for c in r.signature_changes:
            what = {
                "added": f"takes '{c.column}' ({c.challenger_type}), which the champion does not",
                "removed": f"no longer takes '{c.column}' ({c.champion_type})",
                "type_changed": f"takes '{c.column}' as {c.challenger_type}, the champion as {c.champion_type}",
            }[c.change]
            warnings.append(f"Version {r.model.version} {what}: whatever calls the model must send the new inputs.")
    if ev.resamples_undefined:
        warnings.append(
            f"{ev.metric} was undefined on {ev.resamples_undefined:,} of {ev.resamples:,} resamples (a single class "
            "drawn); the intervals rest on the others. A larger held-out table avoids it."
        )
    return warnings


def _compare_next_steps(champion: ModelScore, best: ChallengerResult | None) -> list[str]:
    if best is not None:
        return [f"Promote it: `omgml promote {best.model.version}` (moves @champion, keeps @previous)."]
    return [
        f"Keep version {champion.version} as @champion; retrain, or compare on more held-out rows.",
        "To promote anyway, say why: `omgml promote REF --force --reason TEXT`.",
    ]


# --- promote and rollback ---------------------------------------------------------------------------------


def promote_model(request: PromoteModelRequest | dict | None = None, *, root: Path | None = None) -> PromoteResult:
    """Move ``@champion`` to the version ``ref`` names, on a saved compare decision (or ``force`` with a reason).

    The newest saved comparison that evaluated the version must say promote, against the version that is
    ``@champion`` now (a champion moved since makes it stale). The old champion becomes ``@previous``; the new
    one gets the tags ``omgml.promoted_by``, ``omgml.promoted_at``, ``omgml.promotion_reason``,
    ``omgml.promotion_evidence`` (the report's path, or "forced") and ``omgml.promoted_over``. Everything is
    done under the store's lock and all or nothing: when a write fails, the aliases are as they were.
    Saved under ``.omgml/reports/promote/``.
    """
    request = parse_request(PromoteModelRequest, request, "promote")
    if request.force and not request.reason:
        raise InvalidInput(
            "--force was given without --reason",
            "a promotion without a compare decision is recorded with the reason someone chose it",
            'add --reason "TEXT" (reason), e.g. --reason "hotfix: the champion mislabels new stores"',
        )
    with stdout_to_stderr():
        return _promote(request, root)


def _promote(request: PromoteModelRequest, root: Path | None) -> PromoteResult:
    project = Project.open(request.project_dir, root)
    registry = Registry.open(project)
    by, at = _who(), _now()
    result: dict[str, PromoteResult] = {}

    def plan(state: Any) -> Any:
        from omgml.tracking import RegistryChange

        now = Registry(project, registry.name, registry.uri, state)
        version = now.version_of(request.ref)
        current = state.aliases.get(CHAMPION)
        if version == current:  # already where it was asked to be: nothing to move, record or save
            result["saved"] = PromoteResult(
                headline=f"Version {version} of {registry.name} is @champion already; nothing was changed.",
                ok=True,
                registered_model=registry.name,
                version=version,
                previous=state.aliases.get(PREVIOUS),
                forced=request.force,
                reason="",
                evidence="none: nothing was changed",
                by=by,
                at=at,
            )
            return RegistryChange()
        if request.force:
            evidence, reason = "forced", request.reason or ""
        else:
            evidence, reason = _evidence(project, registry.name, version, current)
            reason = request.reason or reason
        tags = {
            PROMOTED_BY: by,
            PROMOTED_AT: at,
            PROMOTION_REASON: reason[:5000],
            PROMOTION_EVIDENCE: evidence,
            PROMOTED_OVER: current or NONE_TAG,
        }
        aliases: dict[str, str | None] = {CHAMPION: version}
        if current is not None:
            aliases[PREVIOUS] = current
        promoted = PromoteResult(
            headline=f"Version {version} of {registry.name} is @champion"
            + (f"; version {current} is @previous." if current else "."),
            ok=True,
            registered_model=registry.name,
            version=version,
            previous=current,
            forced=request.force,
            reason=reason,
            evidence=evidence,
            by=by,
            at=at,
        )
        result["saved"] = promoted
        result["path"] = project.store.save(promoted)  # before the move: a report that cannot be saved moves nothing
        return RegistryChange(aliases=aliases, tags={version: tags})

    _update(project, registry, plan, result)
    return result["saved"]


def _evidence(project: Project, name: str, version: str, champion: str | None) -> tuple[str, str]:
    """(report path, reason) of the newest saved comparison of ``version``, when it says promote against the
    champion of now; ``InvalidInput`` saying what is missing or stale otherwise."""
    store = project.store
    for path in reversed(store.history("compare")):
        payload = store.read_json(path)
        try:
            report = CompareReport.model_validate(payload)
        except (ValueError, TypeError):
            continue  # damaged or from another omgml: not evidence
        if report.registered_model != name:
            continue
        mine = next((r for r in report.challengers if r.model.version == version), None)
        if mine is None:
            continue
        rel = project.rel(path)
        if mine.decision != "promote":
            raise InvalidInput(
                f"The newest comparison of version {version} ({rel}) says keep: {mine.reason}",
                "promote moves @champion only on a comparison that says promote",
                f"retrain and compare again, or pass --force --reason TEXT to promote version {version} anyway",
            )
        if report.champion.version != champion:
            now = f"version {champion}" if champion else "no version"
            raise InvalidInput(
                f"The comparison {rel} measured version {version} against version {report.champion.version}, and "
                f"@champion is {now} now",
                "the champion moved since, so that evidence is stale",
                f"compare again: `omgml compare --challenger {version}`",
            )
        return rel, mine.reason
    raise InvalidInput(
        f"No saved comparison has evaluated version {version} of {name}",
        "promote moves @champion only on a compare decision that says promote",
        f"run `omgml compare --challenger {version}` first, or pass --force --reason TEXT",
    )


def rollback_model(request: RollbackModelRequest | dict | None = None, *, root: Path | None = None) -> RollbackResult:
    """Move ``@champion`` back to ``@previous``.

    ``@previous`` then moves one promotion further back: to the version the restored champion had replaced
    (its ``omgml.promoted_over`` tag), or is removed when there is none, so rolling back again goes on down
    the promotion history and never returns to the version just rolled back. The version rolled back from gets
    ``omgml.rolled_back_by``, ``omgml.rolled_back_at`` and ``omgml.rolled_back_to``. No ``@previous`` is an
    ``InvalidInput``. All or nothing, under the store's lock. Saved under ``.omgml/reports/rollback/``.
    """
    request = parse_request(RollbackModelRequest, request, "rollback")
    with stdout_to_stderr():
        return _rollback(request, root)


def _rollback(request: RollbackModelRequest, root: Path | None) -> RollbackResult:
    project = Project.open(request.project_dir, root)
    registry = Registry.open(project)
    by, at = _who(), _now()
    result: dict[str, Any] = {}

    def plan(state: Any) -> Any:
        from omgml.tracking import RegistryChange

        current, previous = state.aliases.get(CHAMPION), state.aliases.get(PREVIOUS)
        if previous is None:
            raise InvalidInput(
                f"{registry.name} has no @previous version to roll back to",
                "@previous is set when `omgml promote` moves @champion, and rollback moves it one promotion back "
                "each time",
                "promote the version you want: `omgml promote REF --force --reason TEXT`",
            )
        if previous == current:
            raise InvalidInput(
                f"@previous and @champion of {registry.name} are both version {current}",
                "rolling back would change nothing",
                "promote the version you want: `omgml promote REF --force --reason TEXT`",
            )
        tags = {v.version: v.tags for v in state.versions}
        versions = set(tags)
        before = tags.get(previous, {}).get(PROMOTED_OVER)
        after = before if before in versions and before not in (previous, current) else None
        change = RegistryChange(aliases={CHAMPION: previous, PREVIOUS: after})
        if current is not None:
            change.tags[current] = {ROLLED_BACK_BY: by, ROLLED_BACK_AT: at, ROLLED_BACK_TO: previous}
        rolled = RollbackResult(
            headline=f"Rolled back {registry.name}: version {previous} is @champion again (was version {current})"
            + (f"; @previous is version {after}." if after else "; no @previous is left."),
            ok=True,
            registered_model=registry.name,
            version=previous,
            rolled_back=current or NONE_TAG,
            previous=after,
            by=by,
            at=at,
        )
        result["saved"] = rolled
        result["path"] = project.store.save(rolled)
        return change

    _update(project, registry, plan, result)
    return result["saved"]


def _update(project: Project, registry: Registry, plan: Any, result: dict[str, Any]) -> None:
    """``plan`` applied under the lock; the report ``plan`` saved is removed again when the change fails."""
    from omgml.tracking import tracking_lock, update_registry

    try:
        update_registry(registry.uri, registry.name, tracking_lock(project.root), plan)
    except OmgmlError:
        if "path" in result:
            for saved in (result["path"], result["path"].with_suffix(".html")):
                saved.unlink(missing_ok=True)
        raise


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 -- no user name in some containers
        return "unknown"


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")
