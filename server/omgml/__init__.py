"""omgml: computed, repeatable answers for building ML systems with AI coding agents.

The Python API is the service functions and their request and result models; the CLI
(``omgml``) and the MCP server (``omgml-mcp``) are thin faces over the same functions.
Heavy libraries load inside the functions that need them, so importing omgml is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    "init_project": "omgml.project.init",
    "project_status": "omgml.project.status",
    "InitRequest": "omgml.project.models",
    "InitResult": "omgml.project.models",
    "StatusRequest": "omgml.project.models",
    "StatusReport": "omgml.project.models",
    "OmgmlError": "omgml.errors",
}
__all__ = ["__version__", *_API]

if TYPE_CHECKING:
    from omgml.errors import OmgmlError
    from omgml.project.init import init_project
    from omgml.project.models import InitRequest, InitResult, StatusReport, StatusRequest
    from omgml.project.status import project_status


def __getattr__(name: str) -> Any:
    # Lazy, so `import omgml` (and the server that imports its version) stays fast.
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'omgml' has no attribute {name!r}")
