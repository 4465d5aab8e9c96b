"""Baselines: task inference, candidates, cross-validation and MLflow logging behind ``train_baseline``.

Importing this package is cheap: the service (and scikit-learn, pandas, MLflow) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["BaselineReport", "TrainBaselineRequest", "train_baseline"]

if TYPE_CHECKING:
    from omgml.baseline.models import BaselineReport, TrainBaselineRequest
    from omgml.baseline.service import train_baseline


def __getattr__(name: str) -> Any:
    if name == "train_baseline":
        from omgml.baseline.service import train_baseline

        return train_baseline
    if name in ("TrainBaselineRequest", "BaselineReport"):
        from omgml.baseline import models

        return getattr(models, name)
    raise AttributeError(f"module 'omgml.baseline' has no attribute {name!r}")
