"""Install omgml's MCP entry into a client's config (merging, with a backup), remove it, copy skills, check health."""

from __future__ import annotations

import difflib
import stat
from datetime import UTC, datetime
from pathlib import Path

from omgml.assets import asset_dir
from omgml.errors import InvalidInput, PathError, parse_request
from omgml.install.clients import CLIENTS, SERVER_NAME, ClientSpec, client_spec, launch_for
from omgml.install.formats import ConfigFileError, dump, load
from omgml.install.models import (
    InstallRequest,
    InstallResult,
    SkillsInstallRequest,
    SkillsInstallResult,
)
from omgml.workspace import OMGML_DIR, Project, atomic_write, create_new, ensure_folder, too_broad


def install_client(request: InstallRequest | dict, *, root: Path | None = None) -> InstallResult:
    """Add (or refresh) omgml's server entry in one client's MCP config, keeping everything else.

    Parameters
    ----------
    request
        The client, the scope (project or user), the project folder and the launcher.
    root
        Folder the project dir must stay inside; None takes it as given.

    Returns
    -------
    InstallResult
        The file, what happened (created, updated, unchanged), the backup and the diff.
        A file that cannot be read is refused, never overwritten; a second run changes nothing; keys the
        user added to omgml's entry (env, autoApprove, disabled, timeout, ...) stay.
    """
    request = parse_request(InstallRequest, request, "install")
    spec = client_spec(request.client)
    scope, path, project = _config_path(spec, request.scope, request.project_dir, root)
    chosen = launch_for(request.launcher, scope, path)
    ours = spec.entry(chosen.launch)
    if spec.project_env:
        ours[spec.env_key] = {"OMGML_PROJECT_DIR": str(_project_for_env(spec, request.project_dir, root))}
    written: dict = {}

    def change(config: dict) -> None:
        written.update(merged_entry(spec, _get_entry(spec, config, path), ours))
        _put_entry(spec, config, path, written)

    result = _edit(spec, scope, path, project, change, request.dry_run, create=True)
    return result.model_copy(
        update={
            "entry": written,
            "next_step": spec.next_step.get(scope),
            "launcher": chosen.launcher,
            "launcher_reason": chosen.reason,
        }
    )


def uninstall_client(request: InstallRequest | dict, *, root: Path | None = None) -> InstallResult:
    """Remove only omgml's entry from a client's MCP config; other servers and keys stay."""
    request = parse_request(InstallRequest, request, "install")
    spec = client_spec(request.client)
    scope, path, project = _config_path(spec, request.scope, request.project_dir, root)
    return _edit(spec, scope, path, project, lambda config: _put_entry(spec, config, path, None), request.dry_run)


def merged_entry(spec: ClientSpec, existing: dict | None, ours: dict) -> dict:
    """omgml's keys over the user's entry: maps (env) merge key by key, defaults fill only what is absent."""
    entry = dict(existing or {})
    for key, value in ours.items():
        old = entry.get(key)
        entry[key] = {**old, **value} if isinstance(value, dict) and isinstance(old, dict) else value
    for key, value in spec.defaults.items():
        entry.setdefault(key, value)
    return entry


def install_skills(request: SkillsInstallRequest | dict, *, root: Path | None = None) -> SkillsInstallResult:
    """Copy the skill pack (every ``skills/<name>/``, the root skill among them as ``omgml/``) where each client looks."""
    request = parse_request(SkillsInstallRequest, request, "skills install")
    base = _home() if request.scope == "user" else Project.open(request.project_dir, root).root
    folders = sorted({base / getattr(client_spec(c), f"skills_{request.scope}") for c in request.clients})
    sources = _skill_files()
    created, unchanged, replaced, conflicts = [], [], [], []
    writes: dict[Path, bytes] = {}
    for folder in folders:
        for rel, payload in sources.items():
            target = folder / rel
            shown = str(target)
            if not target.exists():
                created.append(shown)
            elif target.is_file() and target.read_bytes() == payload:
                unchanged.append(shown)
                continue
            elif request.force and target.is_file():
                replaced.append(shown)
            else:
                conflicts.append(shown)
                continue
            writes[target] = payload
    if not request.dry_run:
        for target, payload in writes.items():
            atomic_write(target, payload)
    return SkillsInstallResult(
        folders=[str(f) for f in folders],
        created=created,
        unchanged=unchanged,
        replaced=replaced,
        conflicts=conflicts,
        dry_run=request.dry_run,
    )


