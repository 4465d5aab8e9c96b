"""Where a tool may read and write: the ``Project`` handle (root, confinement, config) and its ``.omgml/`` ``Store``."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from omgml.config import ProjectConfig, load_config
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


class Report(BaseModel):
    """What every service returns, and what ``Store.save`` writes: one object for every face.

    ``kind`` names the capability (the folder under ``.omgml/reports/``); ``headline`` and ``ok`` let
    ``status`` show any kind of report without knowing its model.
    """

    kind: str = Field(description="which capability made this report")
    headline: str = Field(description="the answer in one line")
    ok: bool = Field(description="whether the answer is good news (what that means is the capability's own)")
    report_path: str | None = Field(
        None, description="the saved copy of this report, relative to the project; None when it was not saved"
    )


STAMP_KEYS = ("omgml_version", "created_at")  # what ``Store.stamp`` adds to every file it saves


class Store:
    """Everything omgml keeps under the project's ``.omgml/``: reports, contracts, reference profiles,
    fingerprints and deployment records. Every file it saves carries the omgml version and the time."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.dir = project / OMGML_DIR

    @property
    def contracts(self) -> Path:
        return self.dir / "contracts"

    @property
    def references(self) -> Path:
        return self.dir / "references"

    @property
    def deployments(self) -> Path:
        return self.dir / "deployments"

    @property
    def fingerprints(self) -> Path:
        return self.dir / "fingerprints.json"

    def reports(self, kind: str | None = None) -> Path:
        return self.dir / "reports" / kind if kind else self.dir / "reports"

    def stamp(self, payload: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """``payload`` with the omgml version and the time it is saved (a copy: the caller's object is untouched)."""
        from omgml._version import __version__

        now = now or datetime.now(UTC)
        return {**payload, "omgml_version": __version__, "created_at": now.isoformat(timespec="microseconds")}

    def write(self, path: Path, payload: dict[str, Any], *, compact: bool = False, now: datetime | None = None) -> Path:
        """Save ``payload`` as stamped JSON at ``path`` (inside ``.omgml/``), atomically."""
        stamped = self.stamp(payload, now)
        text = (
            json.dumps(stamped, separators=(",", ":"), default=str)
            if compact
            else json.dumps(stamped, indent=2, ensure_ascii=False, default=str)
        )
        atomic_write(path, text + "\n")
        return path

    def save(self, report: Report) -> Path:
        """Store one run under ``reports/<kind>/``; ``report.report_path`` is set first, so the file is the object."""
        now = datetime.now(UTC)
        path = self.reports(report.kind) / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{report.kind}.json"
        report.report_path = path.relative_to(self.project).as_posix()
        return self.write(path, report.model_dump(mode="json"), now=now)

    def history(self, kind: str) -> list[Path]:
        """Saved reports of one kind, oldest first (names sort by time)."""
        folder = self.reports(kind)
        return sorted(folder.glob(f"*-{kind}.json")) if folder.is_dir() else []


class Project:
    """The one handle a service receives: the project folder, its configuration, its paths and its store.

    ``config`` is read from ``omgml.toml`` when first asked for (None without one), so a service that does not
    need it (install, doctor, init) is not stopped by a broken file it never reads.
    """

    def __init__(self, root: Path, config: ProjectConfig | None = None) -> None:
        self.root = root
        if config is not None:
            self.config = config

    @cached_property
    def config(self) -> ProjectConfig | None:
        return load_config(self.root)

    @classmethod
    def open(cls, project_dir: str | os.PathLike[str] | None, root: Path | None, *, create: bool = False) -> Project:
        """The project at ``project_dir`` (confined under ``root`` when given; with ``create`` it may be missing)."""
        return cls(resolve_project_dir(project_dir, root, create=create))

    @property
    def store(self) -> Store:
        return Store(self.root)

    def resolve(self, path: str | os.PathLike[str], what: str) -> Path:
        """``path`` inside the project (symlinks resolved); a path that leaves it raises ``PathError``."""
        return resolve_inside(self.root, path, what)

    def rel(self, path: Path) -> str:
        """``path`` as the user names it: relative to the project, in forward slashes (as given when outside it)."""
        return project_relative(path, self.root)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when it is missing or unreadable (a cache or history may be damaged)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested past Python's limit
        return None
    return value if isinstance(value, dict) else None
