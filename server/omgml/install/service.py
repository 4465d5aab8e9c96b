"""Install omgml's MCP entry into a client's config (merging, with a backup), remove it, copy skills, check health."""

from __future__ import annotations

import difflib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from omgml.assets import asset_dir
from omgml.errors import InvalidInput, OmgmlError, parse_request
from omgml.install.clients import CLIENTS, SERVER_NAME, ClientSpec, client_spec, launch_for
from omgml.install.models import (
    InstallRequest,
    InstallResult,
    SkillsInstallRequest,
    SkillsInstallResult,
)
from omgml.workspace import Project, atomic_write


class ConfigFileError(OmgmlError):
    """A client config file omgml must not touch."""


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
        Malformed JSON is refused, never overwritten; a second run changes nothing.
    """
    request = parse_request(InstallRequest, request, "install")
    spec = client_spec(request.client)
    scope, path = _config_path(spec, request.scope, request.project_dir, root)
    entry = spec.entry(launch_for(request.launcher))

    def change(config: dict) -> None:
        servers = config.setdefault(spec.servers_key, {})
        if not isinstance(servers, dict):
            raise ConfigFileError(
                f"{path}: '{spec.servers_key}' is not an object",
                f"{spec.label} keeps its servers there as a JSON object",
                "fix that key by hand",
            )
        servers[SERVER_NAME] = entry

    return _edit(spec, scope, path, change, request.dry_run, entry, create=True)


def uninstall_client(request: InstallRequest | dict, *, root: Path | None = None) -> InstallResult:
    """Remove only omgml's entry from a client's MCP config; other servers and keys stay."""
    request = parse_request(InstallRequest, request, "install")
    spec = client_spec(request.client)
    scope, path = _config_path(spec, request.scope, request.project_dir, root)

    def change(config: dict) -> None:
        servers = config.get(spec.servers_key)
        if isinstance(servers, dict):
            servers.pop(SERVER_NAME, None)

    return _edit(spec, scope, path, change, request.dry_run, None, create=False)


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
        config = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"not valid JSON: {exc}"
    servers = config.get(spec.servers_key) if isinstance(config, dict) else None
    entry = servers.get(SERVER_NAME) if isinstance(servers, dict) else None
    return (entry if isinstance(entry, dict) else None), None


def config_paths(project: Path) -> list[tuple[ClientSpec, str, Path]]:
    """Every (client, scope, file) omgml can write, for ``doctor``."""
    paths = []
    for spec in CLIENTS:
        if spec.project_file:
            paths.append((spec, "project", project / spec.project_file))
        if spec.user_file:
            paths.append((spec, "user", spec.user_file()))
    return paths


def _home() -> Path:
    from omgml.install.clients import _home as home

    return home()


def _config_path(spec: ClientSpec, scope: str | None, project_dir: str, root: Path | None) -> tuple[str, Path]:
    scope = scope or ("project" if spec.project_file else "user")
    if scope == "project":
        if not spec.project_file:
            raise InvalidInput(
                f"{spec.label} has no project-scoped MCP config",
                f"it reads one file for the whole machine ({spec.user_file()})",
                "use --scope user",
            )
        return scope, Project.open(project_dir, root).root / spec.project_file
    return scope, spec.user_file()


def _edit(
    spec: ClientSpec, scope: str, path: Path, change, dry_run: bool, entry: dict | None, *, create: bool
) -> InstallResult:
    before_text = path.read_text(encoding="utf-8") if path.is_file() else None
    if path.exists() and before_text is None:
        raise ConfigFileError(
            f"{path} is not a file", f"{spec.label} expects its MCP config there", "move what is there aside"
        )
    if before_text is None:
        if not create:
            return InstallResult(
                client=spec.name,
                scope=scope,
                path=str(path),
                action="absent",
                backup=None,
                dry_run=dry_run,
                diff="",
                entry=None,
            )
        config: dict = dict(spec.new_file)
    else:
        config = _parse(spec, path, before_text)
    change(config)
    after_text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if before_text is not None and (config == json.loads(before_text)):
        action = "unchanged"
    else:
        action = "created" if before_text is None else ("updated" if entry is not None else "removed")
    diff = (
        ""
        if action == "unchanged"
        else "".join(
            difflib.unified_diff(
                (before_text or "").splitlines(keepends=True),
                after_text.splitlines(keepends=True),
                fromfile=f"{path} (before)",
                tofile=f"{path} (after)",
            )
        )
    )
    backup = None
    if action in ("updated", "removed") and not dry_run:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup_path = path.with_name(f"{path.name}.{stamp}.omgml-backup")
        shutil.copy2(path, backup_path)
        backup = str(backup_path)
    if action != "unchanged" and not dry_run:
        atomic_write(path, after_text)
    return InstallResult(
        client=spec.name,
        scope=scope,
        path=str(path),
        action=action,
        backup=backup,
        dry_run=dry_run,
        diff=diff,
        entry=entry,
    )


def _parse(spec: ClientSpec, path: Path, text: str) -> dict:
    if not text.strip():
        return dict(spec.new_file)
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise ConfigFileError(
            f"{path} is not valid JSON ({exc})",
            "omgml merges its entry into the existing config and will not overwrite a file it cannot read "
            "(comments, as JSONC allows, count as unreadable here)",
            f"fix the file by hand, or add this under '{spec.servers_key}': run with --dry-run to see the entry",
        ) from exc
    if not isinstance(config, dict):
        raise ConfigFileError(
            f"{path} is not a JSON object", f"{spec.label} expects an object at the top", "fix the file by hand"
        )
    return config


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
