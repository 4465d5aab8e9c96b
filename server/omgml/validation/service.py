"""``validate_data``: is a table fit to train on, and exactly what is wrong with it?"""

from __future__ import annotations

import math
from pathlib import Path

from omgml.config import ProjectConfig
from omgml.data.files import fingerprint, resolve_data
from omgml.errors import InvalidInput, parse_request, unknown_column
from omgml.validation.models import (
    SEVERITIES,
    CheckRun,
    ColumnBounds,
    ColumnSummary,
    Contract,
    Finding,
    SeverityCounts,
    ValidateDataRequest,
    ValidationReport,
)
from omgml.workspace import Project


def validate_data(request: ValidateDataRequest | dict, *, root: Path | None = None) -> ValidationReport:
    """Check a table for the defects that make it unfit to train on, with or against a data contract.

    Parameters
    ----------
    request
        The data (a path inside the project, or a pandas DataFrame), and optionally a contract to
        check against, a name to save an inferred contract under, the target column, key columns
        and another table (``against``) whose rows must not appear in the data. A dict is
        validated into a ``ValidateDataRequest``.
    root
        Folder the project dir must stay inside (the MCP face passes the workspace root); None
        takes the project dir as given.

    Returns
    -------
    ValidationReport
        ``passed`` (no error-severity finding), counts by severity, findings ranked most severe
        first, a per-column summary and the status of every registered check. The report is saved
        under ``.omgml/reports/validation/``; with ``save_contract`` the inferred contract is saved
        in ``.omgml/contracts/``.

    Raises
    ------
    OmgmlError
        When the input cannot be used: a missing or unreadable file, a path outside the project,
        an unknown target or key column, a contract that does not parse.
    """
    from omgml.data.tables import open_table
    from omgml.validation.checks import CHECKS, CheckContext, LocalRows
    from omgml.validation.contract import infer_contract, load_contract, rules_from, save_contract
    from omgml.validation.profile import SAMPLE_ROWS, PassPlan, profile_table

    request = parse_request(ValidateDataRequest, request, "validate")
    project = Project.open(request.project_dir, root)
    config = project.config
    notes: list[str] = []
    from omgml.spark.source import choose_engine

    tables = {"data": request.data, "--against table": request.against}
    spark = table = None
    if choose_engine(request.engine, config, tables) == "spark":
        from omgml.spark.source import engine_session, local_sha256, spark_source

        spark = engine_session(config, tables.values())
        data = spark_source(spark, project, request.data, "data")
        source, fmt, names = data.shown, _spark_format(data.shown), list(data.frame.columns)
        sha256 = local_sha256(project, data.local_path, data.shown)
    elif isinstance(request.data, str):
        path = resolve_data(project, request.data, "data file")
        source = project.rel(path)
        table = _open(path, source, request.delimiter, request.encoding)
        sha256 = fingerprint(project, path, source)  # before the rows are read: a change while reading reads stale
    else:
        source = "<DataFrame>"
        sha256 = None
        table = open_table(request.data, repeated_names=True)
    if table is not None:
        fmt, names = table.format, table.column_names

    if request.save_contract and not request.replace_contract:
        _refuse_overwrite(project, request.save_contract)
    contract: Contract | None = None
    contract_rel = None
    if request.contract:
        contract, contract_path = load_contract(project, request.contract)
        contract_rel = project.rel(contract_path)

    target = _target(request, contract, config, names, source, notes)
    keys = _keys(request, contract, names, source, notes)
    key_sets: list[tuple[str, ...]] = [tuple(keys)] if keys else []
    if contract is not None:
        for column in contract.columns:
            if column.unique and column.name in names and (column.name,) not in key_sets:
                key_sets.append((column.name,))

    other = None
    common: list[str] | None = None
    if request.against:
        if spark is not None:
            other = spark_source(spark, project, request.against, "--against table")
            other_shown, other_names = other.shown, list(other.frame.columns)
        else:
            other_path = resolve_data(project, request.against, "--against table")
            other_shown = project.rel(other_path)
            other = _open(other_path, other_shown, request.delimiter, request.encoding)
            other_names = other.column_names
        common = [n for n in dict.fromkeys(names) if n in set(other_names)]
        if not common:
            notes.append(f"{other_shown} shares no column with the data: overlap not tested.")
            common = None

    plan = PassPlan(
        rules=rules_from(contract) if contract else {},
        keys=key_sets,
        target=target,
        common=common,
        sample_rows=SAMPLE_ROWS if target else 0,
        tails=bool(request.save_contract),
    )
    if spark is not None:
        from omgml.validation.spark_pass import spark_profile

        profile, matcher = spark_profile(data.frame, plan, source, fmt)
    else:
        profile = profile_table(table, plan)
        matcher = LocalRows(profile, table)
    if profile.untracked:
        notes.append(
            f"Uniqueness of {', '.join(profile.untracked)} was not tracked exactly (memory budget); they are not judged id-like."
        )

    task, task_reason = _task(profile, target, config, notes)
    leakage_features = []
    if target is not None:
        skip = {target, *keys, *profile.id_columns}
        leakage_features = [c.name for c in profile.first_columns() if c.name not in skip and c.present]
    try:
        against = None
        if other is not None and common is not None:
            against = _against(profile, other, common, other_shown, matcher if spark is not None else None)
        ctx = CheckContext(
            profile=profile,
            matcher=matcher,
            contract=contract,
            target=target,
            task=task,
            task_reason=task_reason,
            keys=key_sets,
            against=against,
            leakage_features=leakage_features,
            source=source,
        )
        findings, runs = _run_checks(ctx)
    finally:
        matcher.release()

    order = {spec.id: i for i, spec in enumerate(CHECKS)}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(
        key=lambda f: (
            rank[f.severity],
            -f.fraction if f.check != "target_leakage" else -1.0,
            order[f.check],
            f.column or "",
        )
    )
    counts = SeverityCounts(**{s: sum(f.severity == s for f in findings) for s in SEVERITIES})
    passed = counts.error == 0

    contract_saved = None
    if request.save_contract:
        inferred = infer_contract(profile, name=request.save_contract, source=source, target=target, keys=keys)
        contract_saved = project.rel(save_contract(project, inferred, replace=request.replace_contract))

    verdict = "passed" if passed else "FAILED"
    headline = (
        f"{verdict}: {source} ({profile.rows:,} rows x {len(profile.names)} columns"
        f"{', contract ' + contract.name if contract else ''}): "
        f"{counts.error} error(s), {counts.warning} warning(s), {counts.info} info"
    )
    report = ValidationReport(
        headline=headline,
        ok=passed,
        source=source,
        sha256=sha256,
        format=fmt,
        rows=profile.rows,
        columns=len(profile.names),
        passed=passed,
        counts=counts,
        findings=findings,
        column_summary=_summaries(ctx, findings),
        checks=runs,
        contract=contract_rel,
        contract_saved=contract_saved,
        target=target,
        keys=keys,
        against=against.source if against else (request.against or None),
        notes=notes,
    )
    project.store.save(report)
    return report


