"""The libraries the tools use, imported once per server in the background, from the client's first message.

A baseline in a fresh process spends most of its seconds importing scikit-learn, MLflow, skops and pandas; a
server pays that once, while the agent reads its first answers, so the first call finds them loaded. The server
still starts fast: nothing heavy is imported before a client has connected, and answering the handshake or a
listing takes milliseconds beside the warm-up.

Tool calls wait for the warm-up rather than import alongside it: two threads importing the same packages at
once can deadlock on their module locks. ``OMGML_PRELOAD=0`` turns it off (a server that is only listed, a
machine short of memory: a warm server holds about 290 MB more).
"""

from __future__ import annotations

import importlib
import logging
import os
import threading

logger = logging.getLogger(__name__)

# What the tools import inside their calls. tests/test_preload.py fails when a tool's call still imports modules of
# these packages after the warm-up.
MODULES = (
    "pandas",
    "pyarrow.csv",
    "pyarrow.dataset",
    "pyarrow.parquet",
    "scipy.stats",
    "sklearn.compose",
    "sklearn.dummy",
    "sklearn.ensemble",
    "sklearn.impute",
    "sklearn.inspection",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "skops.io",
    "mlflow",
    "mlflow.models",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.tracking.sqlalchemy_workspace_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_workspace_store",
    "mlflow.tracking",
    "sqlalchemy.dialects.sqlite",
    "alembic.command",  # building the empty store of a new MLflow version
    "alembic.config",
    "PIL.Image",
    "PIL.ImageDraw",
    "PIL.ImageFont",
    "jinja2",
    "omgml.render",
    "omgml.images",
)
WAIT_LIMIT_S = 120.0  # a warm-up stuck past this (a hung file system) no longer holds calls back

_lock = threading.Lock()
_thread: threading.Thread | None = None


def enabled() -> bool:
    return os.environ.get("OMGML_PRELOAD", "1").strip().lower() not in {"0", "false", "no", "off"}


def start() -> None:
    """Begin the warm-up in a daemon thread, once per process; nothing when OMGML_PRELOAD=0."""
    global _thread
    with _lock:
        if _thread is None and enabled():
            _thread = threading.Thread(target=_warm, name="omgml-preload", daemon=True)
            _thread.start()


def wait() -> None:
    """Return when the warm-up is over (at once when there is none)."""
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(WAIT_LIMIT_S)


def _warm() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 -- an optional or broken package: the call that needs it says so
            logger.debug("preloading %s failed: %s", name, exc)
    try:  # SQLAlchemy maps MLflow's tables on the first store (0.2 s); Pillow finds its file formats on a save
        from PIL import Image
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
        Image.preinit()
    except Exception as exc:  # noqa: BLE001 -- only slower: the first store or picture does it
        logger.debug("warming SQLAlchemy's mappers or Pillow's formats failed: %s", exc)
