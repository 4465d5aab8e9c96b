"""The libraries the tools use, imported once per server in the background, from a client's first listing or call.

A baseline in a fresh process spends most of its seconds importing scikit-learn, MLflow, skops and pandas; a
server pays that once, while the agent reads its first answers, so the first call finds them loaded. The server
still starts fast and an idle one stays small: nothing heavy is imported before a client lists the tools or
calls one (``OmgmlServer.warm_up``, on stdio and HTTP alike).

Tool calls and the warm-up take turns (``_Gate``): never two threads importing the same packages at once.
``OMGML_PRELOAD=0`` turns it off (a server that is only listed, a machine short of memory: a warm server holds
about 290 MB more).
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

logger = logging.getLogger(__name__)

# What the tools import inside their calls. tests/test_preload.py fails when a tool's call still imports modules of
# these packages after the warm-up (MLflow's per-version schema modules aside).
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


class _Gate:
    """Tool calls share it; the warm-up takes it alone, one module at a time.

    Two threads importing the same packages at once can deadlock on their module locks or see a module half
    made, so the warm-up never imports while a call runs: a call waits at most for the module being imported,
    and the warm-up goes on only when no call runs or waits. A call that comes before the warm-up has reached
    what it needs imports that itself, as without a warm-up. (Prompts, outside the gate, import yaml and
    omgml.render on the event loop on first use; at worst that waits for the warm-up's import of the same
    module: none of these imports back what is importing it, so the two threads never wait on each other.)
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._calls = 0  # running or waiting for their turn
        self._importing = False

    def enter_call(self) -> None:
        with self._changed:
            self._calls += 1
            self._changed.wait_for(lambda: not self._importing)

    def leave_call(self) -> None:
        with self._changed:
            self._calls -= 1
            self._changed.notify_all()

    @contextmanager
    def importing(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._calls)
            self._importing = True
        try:
            yield
        finally:
            with self._changed:
                self._importing = False
                self._changed.notify_all()


gate = _Gate()


@asynccontextmanager
async def call_turn() -> AsyncIterator[None]:
    """A tool call's turn: the warm-up pauses (after the module it is importing) until the call is over."""
    import anyio.to_thread

    entered = []  # set in the worker thread: a cancelled wait still ends after enter_call returns

    def enter() -> None:
        gate.enter_call()
        entered.append(True)

    try:
        await anyio.to_thread.run_sync(enter)
        yield
    finally:
        if entered:
            gate.leave_call()


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
    """Return when the warm-up is over (at once when there is none): for tests and benchmarks."""
    thread = _thread
    if thread is not None:
        thread.join()


def _warm() -> None:
    for name in MODULES:
        with gate.importing():
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 -- an optional or broken package: the call that needs it says so
                logger.debug("preloading %s failed: %s", name, exc)
    with gate.importing():
        try:  # Pillow imports its file formats' plugins on the first save
            from PIL import Image

            Image.preinit()
        except Exception as exc:  # noqa: BLE001 -- only slower: the first picture does it
            logger.debug("preloading Pillow's formats failed: %s", exc)
