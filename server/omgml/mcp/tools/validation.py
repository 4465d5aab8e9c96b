"""MCP tool for data validation: ``omgml_validate_data``.

The function's name is the tool name, its docstring's first line the description, its
annotated parameters the input schema, and ``ValidationReport`` the output schema.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from omgml.args import EngineChoice, ProjectDir
from omgml.mcp._common import ToolSpec, call_service, request_of
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
    ValidateDataRequest,
    ValidationReport,
)


async def omgml_validate_data(
    data: DataTable,
    project_dir: ProjectDir = ".",
    contract: ContractRef = None,
    save_contract: SaveContract = None,
    replace_contract: ReplaceContract = False,
    target: LabelColumn = None,
    keys: KeyColumns = [],  # noqa: B006 - pydantic copies the default per call
    against: AgainstTable = None,
    delimiter: Delimiter = None,
    encoding: Encoding = None,
    engine: EngineChoice = None,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, ValidationReport]:
    """Check a table is fit to train on: schema, nulls, duplicates, leakage, overlap."""
    from omgml.validation.service import validate_data

    return await call_service(validate_data, request_of(ValidateDataRequest, locals()), ctx)


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(omgml_validate_data, "Validate a dataset", read_only=False, destructive=False, idempotent=False),
)
