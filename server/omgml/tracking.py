"""The one place that talks to MLflow. mlflow is imported inside functions: it costs seconds.

Convention shared with the baseline trainer: a run logs the project's success metric under
its plain name (``roc_auc``, ``rmse``), so ``status`` can rank runs by it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from omgml.config import DEFAULT_TRACKING_URI, METRICS, ProjectConfig, resolve_tracking_uri

MAX_RUNS_COUNTED = 10_000


class BestRun(BaseModel):
    run_id: str
    run_name: str | None
    experiment: str
    metric: str
    value: float


class RegisteredModel(BaseModel):
    name: str
    versions: int
    latest_version: str | None
    aliases: dict[str, str] = Field(description="alias -> version")


class TrackingSummary(BaseModel):
    uri: str
    store_found: bool
    note: str
    experiments: list[str] = Field(default_factory=list)
    runs: int = 0
    best_run: BestRun | None = None
    registered_models: list[RegisteredModel] = Field(default_factory=list)


def project_tracking_uri(project: Path, config: ProjectConfig | None) -> str:
    """``MLFLOW_TRACKING_URI``, else the project's ``[tracking] uri``, else MLflow's default at the project root."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or (config.tracking.uri if config else DEFAULT_TRACKING_URI)
    return resolve_tracking_uri(project, uri)


def local_store_path(uri: str) -> Path | None:
    """The file or folder behind a local store URI; None for a server."""
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///") :])
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else uri)
    return None


def read_tracking_summary(uri: str, metric: str | None) -> TrackingSummary:
    """Experiments, runs, the best run by ``metric`` and registered models, without creating a store.

    A local store that does not exist is reported as absent; it is never created by reading.
    """
    store = local_store_path(uri)
    if store is not None and not store.exists():
        return TrackingSummary(uri=uri, store_found=False, note=f"no MLflow store yet ({store.name} does not exist)")
    try:
        with _fail_fast_http():
            return _read(uri, metric)
    except Exception as exc:  # an unreachable or damaged store is evidence to report, not a crash
        return TrackingSummary(
            uri=uri, store_found=store is not None, note=f"MLflow store unreadable: {type(exc).__name__}: {exc}"[:200]
        )


@contextmanager
def _fail_fast_http() -> Iterator[None]:
    """A status read must answer in seconds: MLflow's default retries an unreachable server for minutes."""
    overrides = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update({key: value for key, value in overrides.items() if saved[key] is None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)


def _read(uri: str, metric: str | None) -> TrackingSummary:
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    ids = [e.experiment_id for e in experiments]
    names = {e.experiment_id: e.name for e in experiments}
    runs = 0
    best: BestRun | None = None
    if ids:
        page = client.search_runs(ids, max_results=1000)
        runs = len(page)
        while page.token and runs < MAX_RUNS_COUNTED:
            page = client.search_runs(ids, max_results=1000, page_token=page.token)
            runs += len(page)
        if metric in METRICS:
            order = "DESC" if METRICS[metric].greater_is_better else "ASC"
            top = client.search_runs(
                ids, filter_string=f"metrics.{metric} > -1e308", order_by=[f"metrics.{metric} {order}"], max_results=1
            )
            if top:
                run = top[0]
                best = BestRun(
                    run_id=run.info.run_id,
                    run_name=run.info.run_name,
                    experiment=names.get(run.info.experiment_id, run.info.experiment_id),
                    metric=metric,
                    value=run.data.metrics[metric],
                )
    models = []
    for registered in client.search_registered_models(max_results=100):
        versions = client.search_model_versions(f"name='{registered.name}'", max_results=1000)
        latest = max((int(v.version) for v in versions), default=None)
        models.append(
            RegisteredModel(
                name=registered.name,
                versions=len(versions),
                latest_version=None if latest is None else str(latest),
                aliases={alias: str(version) for alias, version in (registered.aliases or {}).items()},
            )
        )
    note = f"{len(experiments)} experiment(s), {runs}{'+' if runs >= MAX_RUNS_COUNTED else ''} run(s)"
    return TrackingSummary(
        uri=uri,
        store_found=True,
        note=note,
        experiments=[e.name for e in experiments],
        runs=runs,
        best_run=best,
        registered_models=models,
    )