def _run_checks(ctx) -> tuple[list[Finding], list[CheckRun]]:
    """Every registered check's findings, and whether it ran (what it looked at) or was skipped (why)."""
    from omgml.validation.checks import CHECKS

    findings: list[Finding] = []
    runs: list[CheckRun] = []
    for spec in CHECKS:
        reason = _skip_reason(spec.needs, ctx)
        if reason:
            runs.append(CheckRun(check=spec.id, severity=spec.severity, status="skipped", findings=0, reason=reason))
            continue
        found = spec.fn(spec, ctx)
        findings.extend(found)
        looked = spec.looks_at
        if spec.id == "target_leakage" and ctx.profile.sample is not None:
            looked += f" ({ctx.profile.sample.num_rows:,} sampled rows, {len(ctx.leakage_features)} features)"
        runs.append(CheckRun(check=spec.id, severity=spec.severity, status="ran", findings=len(found), reason=looked))
    return findings, runs


def _refuse_overwrite(project: Project, name: str) -> None:
    """Fail before any work when the name is taken (saving checks again, atomically, for a concurrent writer)."""
    from omgml.validation.contract import contract_exists

    if (project.store.contracts / f"{name}.json").exists():
        raise contract_exists(project, name)


def _open(path: Path, shown: str, delimiter: str | None, encoding: str | None):
    """Open a table; messages name it as the user did (relative to the project), not by absolute path."""
    from omgml.data.tables import DataError, open_table

    try:
        table = open_table(path, delimiter=delimiter, encoding=encoding, repeated_names=True)
    except DataError as exc:
        raise DataError(exc.what.replace(str(path), shown), exc.why, exc.fix) from exc
    table.source = shown
    return table


