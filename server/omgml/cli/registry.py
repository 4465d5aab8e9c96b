"""CLI commands for the registry: ``omgml compare``, ``omgml promote``, ``omgml rollback``.

``compare`` exits 0 when a challenger should be promoted and 1 when the champion is kept (so a script can
gate ``omgml promote`` on it); every command exits 2 on bad input, a refused promotion included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.args import ProjectDir
from omgml.cli._common import HtmlCopy, HtmlOption, JsonFlag, ReplaceHtmlFlag, argument, emit, option, with_progress
from omgml.registry.models import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Challengers,
    Champion,
    EvaluationTable,
    Force,
    Margin,
    ModelRef,
    Reason,
    Resamples,
    Seed,
)


def compare(
    challenger: Annotated[list[str] | None, option(Challengers, "--challenger", note="Repeat for several.")] = None,
    champion: Annotated[str, option(Champion, "--champion")] = "champion",
    data: Annotated[str | None, option(EvaluationTable, "--data")] = None,
    margin: Annotated[float | None, option(Margin, "--margin")] = None,
    resamples: Annotated[int, option(Resamples, "--resamples")] = DEFAULT_RESAMPLES,
    seed: Annotated[int, option(Seed, "--seed")] = DEFAULT_SEED,
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
    as_json: JsonFlag = False,
    html: HtmlOption = None,
    replace_html: ReplaceHtmlFlag = False,
) -> None:
    """Compare the champion with challengers on held-out rows; exit 1 when the champion is kept."""
    from omgml.registry.service import compare_models

    request = {
        "project_dir": str(project_dir),
        "challengers": challenger or None,
        "champion": champion,
        "data": data,
        "margin": margin,
        "resamples": resamples,
        "seed": seed,
    }
    html_copy = HtmlCopy.of(html, replace_html, as_json)
    report = with_progress(compare_models, request)
    emit(report, as_json, project_dir, html_copy)
    if not report.ok:
        raise typer.Exit(1)


def promote(
    ref: Annotated[str, argument(ModelRef)],
    force: Annotated[bool, option(Force, "--force")] = False,
    reason: Annotated[str | None, option(Reason, "--reason")] = None,
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Make a version @champion on a saved compare decision (or --force --reason); the old one becomes @previous."""
    from omgml.registry.service import promote_model

    request = {"project_dir": str(project_dir), "ref": ref, "force": force, "reason": reason}
    emit(promote_model(request), as_json, project_dir)


def rollback(
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Move @champion back to @previous."""
    from omgml.registry.service import rollback_model

    emit(rollback_model({"project_dir": str(project_dir)}), as_json, project_dir)
