"""The one place that talks to MLflow. mlflow is imported inside functions: it costs seconds.

Convention shared with the baseline trainer: a run logs the project's success metric under
its plain name (``roc_auc``, ``rmse``), so ``status`` can rank runs by it.
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from omgml.config import DEFAULT_TRACKING_URI, METRICS, ProjectConfig, project_slug, resolve_tracking_uri
from omgml.errors import OmgmlError, first_line

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
    runs_marked_failed: int = Field(
        0, description="RUNNING runs whose process had died, marked FAILED by this read (they are not counted)"
    )


MODEL_NAME_MAX = 256  # the registry's name column (registered_models.name) is VARCHAR(256)
EXPERIMENT_NAME_MAX = 500  # MLflow's MAX_EXPERIMENT_NAME_LENGTH


def model_name_problem(name: str) -> str | None:
    """Why MLflow's registry would refuse ``name`` as a registered model name, or None when it takes it.

    MLflow's own rules (``_validate_model_name``, and the file store's): not blank, no '/' or ':' (nor
    '\\' or '%' for a file store), and a path that normalizes to itself; plus the column's length. Checked
    before any work, so a bad name fails in milliseconds instead of after the cross-validation.
    """
    import posixpath

    if not name.strip():
        return "it is blank"
    bad = sorted({c for c in name if c in "/:\\%"})
    if bad:
        return f"it contains {' and '.join(repr(c) for c in bad)}"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it contains a control character"
    if posixpath.normpath(name) != name or name.startswith(".."):
        return "MLflow treats model names as paths, and this one would resolve to another name"
    if len(name) > MODEL_NAME_MAX:
        return f"it is {len(name)} characters long; the registry holds at most {MODEL_NAME_MAX}"
    return None


def experiment_name_problem(name: str) -> str | None:
    """Why MLflow would refuse ``name`` as an experiment name (``_validate_experiment_name``), or None."""
    if not name.strip():
        return "it is blank"
    if len(name) > EXPERIMENT_NAME_MAX:
        return f"it is {len(name)} characters long; MLflow takes at most {EXPERIMENT_NAME_MAX}"
    return None


def project_tracking_uri(project: Path, config: ProjectConfig | None) -> str:
    """``MLFLOW_TRACKING_URI``, else the project's ``[tracking] uri``, else MLflow's default at the project root.

    A local store named by the project (its config or the default) must stay inside the project, symlinks
    resolved: a checked-out omgml.toml must not make omgml write elsewhere. ``MLFLOW_TRACKING_URI`` is the
    user's explicit choice and may point anywhere; a server (http, databricks, a database) is always fine.
    """
    explicit = os.environ.get("MLFLOW_TRACKING_URI")
    if explicit:
        return resolve_tracking_uri(project, explicit)
    given = config.tracking.uri if config else DEFAULT_TRACKING_URI
    uri = resolve_tracking_uri(project, given)
    store = local_store_path(uri)
    if store is not None:
        from omgml.errors import ConfigError, PathError
        from omgml.workspace import resolve_inside

        try:
            resolve_inside(project, store, "MLflow store")
        except PathError as exc:
            raise ConfigError(
                f"The tracking URI '{given}' ({tracking_uri_source(config)}) is refused: {exc.what}",
                "a project's own config may only keep its MLflow store inside the project, "
                "so a checked-out omgml.toml cannot make omgml write elsewhere",
                "use a path inside the project (sqlite:///mlflow.db), or set MLFLOW_TRACKING_URI explicitly "
                "for a store elsewhere (a tracking server URI such as http://host:5000 is fine in omgml.toml)",
            ) from exc
    return uri


def tracking_uri_source(config: ProjectConfig | None) -> str:
    """Where ``project_tracking_uri`` takes the URI from, in words, for error messages."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return "MLFLOW_TRACKING_URI"
    return "omgml.toml [tracking] uri" if config else "the default store at the project root"


def local_store_path(uri: str) -> Path | None:
    """The file or folder behind a local store URI; None for a server."""
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///") :])
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else uri)
    return None


def read_tracking_summary(uri: str, metric: str | None, lock: Path | None = None) -> TrackingSummary:
    """Experiments, finished runs, the best of them by ``metric`` and registered models, without creating a store.

    A local store that does not exist is reported as absent; it is never created by reading. Runs left
    RUNNING by a process that died are marked FAILED first (``lock``: see ``store_lock``); only FINISHED
    runs are counted and ranked.
    """
    store = local_store_path(uri)
    if store is not None and not store.exists():
        return TrackingSummary(uri=uri, store_found=False, note=f"no MLflow store yet ({store.name} does not exist)")
    try:
        check_local_store(uri)
        with _fail_fast_http():
            return _read(uri, metric, lock)
    except Exception as exc:  # noqa: BLE001 -- an unreachable or damaged store is evidence to report, not a crash
        denied = _access_denied(uri, exc, "nothing was read")
        if denied is not None:
            exc = denied
        reason = str(exc) if isinstance(exc, OmgmlError) else f"{type(exc).__name__}: {exc}"
        return TrackingSummary(
            uri=redact(uri), store_found=store is not None, note=redact(f"MLflow store unreadable: {reason}")[:400]
        )


SQLITE_HEADER = b"SQLite format 3\x00"


