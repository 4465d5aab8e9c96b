"""MCP tool for data validation: ``omgml_validate_data``.

The function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and ``ValidationReport`` the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from omgml.mcp._args import ProjectDir
from omgml.mcp._common import ToolSpec, call_service
from omgml.validation.models import CONTRACT_NAME_PATTERN, ValidationReport


async def omgml_validate_data(
    data: Annotated[
        str,
        Field(
            min_length=1,
            max_length=4096,
            description="Table to check, inside the project: csv, tsv, parquet or jsonl, e.g. data/raw/train.csv.",
        ),
    ],
    project_dir: ProjectDir = ".",
    contract: Annotated[
        str | None,
        Field(
            max_length=4096,
            description="Contract to check against: a name saved in .omgml/contracts/ (e.g. 'train') or a path to "
            "a contract .json. Empty: only the checks that need no contract run.",
        ),
    ] = None,
    save_contract: Annotated[
        str | None,
        Field(
            pattern=CONTRACT_NAME_PATTERN,
            description="Infer a contract from this data (use data you trust) and save it as .omgml/contracts/NAME.json.",
        ),
    ] = None,
    replace_contract: Annotated[
        bool, Field(description="Allow save_contract to overwrite an existing contract of that name.")
    ] = False,
    target: Annotated[
        str | None,
        Field(
            max_length=256,
            description="Label column (enables target_nulls, class_imbalance, label_conflict, "
            "target_leakage). Empty: the contract's or omgml.toml's target when the data has it.",
        ),
    ] = None,
    keys: Annotated[
        list[str],
        Field(max_length=32, description="Columns that together identify a row; repeated keys are errors."),
    ] = [],  # noqa: B006 - pydantic copies the default per call
    against: Annotated[
        str | None,
        Field(
            max_length=4096,
            description="Another table inside the project (e.g. the test set): rows of data also "
            "in it are reported as train_test_overlap.",
        ),
    ] = None,
    delimiter: Annotated[
        str | None, Field(min_length=1, max_length=1, description="csv delimiter; sniffed when empty.")
    ] = None,
    encoding: Annotated[
        str | None, Field(max_length=40, description="Text encoding, e.g. latin-1; sniffed when empty.")
    ] = None,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, ValidationReport]:
    """Check a table for what makes it unfit to train on (schema, nulls, duplicates, invalid values, leakage, overlap)."""
    from omgml.validation.service import validate_data

    # A dict: the service validates it, so a bad value comes back as a readable tool error.
    request = {
        "project_dir": project_dir,
        "data": data,
        "contract": contract,
        "save_contract": save_contract,
        "replace_contract": replace_contract,
        "target": target,
        "keys": keys,
        "against": against,
        "delimiter": delimiter,
        "encoding": encoding,
    }
    return await call_service(validate_data, request, ctx)


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(omgml_validate_data, "Validate a dataset", read_only=False, destructive=False, idempotent=False),
)