def configured_entry(spec: ClientSpec, path: Path) -> tuple[dict | None, str | None]:
    """omgml's entry in a client config file, and a problem reading it if any."""
    if not path.is_file():
        return None, None
    try:
        return _get_entry(spec, load(spec.format, path.read_text(encoding="utf-8"), str(path)), path), None
    except UnicodeDecodeError as exc:
        return None, f"not valid {spec.format.upper()}: {exc}"
    except ConfigFileError as exc:
        return None, exc.what.removeprefix(f"{path}: ").removeprefix(f"{path} is ")


def config_paths(project: Path) -> list[tuple[ClientSpec, str, Path]]:
    """Every (client, scope, file) omgml can write, for ``doctor``."""
    paths = []
    for spec in CLIENTS:
        if spec.project_file:
            paths.append((spec, "project", project / spec.project_file))
        if spec.user_path:
            paths.append((spec, "user", spec.user_file()))
    return paths


def _home() -> Path:
    from omgml.install.clients import _home as home

    return home()


def _config_path(
    spec: ClientSpec, scope: str | None, project_dir: str, root: Path | None
) -> tuple[str, Path, Path | None]:
    """The scope, the config file, and the project it belongs to (None for user scope)."""
    scope = scope or ("project" if spec.project_file else "user")
    if scope == "project":
        if not spec.project_file:
            raise InvalidInput(
                f"{spec.label} has no project-scoped MCP config",
                f"it reads one file for the whole machine ({spec.user_file()})",
                "use --scope user",
            )
        project = Project.open(project_dir, root).root
        return scope, project / spec.project_file, project
    if not spec.user_path:
        raise InvalidInput(
            f"{spec.label} has no user-scoped MCP config",
            "it reads its servers from the project",
            "use --scope project",
        )
    return scope, spec.user_file(), None


def _servers(spec: ClientSpec, config: dict, path: Path, create: bool) -> dict | list | None:
    kind = list if spec.servers_list else dict
    servers = config.setdefault(spec.servers_key, kind()) if create else config.get(spec.servers_key)
    if servers is not None and not isinstance(servers, kind):
        raise ConfigFileError(
            f"{path}: '{spec.servers_key}' is not {'a list' if spec.servers_list else 'a mapping'}",
            f"{spec.label} keeps its servers there as {'a list' if spec.servers_list else 'a mapping'}",
            "fix that key by hand",
        )
    return servers


def _get_entry(spec: ClientSpec, config: dict, path: Path) -> dict | None:
    servers = _servers(spec, config, path, create=False)
    if isinstance(servers, list):
        found = [s for s in servers if isinstance(s, dict) and s.get("name") == SERVER_NAME]
        return found[0] if found else None
    entry = (servers or {}).get(SERVER_NAME)
    return entry if isinstance(entry, dict) else None


def _put_entry(spec: ClientSpec, config: dict, path: Path, entry: dict | None) -> None:
    """Set omgml's entry (None removes it), in place of the old one so the file's order stays."""
    if entry is None and spec.servers_key not in config:
        return
    servers = _servers(spec, config, path, create=True)
    if isinstance(servers, dict):
        if entry is None:
            servers.pop(SERVER_NAME, None)
        else:
            servers[SERVER_NAME] = entry
        return
    at = [i for i, s in enumerate(servers) if isinstance(s, dict) and s.get("name") == SERVER_NAME]
    for i in reversed(at):
        del servers[i]
    if entry is not None:
        servers.insert(at[0] if at else len(servers), entry)


