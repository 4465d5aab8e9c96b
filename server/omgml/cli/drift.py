"""CLI command for the drift capability: ``omgml drift REFERENCE CURRENT``.

Exit codes: 0 no dataset drift, 1 dataset drift found, 2 input that cannot be compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.args import EngineChoice, ProjectDir
from omgml.cli._common import HtmlCopy, HtmlOption, JsonFlag, ReplaceHtmlFlag, argument, emit, option, with_progress
from omgml.drift.models import (
    Columns,
    Current,
    DriftShare,
    DriftTarget,
    Prediction,
    Reference,
    ReplaceReference,
    SaveReference,
    Tests,
    Thresholds,
    TimeColumn,
    Window,
)


def drift(
    reference: Annotated[str, argument(Reference)],
    current: Annotated[str | None, argument(Current)] = None,
    columns: Annotated[list[str] | None, option(Columns, "--columns", note="Repeat, or separate with commas.")] = None,
    target: Annotated[str | None, option(DriftTarget)] = None,
    prediction: Annotated[str | None, option(Prediction)] = None,
    test: Annotated[list[str] | None, option(Tests, "--test", note="As COLUMN=TEST; repeatable.")] = None,
    threshold: Annotated[list[str] | None, option(Thresholds, "--threshold", note="As TEST=VALUE; repeatable.")] = None,
    drift_share: Annotated[float, option(DriftShare)] = 0.5,
    save_reference: Annotated[str | None, option(SaveReference, "--save-reference")] = None,
    replace_reference: Annotated[bool, option(ReplaceReference, "--replace-reference")] = False,
    time_column: Annotated[str | None, option(TimeColumn, "--time-column")] = None,
    window: Annotated[str | None, option(Window)] = None,
    engine: Annotated[str | None, option(EngineChoice)] = None,
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
    as_json: JsonFlag = False,
    html: HtmlOption = None,
    replace_html: ReplaceHtmlFlag = False,
) -> None:
    """Check whether CURRENT drifted from REFERENCE: the right test per column, effect size first."""
    from omgml.drift.service import check_drift

    request = {
        "project_dir": str(project_dir),
        "reference": reference,
        "current": current,
        "columns": [c.strip() for item in columns for c in item.split(",") if c.strip()] if columns else None,
        "target": target,
        "prediction": prediction,
        "tests": _pairs(test or [], "--test", "COLUMN=TEST", str),
        "thresholds": _pairs(threshold or [], "--threshold", "TEST=VALUE", float),
        "drift_share": drift_share,
        "save_reference": save_reference,
        "replace_reference": replace_reference,
        "time_column": time_column,
        "window": window,
        "engine": engine,
    }
    html_copy = HtmlCopy.of(html, replace_html, as_json)
    report = with_progress(check_drift, request)
    emit(report, as_json, project_dir, html_copy)
    if report.drifted:
        raise typer.Exit(code=1)


def _pairs(items: list[str], flag: str, form: str, convert) -> dict:
    from omgml.errors import InvalidInput

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(
                f"{flag} '{item}' is not {form}",
                f"{flag} takes a name and a value joined by '='",
                f"write it as {flag} {form}",
            )
        try:
            out[key.strip()] = convert(value.strip())
        except ValueError as exc:
            raise InvalidInput(
                f"{flag} '{item}': '{value}' is not a number", f"{flag} takes {form}", f"write it as {flag} {form}"
            ) from exc
    return out