def _unknown_column(what: str, name: str, names: list[str], source: str, flag: str) -> InvalidInput:
    return unknown_column(
        f"The {what} column '{name}' is not in {source}",
        name,
        names,
        f"pass {flag} with one of those names",
        columns="the columns are",
        limit=30,
    )


def _target(
    request: ValidateDataRequest,
    contract: Contract | None,
    config: ProjectConfig | None,
    names: list[str],
    source: str,
    notes: list[str],
) -> str | None:
    if request.target:
        if request.target not in names:
            raise _unknown_column("target", request.target, names, source, "--target")
        return request.target
    for origin, name in (
        ("the contract", contract.target if contract else None),
        ("omgml.toml", config.target if config else None),
    ):
        if not name:
            continue
        if name in names:
            notes.append(f"Target '{name}' taken from {origin}.")
            return name
        notes.append(f"The target '{name}' from {origin} is not in the data: target checks skipped (unlabelled data?).")
        return None
    return None


def _keys(
    request: ValidateDataRequest, contract: Contract | None, names: list[str], source: str, notes: list[str]
) -> list[str]:
    if request.keys:
        for key in request.keys:
            if key not in names:
                raise _unknown_column("key", key, names, source, "--key")
        return list(dict.fromkeys(request.keys))
    if contract is not None and contract.keys:
        missing = [k for k in contract.keys if k not in names]
        if missing:
            notes.append(f"The contract's key column(s) {', '.join(missing)} are missing: keys not checked.")
            return []
        return list(contract.keys)
    return []


def _task(profile, target: str | None, config: ProjectConfig | None, notes: list[str]) -> tuple[str | None, str]:
    """Classification or regression, and why: the project's task when the target is its target, else the
    shared rule (``omgml.data.tasks``) over the column's counts; an ambiguous rule adds a note."""
    from omgml.data.tasks import decide_task

    if target is None:
        return None, ""
    if config is not None and config.target == target:
        return ("regression" if config.task == "regression" else "classification"), f"omgml.toml says {config.task}"
    column = profile.column(target)
    decision = decide_task(_target_facts(column))
    if decision.task is None:  # baseline refuses such a target; its checks still run, on what the values are
        task = (
            "regression"
            if column.physical in ("integer", "float") and decision.rule != "constant"
            else "classification"
        )
        return task, decision.reason
    task = "regression" if decision.task == "regression" else "classification"
    if decision.ambiguity:
        other = "regression" if task == "classification" else "multiclass"
        notes.append(
            f"Task for '{target}' assumed {task} ({decision.task}): {decision.ambiguity}. If that is wrong, set "
            f'target = "{target}" and task = "{other}" in omgml.toml (train_baseline also takes --task {other}).'
        )
    return task, decision.reason


def _target_facts(column):
    """The shared task rule's facts about a target, from its one-pass profile (``column.counts`` while at most
    1,000 distinct values; beyond that the count alone decides)."""
    from omgml.data.tasks import TargetFacts, examples_of

    numeric = column.physical in ("integer", "float")
    # NaN (a null here) is a key of a float column's counts
    values = [v for v in column.counts or () if not (isinstance(v, float) and math.isnan(v))]
    distinct = len(values) if column.counts is not None else column.distinct
    whole = numeric and column.fractional == 0 and column.inf == 0 and column.min is not None
    contiguous = whole and column.distinct_exact and int(column.max) - int(column.min) + 1 == distinct
    return TargetFacts(
        name=column.name,
        rows=column.present,
        distinct=distinct,
        numeric=numeric,
        whole=whole,
        contiguous=contiguous,
        minimum=float(column.min) if numeric and column.min is not None else None,
        examples=examples_of(values),
    )


