"""omgml: computed, repeatable answers for building ML systems with AI coding agents.

The Python API is the service functions and their request and result models; the CLI
(``omgml``) and the MCP server (``omgml-mcp``) are thin faces over the same functions.
Heavy libraries load inside the functions that need them, so importing omgml is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omgml._version import __version__

_API = {
    "init_project": "omgml.project.init",
    "project_status": "omgml.project.status",
    "InitRequest": "omgml.project.models",
    "InitResult": "omgml.project.models",
    "StatusRequest": "omgml.project.models",
    "StatusReport": "omgml.project.models",
    "load_report": "omgml.project.reports",
    "show_report": "omgml.project.reports",
    "validate_data": "omgml.validation.service",
    "ValidateDataRequest": "omgml.validation.models",
    "ValidationReport": "omgml.validation.models",
    "Finding": "omgml.validation.models",
    "check_drift": "omgml.drift.service",
    "DriftRequest": "omgml.drift.models",
    "DriftReport": "omgml.drift.models",
    "train_baseline": "omgml.baseline.service",
    "TrainBaselineRequest": "omgml.baseline.models",
    "BaselineReport": "omgml.baseline.models",
    "OmgmlError": "omgml.errors",
    "monitor_batch": "omgml.monitor.service",
    "MonitorBatchRequest": "omgml.monitor.models",
    "MonitorReport": "omgml.monitor.models",
    "compare_models": "omgml.registry.service",
    "promote_model": "omgml.registry.service",
    "rollback_model": "omgml.registry.service",
    "CompareModelsRequest": "omgml.registry.models",
    "CompareReport": "omgml.registry.models",
    "PromoteModelRequest": "omgml.registry.models",
    "PromoteResult": "omgml.registry.models",
    "RollbackModelRequest": "omgml.registry.models",
    "RollbackResult": "omgml.registry.models",
}
__all__ = [  # spelled out (not built from _API) so type checkers and linters see the names
    "BaselineReport",
    "CompareModelsRequest",
    "CompareReport",
    "DriftReport",
    "DriftRequest",
    "Finding",
    "InitRequest",
    "InitResult",
    "MonitorBatchRequest",
    "MonitorReport",
    "OmgmlError",
    "PromoteModelRequest",
    "PromoteResult",
    "RollbackModelRequest",
    "RollbackResult",
    "StatusReport",
    "StatusRequest",
    "TrainBaselineRequest",
    "ValidateDataRequest",
    "ValidationReport",
    "__version__",
    "check_drift",
    "compare_models",
    "init_project",
    "load_report",
    "monitor_batch",
    "project_status",
    "promote_model",
    "rollback_model",
    "show_report",
    "train_baseline",
    "validate_data",
]

if TYPE_CHECKING:
    from omgml.baseline.models import BaselineReport, TrainBaselineRequest
    from omgml.baseline.service import train_baseline
    from omgml.drift.models import DriftReport, DriftRequest
    from omgml.drift.service import check_drift
    from omgml.errors import OmgmlError
    from omgml.monitor.models import MonitorBatchRequest, MonitorReport
    from omgml.monitor.service import monitor_batch
    from omgml.project.init import init_project
    from omgml.project.models import InitRequest, InitResult, StatusReport, StatusRequest
    from omgml.project.reports import load_report, show_report
    from omgml.project.status import project_status
    from omgml.registry.models import (
        CompareModelsRequest,
        CompareReport,
        PromoteModelRequest,
        PromoteResult,
        RollbackModelRequest,
        RollbackResult,
    )
    from omgml.registry.service import compare_models, promote_model, rollback_model
    from omgml.validation.models import Finding, ValidateDataRequest, ValidationReport
    from omgml.validation.service import validate_data


def __getattr__(name: str) -> Any:
    # Lazy, so `import omgml` (and the server that imports its version) stays fast.
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'omgml' has no attribute {name!r}")
