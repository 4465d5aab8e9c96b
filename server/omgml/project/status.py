"""``project_status``: where a project stands in the ML lifecycle, decided from evidence on disk."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

from omgml.config import CONFIG_FILE, ProjectConfig
from omgml.data.files import FingerprintCache, is_dataset, list_dataset, resolve_data, table_format, table_shape
from omgml.errors import OmgmlError, PathError, parse_request
from omgml.git import git_state
from omgml.project.models import (
    DataFile,
    GitInfo,
    ReadinessItem,
    SavedReport,
    Stage,
    Staleness,
    StatusReport,
    StatusRequest,
    Trend,
)
from omgml.tracking import TrackingSummary, project_tracking_uri, read_tracking_summary, tracking_lock
from omgml.workspace import Project

MAX_DATA_FILES = 1000
# Status is saved on every call, often in a loop: only the newest are kept (oldest JSON and HTML deleted first).
STATUS_KEPT = 10
TREND_BATCHES = 10
# Consecutive batches with dataset drift after which the model no longer describes the data (the issue's
# `drift_persists >= 3`); one drifted batch is worth a look, three in a row a retrain.
DRIFT_PERSISTS = 3


def project_status(request: StatusRequest | dict | None = None, *, root: Path | None = None) -> StatusReport:
    """Report the project's lifecycle stages and production readiness from what exists on disk.

    Parameters
    ----------
    request
        The project folder (default: the current one).
    root
        Folder the project dir must stay inside; None takes it as given.

    Returns
    -------
    StatusReport
        Config, git state, data inventory, saved reports, MLflow summary, the eight lifecycle
        stages with evidence and next step, and the readiness checklist. In an omgml project it
        is saved under ``.omgml/reports/status/`` (JSON and HTML; the newest ``STATUS_KEPT`` are
        kept) and file fingerprints are cached in ``.omgml/``; MLflow runs left RUNNING by a
        process that died are marked FAILED (only FINISHED runs are counted). Nothing else is written.
    """
    request = parse_request(StatusRequest, request, "status")
    project = Project.open(request.project_dir, root)
    config = project.config
    is_repo, commit, branch, dirty = git_state(project.root)
    cache = FingerprintCache(project.store)
    data = _inventory(project, cache)
    reports = _saved_reports(project)
    tracking = read_tracking_summary(
        project_tracking_uri(project.root, config),
        config.metric if config else None,
        lock=tracking_lock(project.root) if config else None,  # a read leaves no mlruns/ in a foreign folder
    )
    trend = _trend(project)
    evidence = _Evidence(project, data, reports, tracking, trend, cache)
    stages = evidence.stages()
    readiness = evidence.readiness()
    if config is not None:
        cache.save()
    next_step = _next_step(stages)
    if config is None:
        headline = f"{project.root} is not an omgml project (no {CONFIG_FILE}). Start with `omgml init`."
    else:
        done = sum(s.state == "done" for s in stages)
        stale = sum(s.state == "stale" for s in stages)
        ready = sum(item.ok for item in readiness)
        headline = (
            f"{config.name}: {done}/{len(stages)} lifecycle stages done"
            + (f", {stale} stale" if stale else "")
            + f", {ready}/{len(readiness)} readiness practices in place."
        )
    report = StatusReport(
        project_dir=str(project.root),
        is_project=config is not None,
        ok=config is not None,
        headline=headline,
        config=config,
        git=GitInfo(is_repo=is_repo, commit=commit, branch=branch, dirty=dirty),
        data=data,
        reports=reports,
        tracking=tracking,
        stages=stages,
        readiness=readiness,
        trend=trend,
        next_step=next_step or "",
    )
    if config is not None:  # a folder that is not an omgml project is only read, never written into
        project.store.save(report)
        project.store.keep_latest("status", STATUS_KEPT)
    return report


def _data_areas(project: Project) -> list[tuple[str, Path]]:
    config = project.config
    if config is None:
        return [("other", project.root / "data")]
    areas = [(area, getattr(config.data, area)) for area in ("raw", "processed", "reference")]
    if config.data.train:
        areas.insert(0, ("train", config.data.train))
    return [(area, project.resolve(rel, f"[data] {area} path")) for area, rel in areas]


def _next_step(stages: list[Stage]) -> str | None:
    """Evidence that no longer holds comes first: every stale stage's rerun, in lifecycle order; else the first
    stage not done."""
    stale = [s for s in stages if s.state == "stale"]
    if len(stale) == 1:
        return stale[0].next_step
    if stale:
        return "Rerun what is stale, in order: " + " ".join(f"({i}) {s.next_step}" for i, s in enumerate(stale, 1))
    pending = [s for s in stages if s.state != "done"]
    return pending[0].next_step if pending else "Every stage has evidence: keep monitoring and retrain on drift."


def _inventory(project: Project, cache: FingerprintCache) -> list[DataFile]:
    seen: set[Path] = set()
    files: list[DataFile] = []
    for area, location in _data_areas(project):
        candidates = [location] if location.is_file() else sorted(location.rglob("*")) if location.is_dir() else []
        datasets = _dataset_folders(location, candidates)
        if area == "train" and is_dataset(location):  # [data] train names a folder or a glob: one table
            datasets = [location]
        candidates = sorted({c for c in candidates if not any(d in c.parents for d in datasets)} | set(datasets))
        for path in candidates:
            rel = project.rel(path)
            if path in seen or any(p.startswith(".") for p in rel.split("/")):
                continue
            leaves = path.is_symlink() and _leaves(project, path)  # checked before is_file, which would follow it
            if not leaves and not path.is_file() and path not in datasets:
                continue
            seen.add(path)
            if len(files) >= MAX_DATA_FILES:
                break
            if path in datasets:
                files.append(_dataset(project, cache, path, rel, area))
                continue
            if leaves:
                files.append(_outside(path, rel, area))
                continue
            shape = table_shape(path)
            files.append(
                DataFile(
                    path=rel,
                    area=area,
                    format=table_format(path),
                    size_bytes=path.stat().st_size,
                    rows=shape.rows,
                    rows_exact=shape.rows_exact,
                    columns=shape.columns,
                    sha256=cache.sha256(path, rel),
                    note=shape.note,
                )
            )
    return files


_PART_FILE = re.compile(r"^part[-.]?\d.*\.(parquet|pq)$")  # how Spark, pyarrow and dask name a dataset's files


def _dataset_folders(location: Path, entries: list[Path]) -> list[Path]:
    """The folders laid out as one partitioned table: above a ``key=value`` folder, or holding ``part-*`` files
    or a writer's ``_SUCCESS`` marker; only the topmost of nested ones (the folder a dataset is read from)."""
    marked = {
        entry.parent
        for entry in entries
        if not entry.is_symlink()
        and (
            (entry.is_dir() and "=" in entry.name[1:])
            or (entry.is_file() and (_PART_FILE.match(entry.name) or entry.name == "_SUCCESS"))
        )
    }
    return sorted(d for d in marked if not any(p in marked for p in d.parents) and (d == location or d.is_dir()))


