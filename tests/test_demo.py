"""``make demo`` end to end: every tool call the scripted agent makes succeeds and says what it should."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_session_runs_every_tool_over_stdio():
    done = subprocess.run(
        [sys.executable, "-m", "omgml.demo"], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    calls = [line for line in out.splitlines() if line.startswith(">>> agent calls")]
    assert [c.split("(")[0].split()[-1] for c in calls] == [
        "omgml_init",
        "omgml_validate_data",
        "omgml_validate_data",
        "omgml_train_baseline",
        "omgml_check_drift",
        "omgml_status",
    ]
    assert out.count("<<< ok") == len(calls) and "<<< ERROR" not in out
    assert "## omgml validate: PASSED" in out and "## omgml validate: FAILED" in out
    assert "| ERROR | target_nulls | diagnosis | 3 |" in out
    assert "registered cancer-screening-model v1 (@baseline, @champion)" in out
    for shifted in ("| mean radius |", "| mean texture |", "| worst area |"):
        assert shifted in out.split("Drifted features")[1].split("did not drift")[0]
    assert "Cancer Screening: 5/8 lifecycle stages done" in out  # deployment waits for a serving app
