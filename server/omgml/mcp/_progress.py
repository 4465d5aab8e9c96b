"""A service's ``omgml.progress`` steps, told to the MCP client: progress notifications and log messages."""

from __future__ import annotations

import threading
import time
from typing import Any, get_args

import anyio.from_thread
import anyio.lowlevel
from mcp.types import LoggingLevel

LEVELS: tuple[str, ...] = get_args(LoggingLevel)  # severity-ascending, the spec's order
LEVEL_KEY = "omgml.log_level"  # in the connection's state: the level the client set with logging/setLevel
STEP_LEVEL = "info"  # what a step's start and end are logged at
MIN_INTERVAL = 0.1  # at most ~10 progress notifications a second: a batch or a fold can take milliseconds


def log_level(ctx: Any) -> str:
    """The lowest level the client asked for on this connection (``info`` until it says otherwise)."""
    connection = getattr(getattr(ctx, "session", None), "_connection", None)  # the SDK keeps per-connection state there
    return getattr(connection, "state", {}).get(LEVEL_KEY, STEP_LEVEL)


def set_log_level(ctx: Any, level: str) -> None:
    connection = getattr(getattr(ctx, "session", None), "_connection", None)
    if connection is not None:
        connection.state[LEVEL_KEY] = level


class ClientReporter:
    """An ``omgml.progress`` reporter, called from the service's threads, that tells the client from the event loop.

    Progress must only grow for one token, yet each step counts from 0: a step's count is added to what the steps
    before it reached, so the value the client sees rises across steps and the last step ends at its total. A
    notification goes out at most every ``MIN_INTERVAL`` s, besides a step's first and last. The SDK sends it only
    when the request carried a progress token (each transport knows its own: the in-process one has a callback, not
    a token in ``_meta``), so it is always offered: a hop to the event loop at most ten times a second. Each step's
    start and end are logged (``notifications/message``) when the client's level allows ``info``.
    """

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        ctx.request_context  # noqa: B018 -- raises ValueError outside a request
        self._log = LEVELS.index(STEP_LEVEL) >= LEVELS.index(log_level(ctx))
        self._loop = anyio.lowlevel.current_token()  # the reporter runs in worker threads; sends go to this loop
        self._lock = threading.Lock()  # drift tests columns in a pool: calls can race, sends must stay in order
        self._step: str | None = None
        self._base = self._done = 0
        self._started = self._last = 0.0
        self._sent = -1

    def __call__(self, step: str, done: int, total: int | None) -> None:
        with self._lock:
            first = step != self._step or done < self._done  # a new step, or the same one read again
            if first:
                self._end()
                self._base += self._done
                self._step, self._started = step, time.monotonic()
                self._say(f"{step}: started" + (f", {total:,} in all" if total is not None else ""))
            self._done = done
            now, value = time.monotonic(), self._base + done
            last = total is not None and done >= total
            if value > self._sent and (first or last or now - self._last >= MIN_INTERVAL):
                self._sent, self._last = value, now
                shown = f"{step}: {done:,}" + (f" of {total:,}" if total is not None else "")
                whole = None if total is None else self._base + total
                anyio.from_thread.run(self._ctx.report_progress, value, whole, shown, token=self._loop)

    def finish(self) -> None:
        """Log the last step's end (call from a worker thread, or through ``anyio.to_thread``)."""
        with self._lock:
            self._end()
            self._step = None

    def _end(self) -> None:
        if self._step is not None:
            self._say(f"{self._step}: {self._done:,} done in {time.monotonic() - self._started:.1f} s")

    def _say(self, text: str) -> None:
        if self._log:
            anyio.from_thread.run(_log, self._ctx, text, token=self._loop)


async def _log(ctx: Any, text: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # logging is deprecated in 2026-07-28, but handshake-era clients still use it
        await ctx.log(STEP_LEVEL, text, logger_name="omgml")
