"""Where a tool may read and write: the project root, path confinement, atomic writes, ``.omgml/``."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omgml.errors import PathError

OMGML_DIR = ".omgml"
ROOT_ENV_VARS = ("OMGML_PROJECT_DIR", "CLAUDE_PROJECT_DIR")
SAVED_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # a saved contract's or reference profile's name


def default_root() -> Path:
    """The folder tools work in when no project dir is given: the first set env var, else the cwd."""
    for var in ROOT_ENV_VARS:
        value = os.environ.get(var)
        if value:
            return Path(value).expanduser().resolve()
    return Path.cwd().resolve()


def resolve_inside(root: Path, path: str | os.PathLike[str], what: str) -> Path:
    """Join ``path`` under ``root`` and refuse it when it (or a symlink on the way) leaves the root."""
    root = Path(root).resolve()
    candidate = (root / Path(path).expanduser()).resolve()
    if candidate != root and root not in candidate.parents:
        raise PathError(
            f"The {what} '{path}' resolves to {candidate}, outside the project root {root}",
            "tools only read and write inside the project root, so an agent cannot touch other files",
            f"give a path inside {root}, or start the server with OMGML_PROJECT_DIR set to a folder that contains it",
        )
    return candidate


def project_relative(path: Path, project: Path) -> str:
    """``path`` as the user names it: relative to the project, in forward slashes (as given when outside it)."""
    try:
        return path.relative_to(project).as_posix()
    except ValueError:
        return str(path)


def resolve_project_dir(project_dir: str | os.PathLike[str] | None, root: Path | None, *, create: bool = False) -> Path:
    """The project folder: ``project_dir`` under ``root`` (confined), or as given when ``root`` is None.

    With ``create`` a missing leaf folder is allowed (init makes it); its parent must exist.
    """
    if root is None:
        target = Path(project_dir or ".").expanduser().resolve()
    else:
        target = resolve_inside(root, project_dir or ".", "project dir")
    if target.exists() and not target.is_dir():
        raise PathError(
            f"The project dir {target} is a file, not a folder",
            "a project is a folder that holds omgml.toml, data/ and src/",
            "give the folder that contains it, or a new folder name",
        )
    if not target.exists():
        if create and target.parent.is_dir():
            return target
        hint = "create its parent folder first" if create else "check the path, or run `omgml init` there first"
        raise PathError(f"The project dir {target} does not exist", "there is nothing there to work on", hint)
    return target


def check_writable(folder: Path) -> None:
    """Prove ``folder`` accepts a new file by creating one (``os.access`` lies for root and on some mounts)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".omgml-probe-", dir=folder)
    except OSError as exc:
        raise PathError(
            f"Cannot write to {folder}",
            f"the operating system refused a new file there ({exc.strerror or exc})",
            "choose a folder you own, or change its permissions",
        ) from exc
    os.close(fd)
    os.unlink(probe)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write through a temporary file in the same folder and rename, so a reader never sees half a file."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_all_or_nothing(files: dict[Path, bytes]) -> None:
    """Create every file in ``files`` (none may exist yet); on any failure remove what this call made."""
    made_files: list[Path] = []
    made_dirs: list[Path] = []
    try:
        for path, payload in files.items():
            missing = [p for p in reversed(path.parents) if not p.exists()]
            for folder in missing:
                folder.mkdir()
                made_dirs.append(folder)
            atomic_write(path, payload)
            made_files.append(path)
    except BaseException:
        for path in made_files:
            path.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise


def omgml_dir(project: Path) -> Path:
    return project / OMGML_DIR


def save_report(project: Path, kind: str, *, summary: str, ok: bool, result: dict[str, Any]) -> Path:
    """Store one tool run under ``.omgml/reports/<kind>/`` for ``status`` and for people to read later.

    The envelope's ``summary`` and ``ok`` let ``status`` show any kind of report without knowing its model.
    """
    now = datetime.now(UTC)
    envelope = {
        "kind": kind,
        "created_at": now.isoformat(timespec="microseconds"),
        "omgml_version": _version(),
        "summary": summary,
        "ok": ok,
        "result": result,
    }
    folder = omgml_dir(project) / "reports" / kind
    path = folder / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{kind}.json"
    atomic_write(path, json.dumps(envelope, indent=2, default=str) + "\n")
    return path


def report_history(project: Path, kind: str) -> list[Path]:
    """Saved reports of one kind, oldest first (names sort by time)."""
    folder = omgml_dir(project) / "reports" / kind
    return sorted(folder.glob(f"*-{kind}.json")) if folder.is_dir() else []


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when it is missing or unreadable (a cache or history may be damaged)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _version() -> str:
    from omgml._version import __version__

    return __version__
