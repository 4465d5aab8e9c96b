"""Argument types shared by the tools, written once."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

ProjectDir = Annotated[
    str,
    Field(
        description="Project folder, relative to the workspace root (OMGML_PROJECT_DIR, the client's root, or the "
        "server's working directory). Paths outside that root are refused.",
        max_length=4096,
    ),
]
