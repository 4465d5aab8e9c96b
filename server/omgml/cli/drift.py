"""CLI command for the drift capability: ``omgml drift REFERENCE CURRENT``.

Exit codes: 0 no dataset drift, 1 dataset drift found, 2 input that cannot be compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.cli._common import JsonFlag, emit


def drift(
    reference: Annotated[str, typer.Argument(help="Reference data file, or the name of a saved reference profile.")],
    current: Annotated[
        str | None, typer.Argument(help="Data file to check (omit it with --save-reference to only save a profile).")
    ] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option("--columns", help="Compare only these columns (repeat, or separate with commas)."),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column: checked and shown first.")] = None,
    prediction: Annotated[str | None, typer.Option(help="Prediction column: checked and shown first.")] = None,
    test: Annotated[
        list[str] | None, typer.Option("--test", help="COLUMN=TEST: force a stat test for a column (repeatable).")
    ] = None,
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", help="TEST=VALUE: override a test's threshold (repeatable).")
    ] = None,
    drift_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of drifted features that makes the dataset drifted.")
    ] = 0.5,
    save_reference: Annotated[
        str | None, typer.Option("--save-reference", help="Save the reference's profile as NAME for later checks.")
    ] = None,
    time_column: Annotated[str | None, typer.Option("--time-column", help="Time column: compare each window.")] = None,
    window: Annotated[str | None, typer.Option(help="Window length with --time-column: 1h, 1D, 7D, 1W...")] = None,
    project_dir: Annotated[
        Path, typer.Option("--project-dir", help="Project folder; file paths are relative to it.")
    ] = Path("."),
    as_json: JsonFlag = False,
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
        "time_column": time_column,
        "window": window,
    }
    report = check_drift(request)
    emit(report, as_json, project_dir)
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
