"""Progress on long steps: MCP progress notifications and log messages, and the CLI's bar on stderr."""

from __future__ import annotations

import io

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning

from omgml import progress
from omgml.mcp.server import build_server
from tests.test_mcp import SCENARIOS, write_scenario_data

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    write_scenario_data(tmp_path)
    return tmp_path


class Counted:
    """A progress callback that keeps every notification."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float | None, str | None]] = []

    async def __call__(self, value: float, total: float | None, message: str | None) -> None:
        self.seen.append((value, total, message))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize("tool", ["omgml_train_baseline", "omgml_check_drift"])
async def test_long_tools_send_progress_that_only_grows_and_ends_full(root, mode, tool):
    counted = Counted()
    async with Client(build_server(), mode=mode) as client:
        await client.call_tool("omgml_init", SCENARIOS["omgml_init"])  # the baseline reads its target there
        result = await client.call_tool(tool, SCENARIOS[tool], progress_callback=counted)
    assert result.is_error is False, result.content
    assert counted.seen, "no progress notification"
    values = [value for value, _, _ in counted.seen]
    assert values == sorted(set(values)), values  # strictly increasing, as the spec requires per token
    last_value, last_total, last_message = counted.seen[-1]
    assert last_value == last_total, counted.seen[-1]
    step = "cross-validation folds" if tool == "omgml_train_baseline" else "columns tested"
    assert last_message.startswith(step), last_message
    if tool == "omgml_train_baseline":  # cv=3, the linear candidate and the dummy reference: 6 folds
        assert last_message == "cross-validation folds: 6 of 6"


async def test_no_progress_token_no_notifications(root):
    notes = []

    async def handler(message) -> None:
        notes.append(message)

    async with Client(build_server(), mode="legacy", message_handler=handler) as client:
        result = await client.call_tool("omgml_check_drift", SCENARIOS["omgml_check_drift"])
    assert result.is_error is False
    methods = [getattr(n, "method", None) for n in notes]
    assert "notifications/message" in methods, methods  # the handler sees notifications: the step logs came
    assert "notifications/progress" not in methods, methods


@pytest.mark.parametrize(("level", "expected"), [("info", True), ("error", False)])
async def test_set_level_then_steps_log_at_info(root, level, expected):
    logs = []

    async def logged(params) -> None:
        logs.append(params)

    async with Client(build_server(), mode="legacy", logging_callback=logged) as client:
        assert client.server_capabilities.logging is not None
        with pytest.warns(MCPDeprecationWarning):  # the SDK marks logging deprecated in 2026-07-28
            await client.set_logging_level(level)
        result = await client.call_tool("omgml_check_drift", SCENARIOS["omgml_check_drift"])
    assert result.is_error is False
    texts = [str(p.data) for p in logs]
    assert bool(texts) is expected, texts
    if expected:
        assert all(p.level == "info" and p.logger == "omgml" for p in logs)
        assert any(t.startswith("columns tested: started") for t in texts), texts
        assert any(t.startswith("columns tested: ") and " done in " in t for t in texts), texts


def test_advance_without_a_reporter_does_nothing_and_reporting_nests():
    calls = []
    progress.advance("nobody listens", 1, 2)
    with progress.reporting(lambda *a: calls.append(("outer", *a))):
        with progress.reporting(lambda *a: calls.append(("inner", *a))):
            progress.advance("s", 1, 2)
        progress.advance("s", 2, 2)
    progress.advance("s", 3, 3)
    assert calls == [("inner", "s", 1, 2), ("outer", "s", 2, 2)]


def test_cli_bar_stays_silent_for_quick_work_and_shows_after_a_second(monkeypatch):
    from rich.console import Console

    from omgml.cli import _common

    clock = [100.0]
    monkeypatch.setattr(_common.time, "monotonic", lambda: clock[0])
    quiet = io.StringIO()
    with _common.progress_bar(Console(file=quiet, force_terminal=True, width=80)) as report:
        report("rows of a.csv", 10, 100)
        clock[0] += 0.5
        report("rows of a.csv", 100, 100)
    assert quiet.getvalue() == ""

    shown = io.StringIO()
    with _common.progress_bar(Console(file=shown, force_terminal=True, width=80)) as report:
        report("rows of a.csv", 10, 100)
        clock[0] += 1.5
        report("rows of b.csv", 70, None)  # a csv's length is not known up front
        report("cross-validation folds", 3, 6)
        report("cross-validation folds", 6, 6)
    text = shown.getvalue()
    assert "cross-validation folds" in text and "6/6" in text, text
    assert "70/70" in text, text  # the next step began: the csv's rows are all read
