"""Where a tool may read and write: the ``Project`` handle (root, confinement, config) and its ``.omgml/`` ``Store``."""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import stat
import tempfile
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from omgml.config import ProjectConfig, load_config
from omgml.errors import OmgmlError, PathError

OMGML_DIR = ".omgml"
ROOT_ENV_VARS = ("OMGML_PROJECT_DIR", "CLAUDE_PROJECT_DIR")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where symlinks need privileges
SAVED_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # a saved contract's or reference profile's name
_WILDCARD = re.compile(r"[*?[]")  # what makes a path a glob (Python's glob module: *, ?, [...])


def default_root() -> Path:
    """The folder tools work in when no project dir is given: the first set env var, else the cwd."""
    for var in ROOT_ENV_VARS:
        value = os.environ.get(var)
        if value:
            return Path(value).expanduser().resolve()
    return Path.cwd().resolve()


def user_cache(*parts: str) -> Path:
    """A folder of omgml's in the user's cache ($XDG_CACHE_HOME, else ~/.cache): what is worth keeping between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "omgml", *parts)


NAME_MAX = 255  # bytes in one folder or file name on every common file system
PATH_MAX = 4095  # bytes in a whole path (Linux PATH_MAX less the NUL)


def _shown(text: str, limit: int = 80) -> str:
    """A path for a message: printable, and cut short when long."""
    shown = text.encode("unicode_escape", "backslashreplace").decode("ascii") if not text.isprintable() else text
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(text)} characters)"


def _check_spelling(full: str, what: str, text: str) -> None:
    """Refuse what no file system can name, before any system call turns it into a bare ValueError or OSError.

    ``full`` is checked; ``text`` is the path as the user gave it, for the message.
    """
    if "\x00" in full:
        raise PathError(
            f"The {what} '{_shown(text)}' contains a NUL byte",
            "no file name can hold one, so it cannot name a file",
            "remove the NUL (\\x00) character from the path",
        )
    try:
        encoded = os.fsencode(full)
    except UnicodeError as exc:
        raise PathError(
            f"The {what} '{_shown(text)}' cannot be spelled as a file name",
            f"it holds characters the file system encoding cannot store ({exc.reason})",
            "use a path made of ordinary characters",
        ) from exc
    longest = max(encoded.split(b"/"), key=len)
    if len(longest) > NAME_MAX:
        raise PathError(
            f"The {what} '{_shown(text)}' has a name {len(longest)} bytes long",
            f"file systems allow at most {NAME_MAX} bytes in one folder or file name",
            "use a shorter name",
        )
    if len(encoded) > PATH_MAX:
        raise PathError(
            f"The {what} '{_shown(text)}' is {len(encoded)} bytes long",
            f"the operating system accepts paths of at most {PATH_MAX} bytes",
            "use a shorter path",
        )


def too_broad(root: Path) -> str | None:
    """Why ``root`` is too broad to be a workspace (the file system's root, home, a system folder), or None."""
    if root == Path(root.anchor):
        return "the top of the file system"
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry: nothing to compare with
        home = None
    if home is not None and root == home:
        return "the home folder"
    if home is not None and root in home.parents:
        return "a folder above the home folder"
    if root in _system_folders():
        return "a system folder"
    return None


def _system_folders() -> set[Path]:
    """Folders the OS owns, resolved (``/bin`` is ``/usr/bin`` on a merged-usr system)."""
    names = ["/usr", "/etc", "/var", "/bin", "/sbin", "/lib", "/lib64", "/opt", "/proc", "/sys", "/dev", "/boot"]
    names += ["/root", "/srv", "/mnt", "/media", "/run", "/System", "/Library", "/Applications", "/Volumes"]
    names += ["/private", "/private/var", "/private/etc"]  # macOS: /etc and /var resolve here
    names += [os.environ.get(var, "") for var in ("SystemRoot", "ProgramFiles", "ProgramFiles(x86)", "ProgramData")]
    return {Path(name).resolve() for name in names if name}


def resolve_inside(root: Path, path: str | os.PathLike[str], what: str) -> Path:
    """Join ``path`` under ``root``, resolving symlinks at each component, and refuse it when it leaves the root.

    This is the one door to files: every path an argument, a config or the store names passes here
    right before it is opened, so a symlink (to a file, a folder, or ``.omgml`` itself) cannot lead a
    read or a write outside. A symlink that stays inside the root is followed.
    """
    root = Path(root).resolve()
    text = os.fspath(path)
    candidate = resolve_path(root / expand_home(text, what), what, text)
    if candidate != root and root not in candidate.parents:
        raise PathError(
            f"The {what} '{_shown(text)}' resolves to {_shown(str(candidate))}, outside the project root {root}",
            "tools only read and write inside the project root, so an agent cannot touch other files",
            f"give a path inside {root}, or start the server with OMGML_PROJECT_DIR set to a folder that contains it",
        )
    return candidate


def is_pattern(text: str) -> bool:
    """Whether ``text`` holds a glob wildcard."""
    return bool(_WILDCARD.search(text))


def resolve_pattern(root: Path, text: str, what: str) -> Path:
    """The glob ``text`` under ``root``: the folders before its first wildcard resolved inside the root (symlinks
    too), the rest kept as the pattern, which may not climb out with ``..``. What it matches is the caller's to
    check, match by match (a symlink among them may still lead out)."""
    parts = Path(text).parts
    first = next((i for i, part in enumerate(parts) if is_pattern(part)), len(parts))
    if ".." in parts[first:]:
        raise PathError(
            f"The {what} '{_shown(text)}' climbs with '..' after a wildcard",
            "where such a glob leads depends on what the wildcard matches, so it cannot be confined to the project",
            "write the folders before the wildcard, e.g. data/events/*.parquet",
        )
    base = resolve_inside(root, Path(*parts[:first]) if first else Path("."), what)
    pattern = base.joinpath(*parts[first:])
    _check_spelling(os.fspath(pattern), what, text)
    return pattern


def expand_home(text: str, what: str) -> Path:
    """``text`` with a leading ``~`` or ``~user`` expanded; a user with no home folder is a ``PathError``."""
    try:
        return Path(text).expanduser()
    except RuntimeError as exc:  # pathlib's "Could not determine home directory"
        user = text[1:].split("/", 1)[0]
        whose = f"no user '{user}' has a home folder here" if user else "this process has no home folder (HOME)"
        raise PathError(
            f"The {what} '{_shown(text)}' starts with ~{user}, but {whose}",
            "a leading ~ stands for a home folder, so the path names nothing",
            "give the path without the leading ~, or relative to the project",
        ) from exc


def resolve_path(path: Path, what: str, text: str | None = None) -> Path:
    """``path`` with symlinks resolved; a NUL, an overlong name or a symlink loop is a ``PathError``."""
    text = os.fspath(path) if text is None else text
    _check_spelling(os.fspath(path), what, text)
    try:
        return path.resolve()
    except RuntimeError as exc:  # Python 3.11 reports a symlink loop this way; later versions raise OSError
        raise PathError(
            f"The {what} '{_shown(text)}' goes through a symlink loop",
            f"a symlink on the way points back at itself, so it never reaches a file ({exc})",
            "remove or repoint the symlink",
        ) from exc
    except (OSError, ValueError) as exc:
        raise PathError(
            f"Cannot resolve the {what} '{_shown(text)}'",
            f"the operating system refused it ({getattr(exc, 'strerror', None) or exc})",
            "check the path",
        ) from exc


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
        text = os.fspath(project_dir or ".")
        target = resolve_path(expand_home(text, "project dir"), "project dir", text)
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


def atomic_write(path: Path, data: bytes | str, mode: int | None = None) -> None:
    """Write through a temporary file in the same folder and rename, so a reader never sees half a file.

    A replaced file keeps its mode (a user's 0600 config stays private); a new one gets ``mode`` (default
    0o666) less the umask, as ``open`` would give it. ``mkstemp`` is not used: its 0600 ignores the umask.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        keep = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        keep = None
    fd, tmp = _open_temp(path, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        if keep is not None:
            os.chmod(tmp, keep)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _open_temp(path: Path, mode: int) -> tuple[int, Path]:
    """A new temporary file beside ``path``, created with ``mode`` so the kernel applies the umask."""
    for _ in range(16):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def create_new(path: Path, data: bytes | str, mode: int = 0o666) -> bool:
    """Create ``path`` holding ``data`` only if it does not exist; False when it already does.

    The whole content goes to a temporary file first, which is then hard-linked to the final name:
    ``link`` fails when the name exists, so of many concurrent writers exactly one wins, and a
    reader sees either nothing or the winner's whole file. Where hard links are not supported, the
    final name is opened with ``O_EXCL`` (still exactly one winner). The file gets ``mode`` less the umask.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = _open_temp(path, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        try:
            os.link(tmp, path, follow_symlinks=False)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            return _create_exclusive(path, payload, mode)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _create_exclusive(path: Path, payload: bytes, mode: int) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return True


def ensure_folder(root: Path, folder: Path) -> list[Path]:
    """Make ``folder`` (inside ``root``, already resolved) and its missing parents; return the ones made here.

    A component that is a file is named in a ``PathError`` (``mkdir`` would only say "not a directory").
    """
    made: list[Path] = []
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        if current.is_dir():
            continue
        try:
            current.mkdir()
        except FileExistsError:
            if current.is_dir():  # another process made it between the check and the mkdir
                continue
            raise PathError(
                f"{project_relative(current, root)} is a file, not a folder",
                f"omgml keeps its files in the folder {project_relative(folder, root)}",
                f"move {current} away (or rename it), then run the command again",
            ) from None
        made.append(current)
    return made


def read_inside(root: Path, path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of the regular file ``path`` inside ``root``; the final component is opened without following
    a symlink, so one swapped in after the check cannot lead outside."""
    target = resolve_inside(root, path, what)
    try:
        fd = os.open(target, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PathError(
            f"Cannot read the {what} {project_relative(target, root)}",
            f"the operating system refused it ({exc.strerror or exc})",
            "check that it is a readable file",
        ) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder fails, a FIFO or device would block or never end
        os.close(fd)
        raise PathError(
            f"The {what} {project_relative(target, root)} is not a regular file",
            "omgml reads only ordinary files",
            "replace it with the file it should be",
        )
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def write_all_or_nothing(root: Path, files: dict[Path, bytes]) -> list[Path]:
    """Create every file in ``files`` that is still absent (each path resolved inside ``root``), never overwriting.

    Returns the files this call created; a file another writer made first is left as it is, and the caller
    compares it. On any failure, what this call made is removed again.
    """
    created: list[Path] = []
    made_files: list[Path] = []
    made_dirs: list[Path] = []
    base = Path(root).resolve()
    try:
        made_dirs += ensure_folder(base.parent, base)  # init may be making the project folder itself
        for path, payload in files.items():
            target = resolve_inside(base, path, "scaffold file")
            made_dirs += ensure_folder(base, target.parent)
            if create_new(target, payload):
                created.append(path)
                made_files.append(target)
    except BaseException:
        for target in made_files:
            target.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    return created


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
    html_path: str | None = Field(
        None, description="the HTML report saved beside it, relative to the project; None for a kind without one"
    )


STAMP_KEYS = ("omgml_version", "created_at")  # what ``Store.stamp`` adds to every file it saves
SHOWN_TIME = "%Y-%m-%d %H:%M:%S UTC"  # the save time in an HTML report's header (rendered again from the stamp)


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

    def write(
        self,
        path: Path,
        payload: dict[str, Any],
        *,
        compact: bool = False,
        now: datetime | None = None,
        create: bool = False,
    ) -> Path | None:
        """Save ``payload`` as stamped JSON at ``path`` (inside ``.omgml/``), atomically.

        With ``create`` the file is made only if absent (of concurrent writers exactly one wins) and None
        is returned when it already exists; otherwise it is replaced.
        """
        stamped = self.stamp(payload, now)
        text = (
            json.dumps(stamped, separators=(",", ":"), default=str)
            if compact
            else json.dumps(stamped, indent=2, ensure_ascii=False, default=str)
        )
        return self.write_text(path, text + "\n", create=create)

    def write_text(self, path: Path, text: str, *, create: bool = False) -> Path | None:
        """``text`` at ``path``, confined to the project: the one place the store writes a file."""
        root = Path(self.project).resolve()
        target = resolve_inside(root, path, "omgml store file")
        ensure_folder(root, target.parent)
        try:
            if create:
                return path if create_new(target, text) else None
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, "it is a folder")
            atomic_write(target, text)
        except OSError as exc:
            raise PathError(
                f"Cannot write {project_relative(target, root)}",
                f"the operating system refused it ({exc.strerror or exc})",
                "move away whatever is in its place, or free disk space, or fix the folder's permissions",
            ) from exc
        return path

    def read_json(self, path: Path) -> dict[str, Any] | None:
        """A JSON object saved in the store, or None when it is missing, damaged, or not confined to the project
        (reports, history and caches are evidence: a broken one is skipped, not fatal)."""
        try:
            value = json.loads(read_inside(self.project, path, "omgml store file"))
        except (OmgmlError, ValueError, RecursionError):
            return None
        return value if isinstance(value, dict) else None

    def listing(self, folder: Path, pattern: str = "*.json") -> list[Path]:
        """The files matching ``pattern`` in a store folder, sorted; entries whose symlinks leave the project are
        left out, and a store folder that itself leaves it raises ``PathError``."""
        real = resolve_inside(self.project, folder, "omgml store folder")
        if not real.is_dir():
            return []
        inside = []
        for entry in sorted(folder.glob(pattern)):
            try:
                resolve_inside(self.project, entry, "omgml store file")
            except PathError:
                continue
            inside.append(entry)
        return inside

    def save(self, report: Report) -> Path:
        """Store one run under ``reports/<kind>/`` as JSON, and as HTML beside it (same stem) when the kind has an
        HTML report; ``report_path`` and ``html_path`` are set first, so each file is the whole object."""
        now = datetime.now(UTC)
        path = self.reports(report.kind) / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{report.kind}.json"
        return self.save_at(path, report, now)

    def save_at(self, path: Path, report: Report, now: datetime | None = None) -> Path:
        """Save ``report`` as ``path`` (JSON) and its HTML beside it: a first save, or a later one replacing it."""
        from omgml.render import has_template, render  # render imports this module

        now = now or datetime.now(UTC)
        report.report_path = path.relative_to(self.project).as_posix()
        html = path.with_suffix(".html") if has_template(report, "html", self.project) else None
        report.html_path = html.relative_to(self.project).as_posix() if html else None
        if html is not None:
            created = now.strftime(SHOWN_TIME)
            self.write_text(html, render(report, "html", self.project, created_at=created))
        self.write(path, report.model_dump(mode="json"), now=now)
        return path

    def history(self, kind: str) -> list[Path]:
        """Saved reports of one kind, oldest first (names sort by time)."""
        return self.listing(self.reports(kind), f"*-{kind}.json")

    def keep_latest(self, kind: str, keep: int) -> None:
        """Delete all but the newest ``keep`` (at least one) reports of ``kind``, each JSON with its HTML: for a
        kind saved on every call, so that calls in a loop cannot fill the folder."""
        for old in self.history(kind)[: -max(keep, 1)]:
            for path in (old, old.with_suffix(".html")):
                try:
                    path.unlink(missing_ok=True)  # a symlink is removed itself, never what it points at
                except OSError:
                    pass  # housekeeping: a file that cannot be removed now is tried again by the next call


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

    def resolve_pattern(self, text: str, what: str) -> Path:
        """The glob ``text`` inside the project: its folder part resolved, its matches still to be checked."""
        return resolve_pattern(self.root, text, what)

    def rel(self, path: Path) -> str:
        """``path`` as the user names it: relative to the project, in forward slashes (as given when outside it)."""
        return project_relative(path, self.root)
