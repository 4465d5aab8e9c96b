"""CLI command for data validation: ``omgml validate``.

Exit codes: 0 when no finding is an error, 1 when some are (so it gates a pipeline), 2 when
the input cannot be used (raised as OmgmlError, mapped to exit 2 by ``omgml.cli.main``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.cli._common import JsonFlag, emit


def validate(
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="Table to check (csv, tsv, parquet, jsonl), relative to the project.")
    ],
    contract: Annotated[
        str | None,
        typer.Option(
            "--contract",
            metavar="NAME|PATH",
            help="Check against a contract: a NAME in .omgml/contracts/ or a .json PATH.",
        ),
    ] = None,
    save_contract: Annotated[
        str | None,
        typer.Option(
            "--save-contract",
            metavar="NAME",
            help="Infer a contract from this data and save it as .omgml/contracts/NAME.json.",
        ),
    ] = None,
    replace_contract: Annotated[
        bool, typer.Option("--replace-contract", help="Let --save-contract overwrite an existing contract.")
    ] = False,
    target: Annotated[
        str | None,
        typer.Option("--target", metavar="COLUMN", help="The label column (default: the project's target)."),
    ] = None,
    key: Annotated[
        list[str] | None, typer.Option("--key", metavar="COLUMN", help="A key column; repeat for a composite key.")
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(
            "--against", metavar="OTHER_DATA", help="Another table (e.g. the test set) whose rows must not be in DATA."
        ),
    ] = None,
    delimiter: Annotated[str | None, typer.Option("--delimiter", help="csv delimiter (default: sniffed).")] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help="Text encoding (default: sniffed).")] = None,
    project_dir: Annotated[Path, typer.Option("--project-dir", help="The project folder.")] = Path("."),
    as_json: JsonFlag = False,
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
    }
    report = validate_data(request)
    emit(report, as_json, project_dir)
    if not report.passed:
        raise typer.Exit(1)
