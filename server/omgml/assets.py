"""Find the folders the wheel ships inside the package (templates, prompts, skills).

In a source checkout they live at the repository root instead, beside ``server/``;
the wheel force-includes them into ``omgml/`` so an installed omgml needs no checkout.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def asset_dir(name: str) -> Path:
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"omgml is installed without its '{name}' folder; reinstall omgml")
