"""Read-only facts about the git checkout a project lives in."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(project: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(project), *args],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(project: Path) -> tuple[bool, str | None, str | None, bool | None]:
    """(is a repo, HEAD commit or None before the first commit, branch, dirty)."""
    if _git(project, "rev-parse", "--is-inside-work-tree") != "true":
        return False, None, None, None
    commit = _git(project, "rev-parse", "--verify", "--quiet", "HEAD")
    branch = _git(project, "symbolic-ref", "--short", "-q", "HEAD")
    porcelain = _git(project, "status", "--porcelain")
    dirty = None if porcelain is None else bool(porcelain)
    return True, commit or None, branch or None, dirty
