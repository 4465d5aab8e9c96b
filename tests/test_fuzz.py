"""The fuzzing suite: hostile arguments and hostile files, through the real stdio server and the official SDK client.

Every call must come back as a result or a tool error a person can read; the server must neither die nor stall;
stdout carries only protocol; nothing outside the store (``.omgml/``, ``mlruns/``, ``mlflow.db``) changes, inside
the workspace or outside it; every JSON omgml saved parses. The counts are printed at the end of the session.
The parts (corpus, strategies, harness, judge) are in tests/fuzzing.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests import fuzzing

# Calls per tool: baseline cross-validates and logs to MLflow, so it gets few (and small ones, see BASELINE_LIMITS).
BUDGET = {"omgml_init": 40, "omgml_status": 40, "omgml_validate_data": 90, "omgml_check_drift": 90}
BASELINE_CALLS = 6


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    (base / "home").mkdir()
    root, outside = fuzzing.build_workspace(base)
    return base, root, outside


def test_every_tool_survives_hostile_arguments_and_files(workspace):
    base, root, outside = workspace
    before, outside_before = fuzzing.snapshot(root), fuzzing.snapshot(outside)
    tally = fuzzing.Tally()
    fuzzing.LAST_RUN[:] = [tally]
    harness = fuzzing.StdioHarness(root, base / "home", base / "server-stderr.log", tally)
    created_by_init: set[str] = set()
    started = time.monotonic()
    harness.start()
    try:
        tools = {tool.name: tool for tool in harness.tools}
        assert set(tools) == {*BUDGET, "omgml_train_baseline"}
        for name, arguments in fuzzing.corpus_calls():
            harness.call(name, arguments)
        for name, calls in [*BUDGET.items(), ("omgml_train_baseline", BASELINE_CALLS)]:
            _fuzz(harness, tools[name], calls, created_by_init)()
    finally:
        harness.stop()
        tally.seconds = time.monotonic() - started
    for problem in fuzzing.damage(before, fuzzing.snapshot(root), created_by_init):
        tally.failures.append(fuzzing.Failure("file changed outside the store", "(after the run)", {}, problem))
    for problem in fuzzing.damage(outside_before, fuzzing.snapshot(outside), set()):
        tally.failures.append(fuzzing.Failure("file written outside the root", "(after the run)", {}, problem))
    planted = {rel: before[rel] for rel in (f"{fuzzing.MAIN}/{name}" for name in fuzzing.STORE_FILES)}
    for problem in fuzzing.unparsable_store_json(root, planted):
        tally.failures.append(fuzzing.Failure("saved JSON does not parse", "(after the run)", {}, problem))
    if os.environ.get("OMGML_FUZZ_OUTCOMES"):  # where each tool's calls ended, to tune the strategies
        lines = (f"{n:4d} {tool} {gist}" for (tool, gist), n in tally.outcomes.most_common())
        failures = (failure.line() for failure in tally.failures)
        Path(os.environ["OMGML_FUZZ_OUTCOMES"]).write_text("\n".join([*failures, *lines]) + "\n")
    assert sum(tally.calls.values()) == sum(BUDGET.values()) + BASELINE_CALLS + len(fuzzing.corpus_calls())
    assert not tally.failures, tally.summary()


def _fuzz(harness: fuzzing.StdioHarness, tool, calls: int, created_by_init: set[str]):
    """A hypothesis test of one tool: ``calls`` examples, generated only (no shrinking: a failure is recorded, not
    raised, so every call counts once and the run's length is fixed), from a fixed seed."""

    @settings(
        max_examples=calls,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(fuzzing.arguments_for(tool))
    def run(arguments):
        result = harness.call(tool.name, arguments)
        if tool.name == "omgml_init" and result is not None and not result.is_error:  # what init may create
            made = result.structured_content
            folder = os.path.relpath(made["project_dir"], harness.root)
            created_by_init.update(os.path.normpath(os.path.join(folder, rel)) for rel in made["created"])

    return run