def _dataset(project: Project, cache: FingerprintCache, path: Path, rel: str, area: str) -> DataFile:
    """A parquet dataset as one table: rows and columns from its footers, its digest over its files."""
    try:
        layout = list_dataset(path, lambda inner: project.resolve(inner, "data file"))
        size, sha256 = sum(f.stat().st_size for f in layout.files), cache.sha256(path, rel)
    except (OmgmlError, OSError) as exc:
        what = exc.what.replace(str(path), rel) if isinstance(exc, OmgmlError) else str(exc)
        return DataFile(
            path=rel,
            area=area,
            format="parquet",
            size_bytes=0,
            rows=None,
            rows_exact=False,
            columns=None,
            sha256=None,
            note=f"not read: {what}"[:200],
        )
    shape = table_shape(path)
    count = f"a dataset of {len(layout.files):,} parquet file(s)"
    return DataFile(
        path=rel,
        area=area,
        format="parquet",
        size_bytes=size,
        rows=shape.rows,
        rows_exact=shape.rows_exact,
        columns=shape.columns,
        sha256=sha256,
        note=f"{count}; {shape.note}" if shape.note else count,
    )


def _leaves(project: Project, path: Path) -> bool:
    try:
        project.resolve(path, "data file")
    except OmgmlError:
        return True
    return False


