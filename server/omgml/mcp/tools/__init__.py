"""Every MCP tool, in the order clients list them. Adding a capability adds its module's SPECS here."""

from omgml.mcp._common import ToolSpec
from omgml.mcp.tools import baseline, drift, monitor, project, registry, validation

TOOLS: tuple[ToolSpec, ...] = (
    *project.SPECS,
    *validation.SPECS,
    *drift.SPECS,
    *baseline.SPECS,
    *registry.SPECS,
    *monitor.SPECS,
)
