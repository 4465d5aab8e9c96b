"""Shared fixtures. Threads are pinned so timings stay steady on a 2-core, busy machine."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's MLflow server or project root."""
    for var in ("MLFLOW_TRACKING_URI", "OMGML_PROJECT_DIR", "CLAUDE_PROJECT_DIR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def new_project(tmp_path):
    """A freshly scaffolded binary-classification project."""
    from omgml import init_project

    init_project({"project_dir": str(tmp_path / "proj"), "name": "Churn Model", "task": "binary", "target": "churned"})
    return tmp_path / "proj"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``omgml`` console script the way a person would."""
    return subprocess.run(
        [str(VENV_BIN / "omgml"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def cli_in_process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``omgml.cli.main`` in this process, with run_cli's exit code and streams: for tests about what a command
    prints, not about the process (run_cli proves that), so each call costs no Python start-up (~0.5 s of CPU)."""
    from typer.testing import CliRunner

    from omgml.cli import main

    argv, here = sys.argv, Path.cwd()
    code = 0
    with CliRunner().isolation() as (stdout, stderr, _):
        sys.argv = ["omgml", *args]  # what the console script sees: usage errors name `omgml`
        os.chdir(cwd or here)
        try:
            main()
        except SystemExit as done:
            code = done.code
        finally:
            sys.argv = argv
            os.chdir(here)
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return subprocess.CompletedProcess(list(args), code, out, err)


def pytest_terminal_summary(terminalreporter):
    """Print the real-data corpus counts (tests/test_real_data.py) and the fuzzing suite's (tests/test_fuzz.py)
    where CI logs show them."""
    from tests import realdata

    if realdata.LAST_RUN:
        terminalreporter.section("real-data corpus")
        for tally in realdata.LAST_RUN.values():
            terminalreporter.write_line(tally.summary())
    fuzzing = sys.modules.get("tests.fuzzing")  # only when the fuzzing suite ran: it imports hypothesis
    if fuzzing is not None and fuzzing.LAST_RUN:
        terminalreporter.section("fuzzing")
        for tally in fuzzing.LAST_RUN:
            terminalreporter.write_line(tally.summary())