def _outside(path: Path, rel: str, area: str) -> DataFile:
    """A symlink in a data folder that points out of the project: named, never opened."""
    return DataFile(
        path=rel,
        area=area,
        format=table_format(path),
        size_bytes=path.lstat().st_size,
        rows=None,
        rows_exact=False,
        columns=None,
        sha256=None,
        note="a symlink out of the project: not read (status reads only inside the project)",
    )


def _trend(project: Project) -> Trend:
    """The newest monitored batches from the history ``omgml monitor`` appends to; a torn line is a note."""
    from omgml.monitor.history import HISTORY_FILE, History, read_history

    try:
        history = read_history(project.root)
    except OmgmlError as exc:
        history = History(entries=[], notes=[f"{HISTORY_FILE} not read: {exc.what}"])
    streak = 0
    for entry in reversed(history.entries):
        if entry.dataset_drift is not True:  # not checked ends the streak: persistence only from evidence
            break
        streak += 1
    last = history.entries[-TREND_BATCHES:]
    labelled = [e.performance for e in last if e.performance is not None]
    return Trend(
        batches=len(history.entries),
        last=last,
        drift_streak=streak,
        performance_dropped=bool(labelled and labelled[-1].significant),
        notes=history.notes,
    )


def _saved_reports(project: Project) -> list[SavedReport]:
    """The latest saved report of each kind but status's own (a status is no evidence of anything). A report is
    saved as itself (``headline`` at the top); one saved before that sits in an envelope with its ``summary``
    beside the result, and is read as well."""
    folder = project.store.reports()
    reports = []
    for kind_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
        if kind_dir.name == "status":
            continue
        history = project.store.history(kind_dir.name)
        latest = project.store.read_json(history[-1]) if history else None
        if latest is None:
            continue
        reports.append(
            SavedReport(
                kind=kind_dir.name,
                path=project.rel(history[-1]),
                created_at=str(latest.get("created_at", "")),
                summary=str(latest.get("headline", latest.get("summary", ""))),
                ok=bool(latest.get("ok", False)),
                runs=len(history),
            )
        )
    return reports


def _when(timestamp: str) -> str:
    """A report time as people read it: '2026-11-26 06:31 UTC'."""
    return f"{timestamp[:16].replace('T', ' ')} UTC" if timestamp else "unknown time"


