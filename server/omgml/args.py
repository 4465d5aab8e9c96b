"""Argument types more than one capability shares, declared once (as MLflow's ``mcp/tools/_args.py``).

A capability's own arguments live in its ``models.py``. The request model, the MCP tool's signature and the
CLI's help all use these aliases, so a description or a bound is written in one place (``tests/test_faces.py``).
Light on purpose: the faces import it at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field

from omgml.config import METRICS, TASKS, Engine

PATH_MAX = 4096  # a file path, as PATH_MAX on Linux
COLUMN_MAX = 256  # a column name


def one_of(names: Iterable[str]) -> str:
    """``a, b or c``: a list of choices for a description, taken from a registry."""
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


TASK_CHOICES = one_of(TASKS)


METRIC_CHOICES = ", ".join(METRICS)  # a wrong metric for the task is refused with the task's own list

ProjectDir = Annotated[
    str,
    Field(
        max_length=PATH_MAX,
        description="Project folder in the workspace root.",
    ),
]
DryRun = Annotated[bool, Field(description="Report what would be written; write nothing.")]
EngineChoice = Annotated[
    Engine | None,
    Field(description="Where to compute: local (this process) or spark ([spark] master); default: [data] engine."),
]
