"""CLI command for data validation: ``omgml validate``.

Exit codes: 0 when no finding is an error, 1 when some are (so it gates a pipeline), 2 when
the input cannot be used (raised as OmgmlError, mapped to exit 2 by ``omgml.cli.main``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.args import EngineChoice, ProjectDir
from omgml.cli._common import HtmlCopy, HtmlOption, JsonFlag, ReplaceHtmlFlag, argument, emit, option, with_progress
from omgml.validation.models import (
    AgainstTable,
    ContractRef,
    DataTable,
    Delimiter,
    Encoding,
    KeyColumns,
    LabelColumn,
    ReplaceContract,
    SaveContract,
)


def validate(
    data: Annotated[str, argument(DataTable, metavar="DATA")],
    contract: Annotated[str | None, option(ContractRef, "--contract", metavar="NAME|PATH")] = None,
    save_contract: Annotated[str | None, option(SaveContract, "--save-contract", metavar="NAME")] = None,
    replace_contract: Annotated[bool, option(ReplaceContract, "--replace-contract")] = False,
    target: Annotated[str | None, option(LabelColumn, "--target", metavar="COLUMN")] = None,
    key: Annotated[
        list[str] | None, option(KeyColumns, "--key", metavar="COLUMN", note="Repeat --key for each.")
    ] = None,
    against: Annotated[str | None, option(AgainstTable, "--against", metavar="OTHER_DATA")] = None,
    delimiter: Annotated[str | None, option(Delimiter, "--delimiter", note="'\\t' or 'tab' for a tab.")] = None,
    encoding: Annotated[str | None, option(Encoding, "--encoding")] = None,
    engine: Annotated[str | None, option(EngineChoice, "--engine")] = None,
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
    as_json: JsonFlag = False,
    html: HtmlOption = None,
    replace_html: ReplaceHtmlFlag = False,
) -> None:
    """Check a table is fit to train on; exit 1 when a finding is an error."""
    from omgml.validation.service import validate_data

    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    request = {
        "project_dir": str(project_dir),
        "data": data,
        "contract": contract,
        "save_contract": save_contract,
        "replace_contract": replace_contract,
        "target": target,
        "keys": key or [],
        "against": against,
        "delimiter": delimiter,
        "encoding": encoding,
        "engine": engine,
    }
    html_copy = HtmlCopy.of(html, replace_html, as_json)
    report = with_progress(validate_data, request)
    emit(report, as_json, project_dir, html_copy)
    if not report.passed:
        raise typer.Exit(1)