def _instant(timestamp: str) -> datetime | None:
    """A saved time as an aware datetime (one saved without a zone is UTC); None when it is not a time."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Evidence:
    """Turns the gathered facts into stages and readiness items; each rule reads one fact."""

    def __init__(
        self, project: Project, data, reports, tracking: TrackingSummary, trend: Trend, cache: FingerprintCache
    ) -> None:
        self.project = project
        self.config: ProjectConfig | None = project.config
        self.data: list[DataFile] = data
        self.reports = {r.kind: r for r in reports}
        self.tracking = tracking
        self.trend = trend
        self.cache = cache
        self.references = project.store.listing(project.store.references)
        self.models = [m for m in tracking.registered_models if m.versions > 0]

    def _saved(self, kind: str) -> dict:
        """The latest saved report of ``kind`` in full (a report saved in the older envelope: its result)."""
        report = self.reports.get(kind)
        saved = (self.project.store.read_json(self.project.root / report.path) or {}) if report else {}
        inner = saved.get("result")
        return inner if "headline" not in saved and isinstance(inner, dict) else saved

    def _changed(
        self, named: object, evidence: str, since: str, recorded: object = None
    ) -> tuple[Staleness | None, str | None]:
        """Whether the file ``named`` changed after ``evidence`` (made at ``since``) described it, and a note when
        that cannot be told. By fingerprint when the evidence recorded one, else by the file's modification time."""
        if not isinstance(named, str) or not named:
            return None, None
        try:
            path = resolve_data(self.project, named, "file a report names")
            parts = list_dataset(path).files if is_dataset(path) else [path]
        except PathError:
            return None, f"cannot tell whether {named} changed: it is not a path inside the project"
        except OmgmlError:
            return None, f"cannot tell whether {named} changed: it is not a table in the project now"
        if not all(part.is_file() for part in parts):
            return None, f"cannot tell whether {named} changed: it is not a file in the project now"
        rel = self.project.rel(path)
        modified = datetime.fromtimestamp(max(part.stat().st_mtime for part in parts), UTC)
        recorded = recorded if isinstance(recorded, str) and recorded else None
        if recorded:
            current = self._sha256(path, rel)
            if current == recorded:
                return None, None
        else:
            made = _instant(since)
            if made is None:
                return None, f"cannot tell whether {rel} changed: {evidence} has no time"
            # A time saved to the second is up to a second early: a file written just before it is no change.
            if modified <= made + timedelta(seconds=0 if made.microsecond else 1):
                return None, None
            current = self._sha256(path, rel)
        return (
            Staleness(
                reason="data_changed",
                evidence=evidence,
                evidence_at=since,
                file=rel,
                changed_at=modified.isoformat(timespec="seconds"),
                recorded_sha256=recorded,
                current_sha256=current,
            ),
            None,
        )

    def _sha256(self, path: Path, rel: str) -> str:
        known = next((f.sha256 for f in self.data if f.path == rel and f.sha256), None)
        return known or self.cache.sha256(path, rel)

    def _tables(self, *areas: str) -> list[DataFile]:
        return [f for f in self.data if f.area in areas and f.rows]

    def _data_command(self) -> str:
        train = self.config.data.train if self.config and self.config.data.train else "data/raw/<file>"
        return train

    def stages(self) -> list[Stage]:
        return [
            self._problem_definition(),
            self._data_collection(),
            self._data_processing(),
            self._feature_engineering(),
            self._model_development(),
            self._deployment(),
            self._monitoring(),
            self._iteration(),
        ]

    def _problem_definition(self) -> Stage:
        if self.config is None:
            return Stage(
                name="problem definition",
                state="not_started",
                evidence=[f"no {CONFIG_FILE}"],
                next_step="Define the problem: `omgml init --task binary|multiclass|regression --target COLUMN`.",
            )
        c = self.config
        evidence = [f"{CONFIG_FILE}: task={c.task}, target={c.target}, metric={c.metric}"]
        if not c.description:
            evidence.append("no description yet (optional)")
        return Stage(name="problem definition", state="done", evidence=evidence, next_step=None)

    def _data_collection(self) -> Stage:
        tables = self._tables("train", "raw", "other")
        if tables:
            rows = sum(t.rows or 0 for t in tables)
            return Stage(
                name="data collection",
                state="done",
                evidence=[f"{len(tables)} table(s), {rows:,} rows in raw data ({tables[0].path}, ...)"],
                next_step=None,
            )
        files = [f for f in self.data if f.area in ("train", "raw", "other")]
        return Stage(
            name="data collection",
            state="in_progress" if files else "not_started",
            evidence=[f"{len(files)} file(s) under the raw data folder, none a non-empty table"],
            next_step="Put the training table (csv, tsv, parquet or jsonl) in data/raw/ and set [data] train in omgml.toml.",
        )

    def _data_processing(self) -> Stage:
        report = self.reports.get("validation")
        if report:
            saved = self._saved("validation")
            changed, note = self._changed(saved.get("source"), report.path, report.created_at, saved.get("sha256"))
            evidence = [f"validation {_when(report.created_at)}: {report.summary}", *([note] if note else [])]
            if changed:
                contract = saved.get("contract")
                with_contract = f" --contract {shlex.quote(contract)}" if isinstance(contract, str) and contract else ""
                return Stage(
                    name="data processing",
                    state="stale",
                    evidence=[*evidence, _changed_after(changed, "the validation")],
                    next_step=(
                        f"Validate again, {changed.file} changed after the last validation: "
                        f"`omgml validate {shlex.quote(changed.file or '')}{with_contract}`."
                    ),
                    stale=[changed],
                )
        if report and report.ok:
            return Stage(name="data processing", state="done", evidence=evidence, next_step=None)
        if report:
            return Stage(
                name="data processing",
                state="in_progress",
                evidence=evidence,
                next_step="Fix the validation errors, then run `omgml validate` again.",
            )
        processed = self._tables("processed")
        return Stage(
            name="data processing",
            state="in_progress" if processed else "not_started",
            evidence=[f"{len(processed)} processed table(s), no validation report"],
            next_step=f"Validate the data: `omgml validate {self._data_command()}`.",
        )

    def _feature_engineering(self) -> Stage:
        processed = self._tables("processed")
        trained = "baseline" in self.reports or self.tracking.runs > 0
        if processed and trained:
            return Stage(
                name="feature engineering",
                state="done",
                evidence=[f"{len(processed)} processed table(s) and trained models"],
                next_step=None,
            )
        return Stage(
            name="feature engineering",
            state="in_progress" if processed or trained else "not_started",
            evidence=[
                f"{len(processed)} processed table(s) in data/processed, {'a' if trained else 'no'} trained model"
            ],
            next_step="Write features into data/processed/ from code in src/, and train on them.",
        )

    def _model_development(self) -> Stage:
        report = self.reports.get("baseline")
        best = self.tracking.best_run
        evidence = []
        if report:
            evidence.append(f"baseline {_when(report.created_at)}: {report.summary}")
        if best:
            evidence.append(f"best MLflow run {best.run_name or best.run_id}: {best.metric}={best.value:.4g}")
        evidence.append(f"MLflow: {self.tracking.note}")
        stale, notes = self._model_staleness()
        evidence.extend(notes)
        if stale:
            return Stage(
                name="model development",
                state="stale",
                evidence=evidence,
                next_step=self._retrain(stale),
                stale=stale,
            )
        if (report or best) and self.models:
            return Stage(name="model development", state="done", evidence=evidence, next_step=None)
        started = bool(report or best or self.tracking.runs)
        return Stage(
            name="model development",
            state="in_progress" if started else "not_started",
            evidence=evidence,
            next_step="Train and register a cross-validated baseline first: `omgml baseline` (start simple).",
        )

    def _model_staleness(self) -> tuple[list[Staleness], list[str]]:
        """The model no longer describes the data: its training file changed since, or monitored batches drifted
        persistently or scored below its cross-validated estimate beyond noise."""
        from omgml.monitor.history import HISTORY_FILE

        stale, notes = [], []
        report = self.reports.get("baseline")
        if report:
            data = self._saved("baseline").get("data")
            data = data if isinstance(data, dict) else {}
            changed, note = self._changed(data.get("path"), report.path, report.created_at, data.get("sha256"))
            notes.extend([note] if note else [])
            if changed:
                stale.append(changed)
                notes.append(_changed_after(changed, "the model trained"))
        last = self.trend.last
        if not self.models or not last:
            return stale, notes
        if self.trend.drift_streak >= DRIFT_PERSISTS:
            drifted = [p.batch for p in last[-self.trend.drift_streak :]]
            stale.append(
                Staleness(reason="drift_persisted", evidence=HISTORY_FILE, evidence_at=last[-1].time, batches=drifted)
            )
            notes.append(f"dataset drift in each of the last {self.trend.drift_streak} monitored batches")
        labelled = [p for p in last if p.performance is not None]
        if self.trend.performance_dropped:
            point = labelled[-1]
            stale.append(
                Staleness(
                    reason="performance_dropped", evidence=HISTORY_FILE, evidence_at=point.time, batches=[point.batch]
                )
            )
            notes.append(
                f"{point.batch}: the champion's {point.performance.metric} was {point.performance.drop:.4g} below its cross-validated estimate, beyond noise"
            )
        return stale, notes

    def _retrain(self, stale: list[Staleness]) -> str:
        whys = []
        data_arg = ""
        for s in stale:
            if s.reason == "data_changed":
                whys.append(f"data changed since the model trained ({s.file})")
                if s.file != (self.config.data.train if self.config else None):
                    data_arg = f" {shlex.quote(s.file or '')}"
            elif s.reason == "drift_persisted":
                whys.append(f"drift persisted over the last {len(s.batches)} batches")
            else:
                whys.append(f"performance dropped beyond noise on {s.batches[0]}")
        return (
            f"Retrain: {'; '.join(whys)}. Run `omgml baseline{data_arg}`, then compare the new model with the champion."
        )

    def _deployment(self) -> Stage:
        champions = [m for m in self.models if "champion" in m.aliases]
        if not champions:
            return Stage(
                name="deployment",
                state="in_progress" if self.models else "not_started",
                evidence=[f"{len(self.models)} registered model(s), none with alias 'champion'"],
                next_step="Register a model and give the one to deploy the alias 'champion'.",
            )
        champion = champions[0]
        version = champion.aliases["champion"]
        evidence = [f"{champion.name}@champion = version {version}"]
        serving, why_not = _serving(self.project, champion.name, version)
        if serving:
            return Stage(name="deployment", state="done", evidence=[*evidence, serving], next_step=None)
        serve_code = self.config and (self.project.root / "src" / self.config.package / "serve.py").is_file()
        evidence.append(why_not)
        next_step = (
            "Serve the champion: `make serve` (the app records what it serves in .omgml/deployments/)."
            if serve_code
            else "Serve the champion model behind a prediction API (omgml init scaffolds src/<package>/serve.py)."
        )
        return Stage(name="deployment", state="in_progress", evidence=evidence, next_step=next_step)

    def _monitoring(self) -> Stage:
        report = self.reports.get("drift")
        evidence = [f"drift {_when(report.created_at)}: {report.summary}"] if report else []
        if self.trend.batches:
            newest = self.trend.last[-1]
            evidence.append(
                f"{self.trend.batches} monitored batch(es), the newest {newest.batch} ({_when(newest.time)}): "
                f"{newest.validation_errors} validation error(s), drifted share "
                + ("not checked" if newest.drifted_share is None else f"{newest.drifted_share:.0%}")
            )
        stale: list[Staleness] = []
        for path in self.references:
            profile = self.project.store.read_json(path) or {}
            changed, note = self._changed(
                profile.get("source"), self.project.rel(path), str(profile.get("created_at", "")), profile.get("sha256")
            )
            evidence.extend([note] if note else [])
            if changed:
                stale.append(changed)
                evidence.append(_changed_after(changed, f"the reference profile '{path.stem}' was saved"))
        if stale:
            first = stale[0]
            name = Path(first.evidence).stem
            return Stage(
                name="monitoring",
                state="stale",
                evidence=evidence,
                next_step=(
                    f"Save the reference profile again, {first.file} changed after it was saved: "
                    f"`omgml drift {shlex.quote(first.file or '')} --save-reference {shlex.quote(name)} --replace-reference`."
                    + (f" ({len(stale)} profiles are stale.)" if len(stale) > 1 else "")
                ),
                stale=stale,
            )
        if report:
            return Stage(name="monitoring", state="done", evidence=evidence, next_step=None)
        return Stage(
            name="monitoring",
            state="in_progress" if self.references else "not_started",
            evidence=[*evidence, f"{len(self.references)} saved reference profile(s), no drift report"],
            next_step="Save a reference profile of the training data and check new data for drift: `omgml drift`.",
        )

    def _iteration(self) -> Stage:
        drift = self.reports.get("drift")
        baseline = self.reports.get("baseline")
        if drift and baseline and self._first_report_time("drift") < baseline.created_at:
            return Stage(
                name="iteration",
                state="done",
                evidence=[
                    f"retrained ({_when(baseline.created_at)}) after monitoring began ({_when(self._first_report_time('drift'))})"
                ],
                next_step=None,
            )
        versions = max((m.versions for m in self.models), default=0)
        retrained = versions > 1 or (baseline is not None and baseline.runs > 1)
        return Stage(
            name="iteration",
            state="in_progress" if retrained else "not_started",
            evidence=[
                (
                    f"{versions} model version(s), {baseline.runs if baseline else 0} baseline report(s), "
                    f"{'a' if drift else 'no'} drift report"
                )
            ],
            next_step="Once drift is checked, retrain on fresh data and compare with the champion.",
        )

    def _first_report_time(self, kind: str) -> str:
        history = self.project.store.history(kind)
        first = self.project.store.read_json(history[0]) if history else None
        return str(first.get("created_at", "")) if first else ""

    def readiness(self) -> list[ReadinessItem]:
        c, t = self.config, self.tracking
        validation, baseline, drift = (self.reports.get(k) for k in ("validation", "baseline", "drift"))
        return [
            ReadinessItem(
                practice="success metric defined",
                ok=c is not None,
                evidence=f"{CONFIG_FILE} metric = {c.metric}" if c else f"no {CONFIG_FILE}",
            ),
            ReadinessItem(
                practice="data validated",
                ok=bool(validation and validation.ok),
                evidence=validation.summary if validation else "no validation report",
            ),
            ReadinessItem(
                practice="baseline established",
                ok=bool(baseline and baseline.ok) or t.best_run is not None,
                evidence=baseline.summary
                if baseline
                else (f"best run {t.best_run.metric}={t.best_run.value:.4g}" if t.best_run else "no baseline"),
            ),
            ReadinessItem(practice="experiments tracked", ok=t.runs > 0, evidence=f"{t.uri}: {t.note}"),
            ReadinessItem(
                practice="model registered",
                ok=bool(self.models),
                evidence=", ".join(f"{m.name} v{m.latest_version}" for m in self.models) or "no registered model",
            ),
            ReadinessItem(
                practice="monitoring configured",
                ok=bool(self.references or drift),
                evidence=(
                    f"{len(self.references)} reference profile(s)" + (f"; drift: {drift.summary}" if drift else "")
                ),
            ),
        ]