def _edit(
    spec: ClientSpec, scope: str, path: Path, project: Path | None, change, dry_run: bool, *, create: bool = False
) -> InstallResult:
    try:
        before_text = path.read_text(encoding="utf-8") if path.is_file() else None
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"{path} is not UTF-8 text ({exc.reason})", f"{spec.label} reads it as text", "fix the file by hand"
        ) from exc
    if path.exists() and before_text is None:
        raise ConfigFileError(
            f"{path} is not a file", f"{spec.label} expects its MCP config there", "move what is there aside"
        )
    result = InstallResult(
        client=spec.name,
        scope=scope,
        path=str(path),
        action="absent",
        backup=None,
        dry_run=dry_run,
        diff="",
        entry=None,
    )
    if before_text is None and not create:
        return result
    before = load(spec.format, before_text, str(path)) if before_text is not None else None
    # parsed again rather than copied: change() edits nested maps in place
    config = load(spec.format, before_text, str(path)) if before else dict(spec.new_file)
    change(config)
    if before is not None and config == before:
        return result.model_copy(update={"action": "unchanged"})
    # omgml's own block file (Continue) goes away with its last entry rather than staying as an empty list.
    emptied = spec.servers_list and not create and not config.get(spec.servers_key)
    after_text = "" if emptied else dump(spec.format, config, before_text, (spec.servers_key, SERVER_NAME), str(path))
    action = "created" if before_text is None else ("updated" if create else "removed")
    diff = "".join(
        difflib.unified_diff(
            (before_text or "").splitlines(keepends=True),
            after_text.splitlines(keepends=True),
            fromfile=f"{path} (before)",
            tofile=f"{path} (after)",
        )
    )
    backup = None
    if not dry_run:
        if before_text is not None:
            backup = str(_backup(spec, path, project))
        if emptied:
            path.unlink()
        else:
            atomic_write(path, after_text)
    return result.model_copy(update={"action": action, "diff": diff, "backup": backup})


def _backup(spec: ClientSpec, path: Path, project: Path | None) -> Path:
    """Copy ``path`` to ``<project>/.omgml/backups/`` (user scope: ``~/.omgml/backups/``) under a new name.

    The name is ``<client>-<UTC time>-<file name>``; a name already taken gets ``-2``, ``-3``... (never
    overwritten). The copy keeps the original's mode, so a private config stays private.
    """
    base = project if project is not None else _home()
    folder = base / OMGML_DIR / "backups"
    ensure_folder(base, folder)  # a file named .omgml there is a PathError naming it, not a bare OSError
    if project is not None:
        create_new(folder / ".gitignore", "# omgml's copies of config files it changed: not for git\n*\n")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    payload, mode = path.read_bytes(), stat.S_IMODE(path.stat().st_mode)
    for n in range(1, 1000):
        target = folder / f"{spec.name}-{stamp}{'' if n == 1 else f'-{n}'}-{path.name}"
        if create_new(target, payload, mode):
            return target
    raise ConfigFileError(f"No free backup name in {folder}", "omgml never overwrites a backup", f"clean up {folder}")


def _skill_files() -> dict[str, bytes]:
    """The skill pack as (relative path -> bytes): every ``skills/<name>/`` file.

    The root skill is among them as ``skills/omgml/`` (generated from the top-level SKILL.md with its links made
    relative to that folder); the top-level file itself, shipped as ``skills/SKILL.md``, would land on the same
    ``omgml/SKILL.md`` marked internal, so it is not copied.
    """
    skills = asset_dir("skills")
    return {
        path.relative_to(skills).as_posix(): path.read_bytes()
        for path in sorted(skills.rglob("*"))
        if path.is_file() and path.parent != skills and "__pycache__" not in path.parts
    }


def _project_for_env(spec: ClientSpec, project_dir: str, root: Path | None) -> Path:
    """The project a client without a working directory is pinned to; the server would refuse a broad one."""
    project = Project.open(project_dir, root).root
    problem = too_broad(project)
    if problem:
        raise PathError(
            f"{spec.name} would be pinned to {project}, {problem}",
            f"{spec.name} starts servers in '/', so omgml works in the folder this install names, "
            "and one this broad confines nothing (the server refuses it)",
            f"run `omgml install {spec.name} --project-dir <your project folder>`",
        )
    return project
