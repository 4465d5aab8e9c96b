"""Real agent CLIs (Claude Code, opencode) and uv for the tests that connect them to omgml.

npm packages land in the repo's ignored ``.cache/npm/<name>``, uv's cache in ``.cache/uv``: reruns reuse both.
A test skips, printing why, when npm cannot install a CLI (no npm, no network).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CACHE = REPO / ".cache"
UV_CACHE = CACHE / "uv"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def npm_cli(package: str, binary: str) -> Path:
    """The ``binary`` of the npm ``package``, installed once under .cache/npm; skips when npm cannot."""
    prefix = CACHE / "npm" / binary
    path = prefix / "node_modules" / ".bin" / binary
    if not path.exists():
        if shutil.which("npm") is None:
            pytest.skip(f"npm is not on PATH, so {package} cannot be installed")
        done = subprocess.run(
            ["npm", "i", "--prefix", str(prefix), "--no-audit", "--no-fund", package],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not path.exists():
            pytest.skip(f"npm could not install {package}: {(done.stderr or done.stdout)[-500:]}")
    return path


def uvx() -> str:
    """uvx from PATH, or the one the test extras (``uv``) put beside this Python."""
    found = shutil.which("uvx") or str(Path(sys.executable).with_name("uvx"))
    if not Path(found).exists():
        pytest.skip("uvx is missing: pip install uv (it is in omgml's test extras)")
    return found


def isolated_env(home: Path) -> dict[str, str]:
    """A fresh HOME and XDG folders, uv's shared cache, and uvx plus this Python's scripts first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CLAUDE", "ANTHROPIC", "OPENCODE"))}
    folders = {name: home / f".{name.lower()}" for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")}
    folders["XDG_STATE_HOME"] = home / ".state"
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(dict.fromkeys([str(Path(uvx()).parent), env.get("PATH", "")]))
    return {
        **env,
        **{k: str(v) for k, v in folders.items()},
        "HOME": str(home),
        "PATH": path,
        "UV_CACHE_DIR": str(UV_CACHE),
        "UV_SYSTEM_CERTS": "1",
    }


def run(command: list[str | Path], env: dict, cwd: Path, timeout: int = 300) -> str:
    """Run a CLI and return its output without colour codes (these CLIs exit 0 even when a server fails)."""
    done = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False
    )
    return ANSI.sub("", done.stdout + done.stderr)


def plugin_copy(target: Path) -> Path:
    """What a marketplace clone of the repo holds for the plugin and for building omgml (no caches, no .git)."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in (".claude-plugin", "commands", "skills", "prompts", "templates", "server"):
        shutil.copytree(REPO / name, target / name, ignore=skip)
    for name in (".mcp.json", "pyproject.toml", "README.md", "SKILL.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, target / name)
    return target