def _changed_after(changed: Staleness, what: str) -> str:
    since = f"{what} ({_when(changed.evidence_at)})"
    if changed.recorded_sha256:
        return (
            f"{changed.file} changed since {since}: its sha256 is not the one recorded then "
            f"(modified {_when(changed.changed_at or '')})"
        )
    return f"{changed.file} was modified {_when(changed.changed_at or '')}, after {since}, which recorded no sha256"


def _serving(project: Project, model: str, version: str) -> tuple[str | None, str]:
    """Whether a serving app records serving ``model`` at ``version`` now; else why not.

    The scaffold's serve.py writes ``.omgml/deployments/*.json`` once its model is loaded and
    stamps ``stopped_at`` when it shuts down; a record left by a process that died on this host
    is stale. Code that serves elsewhere can write the same record.
    """
    import socket

    store = project.store
    records = [r for r in map(store.read_json, store.listing(store.deployments)) if r]
    mine = [r for r in records if r.get("model_name") == model]
    if not mine:
        return None, "nothing has recorded serving it (.omgml/deployments/ has no record for this model)"
    current = [r for r in mine if str(r.get("model_version")) == version]
    if not current:
        served = ", ".join(sorted({str(r.get("model_version")) for r in mine}))
        return None, f"the serving app serves version {served}, not the champion {version}: restart or reload it"
    for record in current:
        if record.get("stopped_at"):
            continue
        if record.get("host") == socket.gethostname() and not _alive(record.get("pid")):
            continue
        return f"served by {record.get('host')} (pid {record.get('pid')}) since {record.get('started_at')}", ""
    last = current[-1]
    when = last.get("stopped_at") or "an unknown time (its process is gone)"
    return None, f"the serving app for version {version} stopped at {when}"


def _alive(pid: object) -> bool:
    import os

    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True
