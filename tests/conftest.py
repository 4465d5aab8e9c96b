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


# The longest files (1-3 minutes each), started first under xdist (`make test` runs `-n 2 --dist loadfile`: each
# file on one worker, so module fixtures are built once), so that no worker is left alone with one at the end.
LONGEST = (
    "test_mcp.py",
    "test_wheel.py",
    "test_scaffold_hostile.py",
    "test_tracking_hardening.py",
    "test_real_data.py",
)


def pytest_collection_modifyitems(items):
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker sorts alike: xdist checks their collections agree
        items.sort(key=lambda item: item.path.name not in LONGEST)


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


# Sections of figures for the end of the run, in CI logs (tests/test_html_reports.py adds report sizes). Under
# xdist each worker sends its own at the end and the controller prints them all.
SUMMARY: dict[str, list[str]] = {}


def summary_line(section: str, line: str) -> None:
    SUMMARY.setdefault(section, []).append(line)


def _figures() -> dict[str, list[str]]:
    """SUMMARY, with the real-data corpus counts (tests/test_real_data.py) and the fuzzing suite's
    (tests/test_fuzz.py) when they ran here."""
    from tests import realdata

    sections = {section: list(lines) for section, lines in SUMMARY.items()}
    if realdata.LAST_RUN:
        sections["real-data corpus"] = [tally.summary() for tally in realdata.LAST_RUN.values()]
    fuzzing = sys.modules.get("tests.fuzzing")  # only when the fuzzing suite ran: it imports hypothesis
    if fuzzing is not None and fuzzing.LAST_RUN:
        sections["fuzzing"] = [tally.summary() for tally in fuzzing.LAST_RUN]
    return sections


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # an xdist worker: the figures go to the controller
        session.config.workeroutput["omgml_figures"] = _figures()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for section, lines in getattr(node, "workeroutput", {}).get("omgml_figures", {}).items():
        SUMMARY.setdefault(section, []).extend(lines)


def pytest_terminal_summary(terminalreporter):
    for section, lines in _figures().items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