def check_local_store(uri: str) -> None:
    """Refuse, in milliseconds, a local store that is not what its URI says: MLflow stalls on some for minutes.

    A ``sqlite:///`` path that is a folder, or a non-empty file without SQLite's header, and a file store
    path that is a file, raise ``TrackingError``. A missing path is fine (MLflow creates it).
    """
    store = local_store_path(uri)
    if store is None or not os.path.lexists(store):
        return
    sqlite = uri.startswith("sqlite:")
    problem = ""
    if sqlite and store.is_dir():
        problem = "it is a folder, not a SQLite file"
    elif sqlite:
        try:
            with open(store, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as exc:
            problem = f"it cannot be read ({exc.strerror or exc})"
        else:
            if header and header != SQLITE_HEADER:
                problem = "it is not a SQLite database (its first bytes are not SQLite's header)"
    elif not store.is_dir():
        problem = "a file store is a folder, and this is a file"
    if problem:
        raise TrackingError(
            f"The MLflow store {store} cannot be used",
            f"{problem}; nothing was read or written",
            "move it aside (MLflow then creates a new store there), or point [tracking] uri in omgml.toml "
            "or MLFLOW_TRACKING_URI at the real store",
        )


def tracking_lock(project: Path) -> Path | None:
    """The lock file ``store_lock`` takes for a project's local store: every omgml process of the project shares it.

    It lives in ``mlruns/`` (the local store's artifact folder): the scaffold's .gitignore already covers
    it, so taking the lock never makes a checkout dirty, in new projects or old ones. None when ``mlruns``
    leads out of the project (the baseline refuses such a project; a read goes on without the lock).
    """
    from omgml.errors import PathError
    from omgml.workspace import resolve_inside

    try:
        return resolve_inside(project, "mlruns/.omgml-tracking.lock", "MLflow store lock")
    except PathError:
        return None


@contextmanager
def store_lock(uri: str, lock: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on ``lock`` while a local store is opened; a no-op for a server or without ``lock``.

    MLflow creates a new sqlite store's schema on the first client call, and two processes doing it at
    once fail ("table already exists"); two creating the same experiment collide the same way. The
    lock makes the first opener do it alone; later openers wait milliseconds.
    """
    if lock is None or local_store_path(uri) is None:
        yield
        return
    import fcntl

    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise TrackingError(
            f"Cannot open the lock file {lock} that guards the MLflow store",
            f"{exc.strerror or exc}; nothing was read or written",
            f"make {lock.parent} a folder you can write",
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# MLflow builds a new sqlite store by replaying every alembic migration (seconds, ~10 s on a busy box). The result
# is the same file each time for one MLflow version, so it is built once per version in the user cache and
# copied. The cached file holds tables only, no default experiment: MLflow adds experiment 0 on the first open,
# with the artifact location of the project that opens it.
QUIET_LOGGERS = ("mlflow.store.db.utils", "alembic")


@contextmanager
def quiet_store_creation() -> Iterator[None]:
    """Keep MLflow's and alembic's INFO lines ("Creating initial MLflow database tables...") off the terminal."""
    import logging

    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)


def empty_store_cache() -> Path:
    """Where the empty store for the installed MLflow lives: one per version, so an upgrade never reuses one."""
    from importlib.metadata import version

    from omgml.workspace import user_cache

    return user_cache("mlflow-store", version("mlflow"), "empty.db")


def _sqlite_engine(path: Path) -> Any:
    import sqlalchemy

    return sqlalchemy.create_engine(f"sqlite:///{path}", poolclass=sqlalchemy.pool.NullPool)


def _verified(path: Path) -> bool:
    """MLflow's own checks: every table its models declare, and the schema revision at the installed head."""
    from mlflow.store.db.utils import _all_tables_exist, _verify_schema

    engine = _sqlite_engine(path)
    try:
        _verify_schema(engine)
        return _all_tables_exist(engine)
    except Exception:  # noqa: BLE001 -- a damaged or foreign file is one to rebuild, whatever the error
        return False
    finally:
        engine.dispose()


def _build_empty_store(cached: Path) -> None:
    """MLflow creates the schema itself (its tables, then every migration) in a temp file, renamed into place."""
    import tempfile

    from mlflow.store.db.utils import _initialize_tables

    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".empty-", suffix=".db", dir=cached.parent)
    os.close(fd)
    temp = Path(name)
    try:
        engine = _sqlite_engine(temp)
        try:
            _initialize_tables(engine)
        finally:
            engine.dispose()
        if not _verified(temp):
            raise OSError("MLflow's schema check refused the store it just created")
        os.replace(temp, cached)  # concurrent builders each write a whole file: the last rename wins
    finally:
        temp.unlink(missing_ok=True)


def seed_local_store(uri: str) -> bool:
    """Give a new local sqlite store MLflow's full schema at once, by copying the cached empty store.

    Only when the store's file does not exist yet; the copy is checked by MLflow's schema check before it is
    linked into place (never over a file another process made meanwhile). False when nothing was copied: the
    store exists, is not sqlite, or the cache cannot be built or read, and MLflow then creates the store itself.
    """
    store = local_store_path(uri)
    if store is None or not uri.startswith("sqlite:///") or os.path.lexists(store) or not store.parent.is_dir():
        return False
    import shutil
    import tempfile

    try:
        cached = empty_store_cache()
    except Exception:  # noqa: BLE001 -- no home or no mlflow metadata: MLflow's own path
        return False
    for attempt in range(2):
        try:
            if attempt or not cached.is_file():
                _build_empty_store(cached)
            fd, name = tempfile.mkstemp(prefix=f".{store.name}-", dir=store.parent)
            os.close(fd)
        except Exception:  # noqa: BLE001 -- an unwritable cache or project: MLflow's own path says why
            return False
        temp = Path(name)
        try:
            shutil.copyfile(cached, temp)
            if _verified(temp):
                try:
                    os.link(temp, store)  # fails if the store appeared meanwhile: that one is kept
                except FileExistsError:
                    return False
                return True
        except OSError:
            return False
        finally:
            temp.unlink(missing_ok=True)
    return False  # the cache was rebuilt and still refused: MLflow's own path


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


def _read(uri: str, metric: str | None, lock: Path | None) -> TrackingSummary:
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    with store_lock(uri, lock):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
        ids = [e.experiment_id for e in experiments]
        marked = fail_stale_runs(client, ids)
    names = {e.experiment_id: e.name for e in experiments}
    runs = 0
    best: BestRun | None = None
    if ids:
        # Only FINISHED runs: a FAILED or abandoned run's metrics are not a result.
        page = client.search_runs(ids, FINISHED_RUNS, max_results=1000)
        runs = len(page)
        while page.token and runs < MAX_RUNS_COUNTED:
            page = client.search_runs(ids, FINISHED_RUNS, max_results=1000, page_token=page.token)
            runs += len(page)
        if metric in METRICS:  # a name from omgml's own table, so safe to place in the filter
            order = "DESC" if METRICS[metric].greater_is_better else "ASC"
            top = client.search_runs(
                ids,
                filter_string=f"metrics.{metric} > -1e308 AND {FINISHED_RUNS}",
                order_by=[f"metrics.{metric} {order}"],
                max_results=1,
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
        versions = model_versions(client, name=registered.name)
        latest = max((int(v.version) for v in versions), default=None)
        models.append(
            RegisteredModel(
                name=registered.name,
                versions=len(versions),
                latest_version=None if latest is None else str(latest),
                aliases={alias: str(version) for alias, version in (registered.aliases or {}).items()},
            )
        )
    note = f"{len(experiments)} experiment(s), {runs}{'+' if runs >= MAX_RUNS_COUNTED else ''} finished run(s)"
    if marked:
        note += f"; {marked} run(s) left RUNNING by a process that died were marked FAILED"
    return TrackingSummary(
        uri=redact(uri),
        store_found=True,
        note=note,
        experiments=[e.name for e in experiments],
        runs=runs,
        best_run=best,
        registered_models=models,
        runs_marked_failed=marked,
    )


FINISHED_RUNS = "attributes.status = 'FINISHED'"


def filter_literal(value: str) -> str | None:
    """``value`` as a string literal of MLflow's search grammar, or None when no quoting reads back as ``value``.

    MLflow's parser (sqlparse, then ``_strip_quotes``) takes '...' or "..." and never unescapes, so a
    value holding one kind of quote goes inside the other; one holding both cannot be written. The
    literal is checked by parsing it back, so what MLflow will search for is exactly ``value``.
    """
    from mlflow.utils.search_utils import SearchModelVersionUtils

    for quote in ("'", '"'):
        literal = f"{quote}{value}{quote}"
        try:
            clauses = SearchModelVersionUtils.parse_search_filter(f"name = {literal}")
        except Exception:  # noqa: BLE001, S112 -- MLflow rejects the literal: try the other quote
            continue
        if len(clauses) == 1 and clauses[0].get("value") == value:
            return literal
    return None


def model_versions(client: Any, **equal: str) -> list[Any]:
    """Model versions whose fields (``name``, ``run_id``) equal the given values, however they are spelt.

    The values go into MLflow's filter quoted by ``filter_literal``; one that cannot be quoted is matched
    here instead, over every version.
    """
    literals = {key: filter_literal(value) for key, value in equal.items()}
    quoted = " AND ".join(f"{key} = {literal}" for key, literal in literals.items() if literal is not None)
    found, token = [], None
    while True:
        page = client.search_model_versions(quoted or None, max_results=1000, page_token=token)
        found += [v for v in page if all(getattr(v, key) == value for key, value in equal.items())]
        token = page.token
        if not token or len(found) >= MAX_RUNS_COUNTED:
            return found


# --- Runs whose process died ----------------------------------------------------------------------
#
# Every run omgml creates carries the host, pid and the pid's start time. A run still RUNNING whose
# process is gone (same host; the pid is not alive, is a zombie, or now belongs to a process started
# at another time) can never finish: the next call that opens the store marks it FAILED.

HOST_TAG, PID_TAG, PID_START_TAG = "omgml.host", "omgml.pid", "omgml.pid_start"


def process_tags() -> dict[str, str]:
    """The tags that let a later call tell whether the process logging a run is still alive."""
    import socket

    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    start = _process_start(os.getpid())
    if start is not None:
        tags[PID_START_TAG] = start
    return tags


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first); None without procfs."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses


def _process_start(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None  # field 22: start time in clock ticks


def _process_gone(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # someone else's process, alive
    fields = _proc_stat(pid)
    if fields is None:
        return False  # alive as far as this system can tell
    return fields[0] in ("Z", "X") or (start is not None and len(fields) > 19 and fields[19] != start)


def fail_stale_runs(client: Any, experiment_ids: list[str]) -> int:
    """Mark FAILED every RUNNING run of this host whose process is gone; how many were marked."""
    import socket

    if not experiment_ids:
        return 0
    host = socket.gethostname()
    marked = 0
    for run in client.search_runs(experiment_ids, "attributes.status = 'RUNNING'", max_results=1000):
        tags = run.data.tags
        if tags.get(HOST_TAG) != host or not tags.get(PID_TAG, "").isdigit():
            continue  # another machine's run, or not omgml's: nothing here can tell whether it is alive
        pid = int(tags[PID_TAG])
        if not _process_gone(pid, tags.get(PID_START_TAG)):
            continue
        with suppress(Exception):  # another caller may have marked it a moment ago
            client.set_tag(run.info.run_id, "omgml.error", f"its process (pid {pid} on {host}) ended before it did")
            client.set_terminated(run.info.run_id, "FAILED")
            marked += 1
    return marked


# --- Writing: the baseline trainer's session (parent run, nested runs, model, registry) ---------------
#
# Everything goes through an ``MlflowClient`` bound to the project's URI: nothing here calls
# ``mlflow.set_tracking_uri`` or starts a fluent run, so a long-lived server process keeps no
# global MLflow state and two projects in one process never see each other's store.

PROBE_TIMEOUT_S = 5.0
MODEL_ARTIFACT_NAME = "model"
# Types a scikit-learn pipeline of omgml's candidates holds that skops does not trust by default.
# Reviewed: they are scikit-learn's and numpy's own; the model is one omgml just fitted.
SKOPS_TRUSTED_TYPES = (
    "numpy.dtype",
    "functools.partial",
    "sklearn.utils.validation.check_array",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "numpy", "pandas", "scipy")


class TrackingError(OmgmlError):
    """MLflow could not be reached, or refused a write. Its text never holds a password (see ``redact``)."""

    def __init__(self, what: str, why: str = "", fix: str = "") -> None:
        super().__init__(redact(what), redact(why), redact(fix))


# MLflow (through requests) takes credentials from the URI's user info; its errors quote the URL it called.
# The password runs to the authority's last "@", so an unescaped "@" in it hides all of it.
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*):[^/\s]*@")
SECRET_VARS = ("MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
CREDENTIAL_VARS = "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"


def redact(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@`` and the values of ``SECRET_VARS`` as ***.

    What reports, messages and saved files show of a tracking URI or of an error that quotes one.
    """
    text = _USERINFO.sub(r"\g<head>:***@", text)
    for var in SECRET_VARS:
        secret = os.environ.get(var, "")
        if len(secret) >= 4:  # a one-letter "secret" would blank every such letter of the message
            text = text.replace(secret, "***")
    return text


def _access_denied(uri: str, exc: BaseException, done: str) -> TrackingError | None:
    """The one line for a server that refused the credentials (401) or the account (403); None for any other error.

    ``done`` says what that left behind ("nothing was trained or logged").
    """
    code = getattr(exc, "error_code", None)
    if code not in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return None
    user = os.environ.get("MLFLOW_TRACKING_USERNAME") or urlparse(uri).username
    who = f"user {user!r}" if user else "no user name"
    if code == "UNAUTHENTICATED":
        given = "its password was refused" if user else "none was given (MLFLOW_TRACKING_USERNAME is not set)"
        return TrackingError(
            f"MLflow tracking at {uri} answered unauthorised (HTTP 401) for {who}",
            f"the server asks for a user name and password and {given}; {done}",
            f"set {CREDENTIAL_VARS} to an account of that server (or MLFLOW_TRACKING_TOKEN), then run again",
        )
    return TrackingError(
        f"MLflow tracking at {uri} denied {who} permission (HTTP 403)",
        f"{first_line(exc)}; {done}",
        "ask the server's admin for EDIT on the experiment and MANAGE on the registered model, or set "
        f"{CREDENTIAL_VARS} to an account that has them",
    )


_redirect_lock = threading.Lock()
_redirect_depth = 0
_saved_stdout: Any = None


class _Redacted:
    """A text stream that writes to ``target`` with passwords masked."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding: the target's own
        return getattr(self._target, name)


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send Python-level ``print``/``sys.stdout`` writes to stderr while the block runs.

    MLflow writes "View run ... at: ..." to ``sys.stdout`` when a run ends on a tracking server;
    on the MCP stdio transport and under ``omgml ... --json`` stdout must carry only the protocol
    or the JSON. That link is the tracking URI, password included, so the writes are ``redact``ed.
    Re-entrant and thread-safe: the first caller in swaps, the last one out restores.
    """
    global _redirect_depth, _saved_stdout
    with _redirect_lock:
        if _redirect_depth == 0:
            _saved_stdout = sys.stdout
            sys.stdout = _Redacted(sys.stderr)
        _redirect_depth += 1
    try:
        yield
    finally:
        with _redirect_lock:
            _redirect_depth -= 1
            if _redirect_depth == 0:
                sys.stdout = _saved_stdout
                _saved_stdout = None


@dataclass(frozen=True)
class ExperimentRef:
    uri: str
    name: str
    experiment_id: str
    artifact_location: str
    note: str
    # The client that opened it: one per call, so logging reuses its stores instead of building more.
    client: Any = field(default=None, repr=False, compare=False)


def open_experiment(
    uri: str, name: str, artifact_root: Path | None, source: str = "", lock: Path | None = None
) -> ExperimentRef:
    """Reach the store and get (or create) the experiment ``name``; fails fast, before any training.

    A new experiment in a local store keeps its artifacts under ``artifact_root/<name>`` (the
    project's ``mlruns/``) instead of MLflow's default, which is relative to the working directory.
    ``source`` says where the URI came from, for the error message; ``lock`` serializes the first
    openers of a local store (``store_lock``). Runs left RUNNING by a dead process are marked FAILED.
    """
    _probe_server(uri, source)
    check_local_store(uri)
    try:
        from mlflow.tracking import MlflowClient

        with _fail_fast_http(), store_lock(uri, lock), quiet_store_creation():
            seed_local_store(uri)
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            experiment = client.get_experiment_by_name(name)
            note = f"experiment '{name}' found"
            if experiment is None:
                location = None
                if artifact_root is not None and local_store_path(uri) is not None:
                    location = (artifact_root / project_slug(name)).resolve().as_uri()
                experiment_id = client.create_experiment(name, artifact_location=location, tags={"omgml.project": name})
                experiment = client.get_experiment(experiment_id)
                note = f"experiment '{name}' created"
            elif experiment.lifecycle_stage == "deleted":
                client.restore_experiment(experiment.experiment_id)
                note = f"experiment '{name}' restored (it had been deleted)"
            marked = fail_stale_runs(client, [experiment.experiment_id])
    except OmgmlError:
        raise
    except Exception as exc:
        raise _unreachable(uri, source, exc) from exc
    if marked:
        note += f"; {marked} run(s) left RUNNING by a process that died were marked FAILED"
    return ExperimentRef(uri, name, experiment.experiment_id, experiment.artifact_location, note, client)


def _probe_server(uri: str, source: str) -> None:
    """For an http(s) server, one quick request: MLflow's own client would retry for minutes."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return
    import urllib.error
    import urllib.request

    # /health needs no login, and urllib refuses a URI's user:password@ (MLflow's requests takes it).
    health = parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl().rstrip("/") + "/health"
    try:
        urllib.request.urlopen(health, timeout=PROBE_TIMEOUT_S).close()
    except urllib.error.HTTPError:
        return  # it answered: reachable, whatever it thinks of /health
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _unreachable(uri, source, exc) from exc


def _unreachable(uri: str, source: str, exc: BaseException) -> TrackingError:
    denied = _access_denied(uri, exc, "nothing was trained or logged")
    if denied is not None:
        return denied
    reason = getattr(exc, "reason", None) or exc
    origin = f" (from {source})" if source else ""
    why = f"{type(exc).__name__}: {first_line(reason)}. Nothing was trained or logged"
    store = local_store_path(uri)
    if store is None:
        return TrackingError(
            f"MLflow tracking at {uri}{origin} cannot be reached or used",
            why,
            "start the tracking server or correct the URI; unset MLFLOW_TRACKING_URI to use the project's own "
            "sqlite:///mlflow.db",
        )
    # A local store has no server to start: the file or folder itself is what failed.
    return TrackingError(
        f"The local MLflow store {store}{origin} could not be opened",
        why,
        f"check that {store} is a {'SQLite file' if uri.startswith('sqlite:') else 'folder'} you can write "
        "and its folder exists, or correct the URI",
    )


@dataclass
class RunRecord:
    """One run to log: a nested candidate run, or the parent."""

    name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    fold_metrics: dict[str, list[float]] = field(default_factory=dict)  # logged as steps 0..k-1
    tags: dict[str, str] = field(default_factory=dict)
    failed: bool = False


@dataclass
class ModelRecord:
    """A fitted scikit-learn model to log, and optionally register."""

    estimator: Any
    input_example: Any  # a few rows of the training frame
    signature_input: Any  # rows to infer the input schema from
    signature_output: Any  # the model's predictions on them
    registered_name: str | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass
class DatasetRecord:
    frame: Any  # pandas DataFrame: features and target
    source: str
    target: str
    name: str
    schema_rows: Any = None  # a few rows of ``frame`` (with missing values) to infer the schema from
    digest: str | None = None  # None: MLflow hashes the frame (most of a second on 200k rows)


@dataclass
class SessionRecord:
    parent: RunRecord
    children: list[RunRecord | None]  # None: not run (skipped), so not logged
    dataset: DatasetRecord | None = None
    model: ModelRecord | None = None
    json_artifacts: dict[str, Any] = field(default_factory=dict)  # artifact path -> JSON-able object


@dataclass
class LoggedSession:
    parent_run_id: str
    child_run_ids: list[str | None]
    model_uri: str | None = None
    registered_model: str | None = None
    model_version: str | None = None
    aliases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def model_requirements() -> list[str]:
    """Pinned pip requirements of a logged omgml model: given explicitly, MLflow's inference costs seconds."""
    from importlib.metadata import PackageNotFoundError

    pins = []
    for package in REQUIREMENTS:
        try:
            pins.append(_pin(package))
        except PackageNotFoundError:
            if package == "mlflow":
                import mlflow

                pins.append(f"mlflow=={mlflow.__version__}")
    return pins


def log_session(
    experiment: ExperimentRef,
    record: SessionRecord,
    before_register: Callable[[LoggedSession], Callable[[], None]] | None = None,
    before_end: Callable[[LoggedSession], None] | None = None,
) -> LoggedSession:
    """Log the parent run, its nested runs, the dataset, the model and its registration, or nothing usable.

    ``before_register`` runs once everything but the registration is logged (the baseline saves its
    report there, so a report that cannot be written leaves no registered version); it returns how to
    undo itself. On any failure every run this call created is marked FAILED, a model version it
    created is deleted, the hook is undone, and ``TrackingError`` says what happened (an ``OmgmlError``
    from the hook is raised as it is).

    ``before_end`` runs after the registration, while the parent run is still open (the baseline saves its
    final report there and logs it to the run). What it raises undoes nothing: the run ends FINISHED, the
    version stays, and its error is raised after.
    """
    from mlflow.entities import LoggedModelStatus

    client = experiment_client(experiment)
    open_runs: list[str] = []
    undo: list[Any] = []
    alive = process_tags()  # lets a later call tell a run whose process died from one still going
    after_registration: Exception | None = None
    try:
        parent = client.create_run(
            experiment.experiment_id, run_name=record.parent.name, tags={**record.parent.tags, **alive}
        )
        parent_id = parent.info.run_id
        open_runs.append(parent_id)
        _log_values(client, parent_id, record.parent)
        if record.dataset is not None:
            _log_dataset(client, parent_id, record.dataset)
        child_ids: list[str | None] = []
        for child in record.children:
            if child is None:
                child_ids.append(None)
                continue
            run = client.create_run(
                experiment.experiment_id,
                run_name=child.name,
                tags={**child.tags, **alive, "mlflow.parentRunId": parent_id},
            )
            open_runs.append(run.info.run_id)
            _log_values(client, run.info.run_id, child)
            client.set_terminated(run.info.run_id, "FAILED" if child.failed else "FINISHED")
            open_runs.remove(run.info.run_id)
            child_ids.append(run.info.run_id)
        for path, payload in record.json_artifacts.items():
            client.log_dict(parent_id, payload, path)
        logged = LoggedSession(parent_run_id=parent_id, child_run_ids=child_ids)
        if record.model is not None:
            model_id, location = _log_model(client, experiment, parent_id, record.model, logged.notes)
            logged.model_uri = f"models:/{model_id}"
            # A model of a FAILED run is not one to load: it is marked FAILED with it.
            undo.append(lambda: client.finalize_logged_model(model_id, LoggedModelStatus.FAILED))
        if before_register is not None:
            undo.append(before_register(logged))
        if record.model is not None and record.model.registered_name:
            _register(client, record.model, parent_id, model_id, location, logged, undo)
        if before_end is not None:
            try:
                before_end(logged)
            except Exception as exc:  # noqa: BLE001 -- raised below, once the run has ended as logged
                after_registration = exc
        client.set_terminated(parent_id, "FAILED" if record.parent.failed else "FINISHED")
        open_runs.remove(parent_id)
    except Exception as exc:
        # Best effort: the original error is what the user needs, so a failing cleanup step must not hide it.
        for step in reversed(undo):
            with suppress(Exception):
                step()
        for run_id in open_runs:
            with suppress(Exception):
                client.set_terminated(run_id, "FAILED")
                client.set_tag(run_id, "omgml.error", f"{type(exc).__name__}: {first_line(exc)}"[:5000])
        marked = f"run(s) {', '.join(open_runs)} marked FAILED" if open_runs else "no run was created"
        if isinstance(exc, OmgmlError):
            raise
        denied = _access_denied(experiment.uri, exc, f"{marked}, and no model version was registered")
        if denied is not None:
            raise denied from exc
        store = local_store_path(experiment.uri)
        raise TrackingError(
            f"Logging the baseline to MLflow at {experiment.uri} failed",
            f"{type(exc).__name__}: {first_line(exc)}; {marked}, and no model version was registered",
            "check the tracking server and its artifact store are reachable and writable, then run the baseline again"
            if store is None
            else f"check that {store} and {experiment.artifact_location} are writable and have space, then run the "
            "baseline again",
        ) from exc
    if after_registration is not None:
        raise after_registration
    return logged


def experiment_client(experiment: ExperimentRef) -> Any:
    """The client ``open_experiment`` made, else a new one bound to the experiment's store."""
    if experiment.client is not None:
        return experiment.client
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=experiment.uri, registry_uri=experiment.uri)


def log_files(experiment: ExperimentRef, run_id: str, folder: str, files: dict[str, bytes]) -> str | None:
    """Log ``files`` (name -> content) as artifacts of run ``run_id`` under ``folder``, in one upload.

    None when they are logged, else why not in one line: a report the artifact store refuses is still the
    report, so the caller says so instead of failing.
    """
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="omgml-artifacts-") as staging:
            for name, content in files.items():
                Path(staging, name).write_bytes(content)
            experiment_client(experiment).log_artifacts(run_id, staging, folder)
    except Exception as exc:  # noqa: BLE001 -- any failure of the artifact store: said, not raised
        return f"{type(exc).__name__}: {first_line(exc)}"
    return None


def _log_values(client: Any, run_id: str, run: RunRecord) -> None:
    import time

    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    params = [Param(key, str(value)[:6000]) for key, value in run.params.items()]
    metrics = [Metric(key, float(value), now, 0) for key, value in run.metrics.items() if _finite(value)]
    for key, values in run.fold_metrics.items():
        metrics += [Metric(key, float(v), now, step) for step, v in enumerate(values) if _finite(v)]
    for start in range(0, max(len(params), len(metrics)), 100):  # MLflow takes at most 100 params per batch
        client.log_batch(run_id, metrics=metrics[start : start + 100], params=params[start : start + 100])


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(float(value))


def _log_dataset(client: Any, run_id: str, dataset: DatasetRecord) -> None:
    import warnings

    import mlflow.data
    from mlflow.entities import DatasetInput, InputTag

    with warnings.catch_warnings():
        # "source can be interpreted in multiple ways" (both readings are the local file) and the
        # integer-columns hint (the schema is the training data's): nothing for the user to act on.
        warnings.simplefilter("ignore")
        data = mlflow.data.from_pandas(
            dataset.frame, source=dataset.source, targets=dataset.target, name=dataset.name, digest=dataset.digest
        )
        if dataset.schema_rows is not None:
            # MLflow infers the schema value by value over every row (seconds on 200k rows of text);
            # a sample holding each column's missing values gives the same schema. ``schema`` is a
            # cached_property: filling its cache is enough, and harmless if that ever changes.
            from mlflow.models import infer_signature

            data.__dict__["schema"] = infer_signature(dataset.schema_rows).inputs
        entity = DatasetInput(data._to_mlflow_entity(), tags=[InputTag("mlflow.data.context", "training")])
    client.log_inputs(run_id, datasets=[entity])


def _log_model(
    client: Any, experiment: ExperimentRef, run_id: str, model: ModelRecord, notes: list[str]
) -> tuple[str, str]:
    """Log ``model`` as an MLflow LoggedModel of ``run_id``; (model id, artifact location)."""
    import tempfile
    import warnings

    import mlflow.sklearn
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model, infer_signature

    logged = client.create_logged_model(
        experiment_id=experiment.experiment_id,
        name=MODEL_ARTIFACT_NAME,
        source_run_id=run_id,
        params=model.params or None,
        tags=model.tags or None,
        model_type="omgml-baseline",
    )
    try:
        client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
        requirements = model_requirements()
        with (
            warnings.catch_warnings(),
            tempfile.TemporaryDirectory(prefix="omgml-model-") as tmp,
            _pins_not_rechecked(),
        ):
            # MLflow hints that integer columns cannot hold missing values: the schema is the training data's.
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            warnings.filterwarnings("ignore", message="Operation with range is deprecated")  # MLflow on pandas 3
            signature = infer_signature(model.signature_input, model.signature_output)
            path = os.path.join(tmp, MODEL_ARTIFACT_NAME)
            save = {"signature": signature, "input_example": model.input_example}

            def metadata() -> Any:
                return Model(
                    artifact_path=logged.artifact_location,
                    model_uuid=logged.model_id,
                    run_id=run_id,
                    model_id=logged.model_id,
                )

            # skops (safe to load) when this MLflow has it; cloudpickle, MLflow's older default, otherwise.
            fallback = ""
            if getattr(mlflow.sklearn, "SERIALIZATION_FORMAT_SKOPS", None) is None:
                fallback = "this MLflow version has no skops format"
            else:
                try:
                    mlflow.sklearn.save_model(
                        model.estimator,
                        path,
                        mlflow_model=metadata(),
                        pip_requirements=requirements,
                        serialization_format="skops",
                        skops_trusted_types=list(SKOPS_TRUSTED_TYPES),
                        **save,
                    )
                except MlflowException as exc:
                    if "untrusted types" not in str(exc).lower():
                        raise
                    import shutil

                    shutil.rmtree(path, ignore_errors=True)
                    fallback = f"skops refused a type ({first_line(exc)[:200]})"
            if fallback:
                mlflow.sklearn.save_model(
                    model.estimator,
                    path,
                    mlflow_model=metadata(),
                    pip_requirements=[*requirements, _pin("cloudpickle")],
                    serialization_format="cloudpickle",
                    **save,
                )
                notes.append(f"model saved with cloudpickle: {fallback}")
            client.log_model_artifacts(logged.model_id, path)
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    except Exception:
        with suppress(Exception):  # marking it failed is best effort; the original error is raised
            client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        raise
    return logged.model_id, logged.artifact_location


_saving_our_pins = threading.local()


@contextmanager
def _pins_not_rechecked() -> Iterator[None]:
    """Within: MLflow does not check the requirements of the model being saved against this environment.

    The check maps every installed distribution to its modules (0.7-1 s, the first time in a process) to find
    a requirement the environment does not meet; ours are this environment's own versions (``_pin``), so it
    cannot. It is skipped in this thread only, and only here: the user's own ``save_model`` calls keep it.
    """
    from mlflow.utils import environment

    check = getattr(environment, "warn_dependency_requirement_mismatches", None)
    if check is not None and not getattr(check, "omgml_skips", False):

        def maybe_check(requirements: list[str]) -> None:
            if not getattr(_saving_our_pins, "active", False):
                check(requirements)

        maybe_check.omgml_skips = True  # type: ignore[attr-defined]
        environment.warn_dependency_requirement_mismatches = maybe_check
    _saving_our_pins.active = True
    try:
        yield
    finally:
        _saving_our_pins.active = False


def _pin(package: str) -> str:
    from importlib.metadata import version

    return f"{package}=={version(package)}"


def _register(
    client: Any, model: ModelRecord, run_id: str, model_id: str, location: str, logged: LoggedSession, undo: list
) -> None:
    """A version of ``model.registered_name`` for ``run_id`` with alias ``baseline``, and ``champion`` when there
    is none. Idempotent for one run: when the run already has a version of that model, it is reused."""
    from mlflow.exceptions import MlflowException

    name = model.registered_name
    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(name, description=model.description or None)
            undo.append(lambda: client.delete_registered_model(name))
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise  # otherwise a concurrent baseline created it a moment ago: use it
    mine = model_versions(client, name=name, run_id=run_id)
    if mine:
        version = min(mine, key=lambda v: int(v.version)).version
        logged.notes.append(f"run {run_id} already had version {version} of {name}: reused, not registered again")
    else:
        # The artifact location, not "models:/<id>": a local registry resolves that through MLflow's
        # global tracking URI, which this client does not set (the store's own TODO says so).
        created = client.create_model_version(
            name,
            source=location,
            run_id=run_id,
            model_id=model_id,
            tags=model.tags or None,
            description=model.description or None,
        )
        version = created.version
        undo.append(lambda: client.delete_model_version(name, version))
    existing = dict(client.get_registered_model(name).aliases or {})
    client.set_registered_model_alias(name, "baseline", version)
    logged.aliases.append("baseline")
    if "champion" not in existing or str(existing["champion"]) == str(version):
        client.set_registered_model_alias(name, "champion", version)
        logged.aliases.append("champion")
    logged.registered_model, logged.model_version = name, str(version)


# --- The registry: a project's model versions and aliases, read, and moved all or nothing ----------------


@dataclass(frozen=True)
class VersionInfo:
    """One version of a registered model, as the registry holds it."""

    name: str
    version: str
    run_id: str | None
    source: str  # where its artifacts are: what ``load_sklearn_model`` takes
    created_ms: int
    tags: dict[str, str]


@dataclass(frozen=True)
class RegistryState:
    name: str
    exists: bool  # whether the registered model exists at all
    aliases: dict[str, str]  # alias -> version
    versions: list[VersionInfo]  # oldest first

    def aliases_of(self, version: str) -> list[str]:
        return sorted(alias for alias, v in self.aliases.items() if v == version)


@dataclass
class RegistryChange:
    """What ``update_registry`` applies: aliases to set (a version) or remove (None), and version tags to set."""

    aliases: dict[str, str | None] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # version -> tag -> value


def read_registry(uri: str, name: str, lock: Path | None = None) -> RegistryState:
    """The versions and aliases of registered model ``name``; a store that does not exist is never created."""
    store = local_store_path(uri)
    if store is not None and not store.exists():
        return RegistryState(name, False, {}, [])
    check_local_store(uri)
    try:
        with _fail_fast_http(), store_lock(uri, lock):
            return _registry_state(_registry_client(uri), name)
    except OmgmlError:
        raise
    except Exception as exc:
        raise _registry_unreachable(uri, name, exc) from exc


def run_metrics(uri: str, run_id: str, lock: Path | None = None) -> dict[str, float]:
    """The last value of each metric logged on run ``run_id``; empty when the store or the run is gone."""
    store = local_store_path(uri)
    if store is not None and not store.exists():
        return {}
    check_local_store(uri)
    try:
        with _fail_fast_http(), store_lock(uri, lock):
            from mlflow.exceptions import MlflowException

            try:
                run = _registry_client(uri).get_run(run_id)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return {}
                raise
            return {key: float(value) for key, value in run.data.metrics.items()}
    except OmgmlError:
        raise
    except Exception as exc:
        raise _registry_unreachable(uri, f"run {run_id}", exc) from exc


def update_registry(
    uri: str, name: str, lock: Path | None, plan: Callable[[RegistryState], RegistryChange]
) -> RegistryState:
    """Under the store's lock: read the state, let ``plan`` decide the change (or raise), apply it all or nothing.

    Returns the state ``plan`` saw. Holding the lock from the read to the last write means two promotions
    cannot both act on the same champion. When a write fails, every alias and tag written so far is put back
    as it was and ``TrackingError`` says so; an ``OmgmlError`` from ``plan`` leaves the registry untouched.
    """
    check_local_store(uri)
    try:
        with _fail_fast_http(), store_lock(uri, lock):
            client = _registry_client(uri)
            state = _registry_state(client, name)
            change = plan(state)
            _apply(client, state, change)
            return state
    except OmgmlError:
        raise
    except Exception as exc:
        raise _registry_unreachable(uri, name, exc) from exc


def _apply(client: Any, state: RegistryState, change: RegistryChange) -> None:
    undo: list[Callable[[], Any]] = []
    tags = {v.version: v.tags for v in state.versions}
    try:
        for alias, version in change.aliases.items():
            before = state.aliases.get(alias)
            if version is None:
                if before is None:
                    continue
                client.delete_registered_model_alias(state.name, alias)
            else:
                client.set_registered_model_alias(state.name, alias, version)
            undo.append(
                (lambda a=alias: client.delete_registered_model_alias(state.name, a))
                if before is None
                else (lambda a=alias, b=before: client.set_registered_model_alias(state.name, a, b))
            )
        for version, values in change.tags.items():
            for key, value in values.items():
                before = tags.get(version, {}).get(key)
                client.set_model_version_tag(state.name, version, key, value)
                undo.append(
                    (lambda v=version, k=key: client.delete_model_version_tag(state.name, v, k))
                    if before is None
                    else (lambda v=version, k=key, b=before: client.set_model_version_tag(state.name, v, k, b))
                )
    except Exception as exc:
        failed = 0
        for step in reversed(undo):
            try:
                step()
            except Exception:  # noqa: BLE001 -- the original error is what the user needs; the count says the rest
                failed += 1
        restored = (
            "every alias and tag written before it was put back as it was"
            if not failed
            else f"{failed} of {len(undo)} earlier write(s) could not be undone: check the aliases in MLflow"
        )
        raise TrackingError(
            f"Changing the aliases of {state.name} in MLflow failed",
            f"{type(exc).__name__}: {first_line(exc)}; {restored}",
            "check the MLflow store is writable and reachable, then run the command again",
        ) from exc


def _registry_client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _registry_state(client: Any, name: str) -> RegistryState:
    from mlflow.exceptions import MlflowException

    try:
        registered = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return RegistryState(name, False, {}, [])
        raise
    versions = sorted(
        (
            VersionInfo(
                name=name,
                version=str(v.version),
                run_id=v.run_id or None,
                source=v.source,
                created_ms=int(v.creation_timestamp or 0),
                tags=dict(v.tags or {}),
            )
            for v in model_versions(client, name=name)
        ),
        key=lambda v: int(v.version),
    )
    aliases = {alias: str(version) for alias, version in (registered.aliases or {}).items()}
    return RegistryState(name, True, aliases, versions)


def _registry_unreachable(uri: str, name: str, exc: BaseException) -> TrackingError:
    denied = _access_denied(uri, exc, "nothing was changed")
    if denied is not None:
        return denied
    store = local_store_path(uri)
    return TrackingError(
        f"The MLflow registry at {uri} could not be read for {name}",
        f"{type(exc).__name__}: {first_line(getattr(exc, 'reason', None) or exc)}; nothing was changed",
        "start the tracking server or correct the URI"
        if store is None
        else f"check that {store} is the project's MLflow store and you can write it",
    )


@dataclass(frozen=True)
class InputColumn:
    name: str
    type: str  # MLflow's type name: double, long, string, boolean, ...
    required: bool


def load_sklearn_model(uri: str, source: str) -> tuple[Any, list[InputColumn] | None]:
    """The scikit-learn estimator a version's ``source`` holds, and its input signature (None without one).

    ``uri`` is the tracking URI: a server's artifacts (``mlflow-artifacts:/``) are fetched through it.
    """
    import tempfile
    import warnings

    import mlflow.artifacts
    import mlflow.sklearn
    from mlflow.models import Model

    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="omgml-load-") as tmp:
        warnings.simplefilter("ignore")  # MLflow's notes on versions and pickles: nothing a user can act on here
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=tmp, tracking_uri=uri)
            metadata = Model.load(local)
            estimator = mlflow.sklearn.load_model(local)
        except Exception as exc:
            denied = _access_denied(uri, exc, f"the model at {source} could not be loaded")
            if denied is not None:
                raise denied from exc
            store = "the store (mlruns/)" if local_store_path(uri) is not None else "the server's artifact store"
            raise TrackingError(
                f"The model at {source} could not be loaded",
                f"{type(exc).__name__}: {first_line(exc)}",
                f"check its artifacts are still in {store} and this environment has the libraries it was saved with",
            ) from exc
    schema = metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return estimator, None
    columns = [
        InputColumn(spec.name, getattr(spec.type, "name", str(spec.type)), bool(getattr(spec, "required", True)))
        for spec in schema.inputs
    ]
    return estimator, columns
