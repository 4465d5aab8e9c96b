"""How far a long step has got, told to whoever is watching (the MCP client, the CLI's bar) or to no one.

Services call ``advance(step, done, total)`` at their natural loop points (a batch read, a column tested, a
fold scored); a face installs a reporter around the call with ``reporting``. Services know nothing of MCP or
rich, and this module imports nothing: it is on the path of every service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Reporter = Callable[[str, int, "int | None"], None]
"""``report(step, done, total)``: ``done`` of ``total`` units of ``step`` (``total`` None: not known yet)."""

_current: ContextVar[Reporter | None] = ContextVar("omgml_progress", default=None)


def advance(step: str, done: int, total: int | None = None) -> None:
    """Tell the current reporter that ``done`` of ``total`` units of ``step`` are done (nothing when none listens)."""
    reporter = _current.get()
    if reporter is not None:
        reporter(step, done, total)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send this thread's (context's) ``advance`` calls to ``reporter`` while the block runs."""
    token = _current.set(reporter)
    try:
        yield
    finally:
        _current.reset(token)