def _against(profile, other, common: list[str], source: str, spark_rows):
    import numpy as np

    from omgml.validation.checks import Against

    used = [c for c in common if c not in profile.id_columns]
    left_out = [n for n in dict.fromkeys(profile.names) if n not in common]
    if spark_rows is not None:
        from omgml.validation.spark_pass import spark_against

        hashes, rows = spark_against(other.frame, used, source, spark_rows)
        return Against(source=source, hashes=hashes, rows=rows, common=common, left_out=left_out)
    from omgml.validation.profile import row_hashes_of

    hashes = row_hashes_of(other, used)
    return Against(source=source, hashes=np.unique(hashes), rows=len(hashes), common=common, left_out=left_out)


def _spark_format(shown: str) -> str:
    """What the report names the format: the files' (parquet, orc), or spark for a DataFrame or catalog table."""
    from omgml.spark.source import CATALOG_PREFIX

    if shown.startswith((CATALOG_PREFIX, "<")):
        return "spark"
    return "orc" if shown.lower().rstrip("/").endswith(".orc") else "parquet"


def _skip_reason(needs: tuple[str, ...], ctx) -> str:
    reasons = {
        "contract": (
            ctx.contract is None,
            "no contract given (pass --contract NAME, or save one with --save-contract NAME)",
        ),
        "rows": (ctx.rows == 0, "the table has no data rows"),
        "target": (ctx.target is None, "no target column (pass --target COLUMN, or set target in omgml.toml)"),
        "classes": (
            ctx.task != "classification",
            f"the target is taken as regression ({ctx.task_reason}): checks of class labels do not apply",
        ),
        "keys": (not ctx.keys, "no key columns (pass --key COLUMN, or mark columns unique in the contract)"),
        "against": (ctx.against is None, "no other table given (pass --against TEST_DATA)"),
    }
    for need in needs:
        missing, reason = reasons[need]
        if missing:
            return reason
    return ""


def _summaries(ctx, findings: list[Finding]) -> list[ColumnSummary]:
    from omgml.validation.column import jsonable

    per_column: dict[str, int] = {}
    for f in findings:
        if f.column is not None:
            per_column[f.column] = per_column.get(f.column, 0) + 1
    rules = {rule.name: rule for rule in ctx.contract.columns} if ctx.contract else {}
    return [
        ColumnSummary(
            name=c.name,
            kind=c.kind,  # type: ignore[arg-type]
            kind_reason=c.kind_reason,
            dtype=c.dtype,
            present=c.present,
            missing=c.nulls,
            missing_fraction=round(c.nulls / c.rows, 6) if c.rows else 0.0,
            distinct=c.distinct,
            distinct_exact=c.distinct_exact,
            min=jsonable(c.min),
            max=jsonable(c.max),
            findings=per_column.get(c.name, 0),
            bounds=_bounds(rules.get(c.name), c),
        )
        for c in ctx.columns()
    ]


def _bounds(rule, column) -> ColumnBounds | None:
    """The contract's numeric range beside the counts the pass made against it.

    Only where the pass counted (a column read as numbers, a numeric bound): a text column under a numeric
    rule is dtype_mismatch's to report, and zero below/above there would read as "all within".
    """
    if rule is None or column.physical not in ("integer", "float"):
        return None
    numeric = [isinstance(b, (int, float)) and not isinstance(b, bool) for b in (rule.min, rule.max)]
    if not any(numeric):
        return None
    return ColumnBounds(
        min=rule.min if numeric[0] else None,
        max=rule.max if numeric[1] else None,
        below=column.below,
        above=column.above,
    )
