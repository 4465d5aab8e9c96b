"""The scaffold's monitoring layer: ``init`` writes monitor.py and its test, and that test passes."""

from __future__ import annotations

import subprocess
import sys

import pytest

# The generated code imports ``from omgml import check_drift``. Before the package exports it
# (omgml/__init__.py's lazy API table), the subprocess gets the name set from the service module.
RUN_PYTEST = (
    "import sys, omgml\n"
    "if not hasattr(omgml, 'check_drift'):\n"
    "    from omgml.drift.service import check_drift\n"
    "    omgml.check_drift = check_drift\n"
    "import pytest\n"
    "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests/test_monitor.py']))\n"
)


def test_init_writes_the_monitor_step_and_its_test(new_project):
    monitor = (new_project / "src" / "churn_model" / "monitor.py").read_text()
    assert 'REFERENCE = "churn_model"' in monitor and "from churn_model.config import" in monitor
    assert (new_project / "tests" / "test_monitor.py").is_file()


@pytest.mark.slow
def test_the_generated_monitor_test_passes(new_project):
    done = subprocess.run(
        [sys.executable, "-c", RUN_PYTEST],
        cwd=new_project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PYTHONPATH": str(new_project / "src"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_monitor_main_reports_and_exits_with_the_verdict(new_project, capsys, monkeypatch):
    import numpy as np
    import pandas as pd

    import omgml

    if not hasattr(omgml, "check_drift"):
        from omgml.drift.service import check_drift

        monkeypatch.setattr(omgml, "check_drift", check_drift, raising=False)
    monkeypatch.syspath_prepend(str(new_project / "src"))
    from churn_model import monitor

    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=500), "churned": rng.random(500) < 0.2}).to_csv(
        new_project / "data" / "raw" / "train.csv", index=False
    )
    pd.DataFrame({"a": rng.normal(3, 1, 500), "churned": rng.random(500) < 0.2}).to_csv(
        new_project / "data" / "processed" / "today.csv", index=False
    )
    with pytest.raises(SystemExit) as done:
        monitor.main([])
    out = capsys.readouterr().out
    assert done.value.code == 1
    assert out.startswith(
        "Saved the reference profile 'churn_model' from data/raw/train.csv.\nDataset drift: 1 of 1 features drifted"
    )
    assert "  drifted  a: ks " in out  # 500 rows a side: the KS test with the effect gate
    assert "Report: .omgml/reports/drift/" in out
